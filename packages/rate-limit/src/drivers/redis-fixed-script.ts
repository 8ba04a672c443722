import { createHash } from 'node:crypto';

/**
 * The fixed window's own script, lighter than the general one: the window's count is a plain
 * string key named by the window's start (`<key>:<start>`), incremented first and decremented
 * back when that goes over the limit (the script is atomic: no other check sees the overshoot),
 * given the window's expiry when it is created; a block is a key of its own (`<key>:b`), read
 * only when the tier has `blockFor`. One command for an admitted check on a live window. Both keys share the client's `{hash tag}`, so the
 * script touches one Cluster slot.
 *
 * KEYS[1] the window's count, KEYS[2] the block (its end, in ms; only with blockFor); ARGV: cost,
 * limit, ms until the window ends, commit (1 = consume, 0 = peek; may be left out for 1), and only
 * with blockFor: blockFor ms, now ms. An admitted check without blockFor sends one key and three
 * arguments.
 * Returns { allowed (1|0), remaining, resetMs, retryAfterMs }.
 */
export const FIXED_SCRIPT = `local cost = tonumber(ARGV[1])
local L = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local commit = ARGV[4] ~= '0'
local blockFor = tonumber(ARGV[5] or '0')
local now = tonumber(ARGV[6] or '0')
if blockFor > 0 then
  local b = tonumber(redis.call('GET', KEYS[2]) or '0')
  if b > now then return {0, 0, b - now, b - now} end
end
if commit then
  -- Count first, undo if over: one command for an admitted check on a live window.
  local n
  if math.floor(cost) == cost then n = redis.call('INCRBY', KEYS[1], ARGV[1])
  else n = tonumber(redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])) end
  if n == cost then redis.call('PEXPIRE', KEYS[1], ttl) end
  if n <= L then return {1, math.floor(L - n), ttl, 0} end
  local cur = n - cost
  if cur == 0 then redis.call('DEL', KEYS[1])
  elseif math.floor(cost) == cost then redis.call('DECRBY', KEYS[1], ARGV[1])
  else redis.call('INCRBYFLOAT', KEYS[1], -cost) end
  if blockFor > 0 then
    redis.call('SET', KEYS[2], now + blockFor, 'PX', blockFor)
    local wait = math.max(ttl, blockFor)
    return {0, math.max(0, math.floor(L - cur)), wait, wait}
  end
  return {0, math.max(0, math.floor(L - cur)), ttl, ttl}
end
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur + cost <= L then return {1, math.floor(L - cur - cost), ttl, 0} end
return {0, math.max(0, math.floor(L - cur)), ttl, ttl}`;
export const FIXED_SHA = createHash('sha1').update(FIXED_SCRIPT).digest('hex');
