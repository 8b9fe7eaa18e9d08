import { translateNetworkError } from '../../../lib/adapters/kube/errors';
import {
  asTmcError,
  CONNECTION_ERROR_CODES,
  connectionErrorCode,
  DeadlineExceededError,
} from '../../../lib/errors/tmc-error';

const withCode = (code: string, message = 'x'): Error => Object.assign(new Error(message), { code });
const ctx = { target: 'east', object: 'apps/v1/deployments default/web' };

describe('connection error codes: one list for asTmcError and the kube adapter', () => {
  it.each([...CONNECTION_ERROR_CODES])(
    '%s is a NetworkError (retried with backoff), on the error or wrapped',
    (code) => {
      expect(asTmcError(withCode(code))).toMatchObject({ name: 'NetworkError', category: 'network', retryable: true });
      // The AWS SDK wraps Node's error: the code is on a cause, up to a few levels down.
      const wrapped = new Error('socket hang up', { cause: new Error('inner', { cause: withCode(code) }) });
      expect(connectionErrorCode(wrapped)).toBe(code);
      expect(asTmcError(wrapped).category).toBe('network');
      expect(translateNetworkError(withCode(code), ctx).message).toBe(
        `east is unreachable (${code}) while requesting ${ctx.object}`,
      );
    },
  );

  it('covers the codes of a refused, reset, timed-out and unresolved connection', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT'])
      expect(CONNECTION_ERROR_CODES.has(code)).toBe(true);
  });

  it('a mistyped endpoint (ENOTFOUND) says what to check', () => {
    const err = asTmcError(withCode('ENOTFOUND', 'getaddrinfo ENOTFOUND dynamodb.us-esat-1.amazonaws.com'));
    expect(err.message).toContain('getaddrinfo ENOTFOUND dynamodb.us-esat-1.amazonaws.com');
    expect(err.message).toContain('check the endpoint tmc is configured with');
  });

  it('a deliberate abort (ABORT_ERR: a stop, a deadline) is not turned into a network error', () => {
    expect(CONNECTION_ERROR_CODES.has('ABORT_ERR')).toBe(false);
    const abort = Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
    expect(asTmcError(abort).category).toBe('internal');
    expect(asTmcError(new Error('wrapped', { cause: abort })).category).toBe('internal');
    // The invocation's deadline aborts with its own error, which stays what it is.
    const deadline = new DeadlineExceededError('The invocation reached its deadline');
    expect(asTmcError(deadline)).toBe(deadline);
  });

  it("the kube transport's own abort or timeout is still an unreachable cluster, by name", () => {
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
    expect(translateNetworkError(abort, ctx)).toMatchObject({ name: 'ClusterUnreachableError', cluster: 'east' });
    const timeout = Object.assign(new Error('timed out'), { name: 'TimeoutError', code: 23 });
    expect(translateNetworkError(timeout, ctx).name).toBe('ClusterUnreachableError');
  });

  it('anything else stays internal', () => {
    expect(asTmcError(withCode('ENOENT')).category).toBe('internal');
    expect(asTmcError(new Error('boom')).category).toBe('internal');
  });
});
