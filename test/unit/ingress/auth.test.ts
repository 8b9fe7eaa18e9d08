import { bearerToken, matchesAnyToken } from '../../../lib/auth/constant-time';
import { parseTokenSecret, SecretTokenSource } from '../../../lib/auth/token-source';
import { WebhookAuthenticator } from '../../../lib/auth/webhook-authenticator';
import { StaticTokenSource } from '../../../lib/auth/token-source';

describe('bearerToken', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['Bearer   abc  ', 'abc'],
    ['Basic abc', undefined],
    ['Bearer', undefined],
    ['Bearer a b', undefined],
    [undefined, undefined],
  ])('%s → %s', (header, expected) => {
    expect(bearerToken(header)).toBe(expected);
  });
});

describe('matchesAnyToken', () => {
  it.each([
    ['current', ['current', 'previous'], true],
    ['previous', ['current', 'previous'], true],
    ['other', ['current', 'previous'], false],
    ['curren', ['current'], false],
    ['currentX', ['current'], false],
    ['', ['', 'x'], false],
    ['x', [], false],
  ])('%s in %j → %s', (presented, accepted, expected) => {
    expect(matchesAnyToken(presented, accepted)).toBe(expected);
  });
});

describe('WebhookAuthenticator', () => {
  const auth = new WebhookAuthenticator(new StaticTokenSource(['new-token', 'old-token']));
  it.each([
    [{}, { ok: false, reason: 'missing-token' }],
    [{ authorization: 'Bearer wrong' }, { ok: false, reason: 'invalid-token' }],
    [{ authorization: 'Basic new-token' }, { ok: false, reason: 'missing-token' }],
    [{ authorization: 'Bearer new-token' }, { ok: true }],
    [{ authorization: 'Bearer old-token' }, { ok: true }],
  ])('%j → %j', async (headers, expected) => {
    expect(await auth.authenticate(headers)).toEqual(expected);
  });
});

describe('parseTokenSecret', () => {
  it.each([
    ['a,b', ['a', 'b']],
    [' a , ,b ', ['a', 'b']],
    ['["a","b"]', ['a', 'b']],
    ['{"tokens":["a"]}', ['a']],
  ])('%s', (value, expected) => {
    expect(parseTokenSecret(value)).toEqual(expected);
  });
  it.each(['', ' , ', '[]', '{"x":1}', '[1]'])('rejects %j', (value) => {
    expect(() => parseTokenSecret(value)).toThrow(expect.objectContaining({ name: 'ConfigurationError' }));
  });
});

describe('SecretTokenSource', () => {
  it('caches for the TTL and picks up a rotation after it', async () => {
    let now = 0;
    let value = 'a';
    const reads: string[] = [];
    const source = new SecretTokenSource(
      { read: async (arn) => (reads.push(arn), value) },
      'arn:secret',
      1000,
      () => now,
    );
    expect(await source.tokens()).toEqual(['a']);
    value = 'a,b';
    now = 999;
    expect(await source.tokens()).toEqual(['a']);
    now = 1000;
    expect(await source.tokens()).toEqual(['a', 'b']);
    expect(reads).toHaveLength(2);
  });
});
