import { describe, expect, it } from 'vitest';
import { CoreErrorCode, describeError, errorGuard, isOrgError, OrgError } from '../src/index.js';

class CacheLikeError extends OrgError<'ERR_CACHE_X' | 'ERR_CACHE_Y'> {
  override name = 'CacheLikeError';
}
const isCacheLike = errorGuard<CacheLikeError>('ERR_CACHE_');

describe('OrgError', () => {
  it('carries code, message, cause and name; is an Error', () => {
    const cause = new Error('inner');
    const err = new CacheLikeError('ERR_CACHE_X', 'do this', { cause });
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(OrgError);
    expect(err).toBeInstanceOf(CacheLikeError);
    expect(err.code).toBe('ERR_CACHE_X');
    expect(err.message).toBe('do this');
    expect(err.cause).toBe(cause);
    expect(err.name).toBe('CacheLikeError');
    expect(String(err)).toBe('CacheLikeError: do this');
    expect(Object.hasOwn(err, 'cause')).toBe(true);
    expect(Object.hasOwn(new OrgError('ERR_CORE_INVALID_ARGUMENT', 'x'), 'cause')).toBe(false);
  });

  it('is recognised across copies of core (a brand, not a prototype)', () => {
    // What a second copy of core would make: another class, the same registered symbol.
    class OtherCopy extends Error {
      readonly code = 'ERR_CACHE_Y';
      constructor() {
        super('from another copy');
        Object.defineProperty(this, Symbol.for('@org/core.error'), { value: true });
      }
    }
    const foreign = new OtherCopy();
    expect(isOrgError(foreign)).toBe(true);
    expect(isOrgError(foreign, 'ERR_CACHE_Y')).toBe(true);
    expect(isOrgError(foreign, 'ERR_CACHE_X')).toBe(false);
    expect(foreign instanceof OrgError).toBe(true);
    // A subclass keeps the ordinary prototype check; its guard crosses copies.
    expect(foreign instanceof CacheLikeError).toBe(false);
    expect(isCacheLike(foreign)).toBe(true);
    expect(isCacheLike(foreign, 'ERR_CACHE_Y')).toBe(true);
    expect(isCacheLike(foreign, 'ERR_CACHE_X')).toBe(false);
  });

  it('guards refuse look-alikes without the brand and other prefixes', () => {
    const plain = Object.assign(new Error('x'), { code: 'ERR_CACHE_X' });
    expect(isOrgError(plain)).toBe(false);
    expect(isCacheLike(plain)).toBe(false);
    expect(isCacheLike(new OrgError('ERR_STORAGE_X', 'x'))).toBe(false);
    for (const v of [null, undefined, 1, 'ERR_CACHE_X', {}]) expect(isOrgError(v)).toBe(false);
    expect(new CacheLikeError('ERR_CACHE_X', 'x') instanceof CacheLikeError).toBe(true);
    expect({} instanceof OrgError).toBe(false);
  });

  it('serialises without its cause', () => {
    const err = new OrgError('ERR_CORE_INVALID_ARGUMENT', 'bad', { cause: { password: 'p' } });
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      name: 'OrgError',
      code: 'ERR_CORE_INVALID_ARGUMENT',
      message: 'bad',
    });
    expect(CoreErrorCode).toEqual({
      Aborted: 'ERR_ABORTED',
      Timeout: 'ERR_TIMEOUT',
      InvalidArgument: 'ERR_CORE_INVALID_ARGUMENT',
    });
  });

  it('describeError bounds what it renders', () => {
    expect(describeError(new Error('boom'))).toBe('boom');
    expect(describeError('x'.repeat(500), 10)).toHaveLength(10);
    expect(describeError(42)).toBe('42');
    const hostile = {
      toString() {
        throw new Error('no');
      },
    };
    expect(describeError(hostile)).toBe('object');
  });
});
