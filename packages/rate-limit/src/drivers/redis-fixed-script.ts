import { createHash } from 'node:crypto';

/**
 * The fixed window's own script, lighter than the general one: the window's count is a plain
 * string key named by the window's start (`<key>:<start>`), created with the window's expiry and
 * then only incremented, and a block is a key of its own (`<key>:b`), read only when the tier has
 * `blockFor`. Two commands per admitted check. Both keys share the client's `{hash tag}`, so the
 * script touches one Cluster slot.
 *
 * KEYS[1] the window's count, KEYS[2] the block (its end, in ms; only with blockFor); ARGV: cost,
 * limit, ms until the window ends, commit (1 = consume, 0 = peek), and only with blockFor:
 * blockFor ms, now ms. A tier without blockFor sends one key and four arguments.
 * Returns { allowed (1|0), remaining, resetMs, retryAfterMs }.
 */
export const FIXED_SCRIPT = `local cost = tonumber(ARGV[1])
local L = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local commit = ARGV[4] == '1'
local blockFor = tonumber(ARGV[5] or '0')
local now = tonumber(ARGV[6] or '0')
if blockFor > 0 then
  local b = tonumber(redis.call('GET', KEYS[2]) or '0')
  if b > now then return {0, 0, b - now, b - now} end
end
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur + cost <= L then
  if commit then
    if cur == 0 then redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
    elseif math.floor(cost) == cost then redis.call('INCRBY', KEYS[1], ARGV[1])
    else redis.call('INCRBYFLOAT', KEYS[1], ARGV[1]) end
  end
  return {1, math.floor(L - cur - cost), ttl, 0}
end
if commit and blockFor > 0 then
  redis.call('SET', KEYS[2], now + blockFor, 'PX', blockFor)
  local wait = math.max(ttl, blockFor)
  return {0, math.max(0, math.floor(L - cur)), wait, wait}
end
return {0, math.max(0, math.floor(L - cur)), ttl, ttl}`;

export const FIXED_SHA = createHash('sha1').update(FIXED_SCRIPT).digest('hex');
