import { rotateTokenSecret, rotateWebhookToken, type TokenSecretStore } from '../../../lib/auth/token-rotation';
import { parseTokenEntries, parseTokenSecret, SecretTokenSource } from '../../../lib/auth/token-source';
import { WebhookAuthenticator } from '../../../lib/auth/webhook-authenticator';

const T0 = Date.parse('2026-12-06T08:00:00.000Z');
const MINUTE = 60_000;

describe('rotateTokenSecret', () => {
  it.each([
    ['a single plain token', 'old', ['new', 'old'], [undefined, '2026-12-06T08:15:00.000Z']],
    [
      'a comma list',
      'old,older',
      ['new', 'old', 'older'],
      [undefined, '2026-12-06T08:15:00.000Z', '2026-12-06T08:15:00.000Z'],
    ],
    [
      'a token already expiring sooner keeps its own end',
      '{"tokens":["old",{"token":"older","expiresAt":"2026-12-06T08:05:00.000Z"}]}',
      ['new', 'old', 'older'],
      [undefined, '2026-12-06T08:15:00.000Z', '2026-12-06T08:05:00.000Z'],
    ],
    [
      'an expired token is dropped',
      '{"tokens":["old",{"token":"gone","expiresAt":"2026-12-06T07:59:59.000Z"}]}',
      ['new', 'old'],
      [undefined, '2026-12-06T08:15:00.000Z'],
    ],
  ])('%s', (_name, before, tokens, expiries) => {
    const after = parseTokenEntries(rotateTokenSecret(before, 'new', 15 * MINUTE, T0));
    expect(after.map((e) => e.token)).toEqual(tokens);
    expect(after.map((e) => (e.expiresAt === undefined ? undefined : new Date(e.expiresAt).toISOString()))).toEqual(
      expiries,
    );
  });
});

describe('a webhook token rotation with a grace period', () => {
  it('accepts old and new during the grace period, only the new one after it, in a container that cached the secret', async () => {
    const secrets = new Map([['arn:tokens', '["old"]']]);
    const store: TokenSecretStore = {
      read: async (arn) => secrets.get(arn) ?? '',
      write: async (arn, value) => void secrets.set(arn, value),
    };
    let now = T0;
    // A container that read the secret before the rotation and re-reads it after its 60 s cache.
    const auth = new WebhookAuthenticator(new SecretTokenSource(store, 'arn:tokens', MINUTE, () => now));
    expect(await auth.authenticate({ authorization: 'Bearer old' })).toEqual({ ok: true });

    const rotated = await rotateWebhookToken(store, 'arn:tokens', { graceMs: 15 * MINUTE, now, token: 'new' });
    expect(rotated).toEqual({ previousAcceptedUntil: new Date(T0 + 15 * MINUTE), previousCount: 1 });
    // install --token-secret takes the first token: the new one.
    expect(parseTokenSecret(secrets.get('arn:tokens') ?? '', now)[0]).toBe('new');

    now += MINUTE;
    expect(await auth.authenticate({ authorization: 'Bearer new' })).toEqual({ ok: true });
    expect(await auth.authenticate({ authorization: 'Bearer old' })).toEqual({ ok: true });
    now = T0 + 15 * MINUTE - 1;
    expect(await auth.authenticate({ authorization: 'Bearer old' })).toEqual({ ok: true });
    // The grace period ends in every container at the same moment, cached secret or not.
    now = T0 + 15 * MINUTE;
    expect(await auth.authenticate({ authorization: 'Bearer old' })).toEqual({ ok: false, reason: 'invalid-token' });
    expect(await auth.authenticate({ authorization: 'Bearer new' })).toEqual({ ok: true });
  });

  it('refuses a secret whose every token has expired rather than accepting none silently', () => {
    expect(() => parseTokenSecret('[{"token":"old","expiresAt":"2026-12-06T07:00:00.000Z"}]', T0)).toThrow(
      expect.objectContaining({ name: 'ConfigurationError' }),
    );
  });
});
