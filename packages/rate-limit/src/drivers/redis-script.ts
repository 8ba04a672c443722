import { createHash } from 'node:crypto';
import type { Rule } from '../tiers.js';

/**
 * The one Lua script of the Redis store: the arithmetic of algorithms.ts on a hash of fields
 * a, b, c (per algorithm) and k (end of a block), in one atomic round trip on one key, so that it
 * runs on Redis Cluster. A refused request writes nothing unless it starts a block.
 *
 * Within one window only the count is written; the whole hash and its expiry are written when a
 * window begins, a block starts, or (token bucket) on every admitted request.
 *
 * KEYS[1] the key; ARGV: the rule (`<f|s|t> <limit> <window ms> <refill per window> <blockFor ms>`,
 * one string made once per rule, so a check sends few arguments), cost, now ms, commit (1 =
 * consume, 0 = peek).
 * Returns { allowed (1|0), remaining, resetMs, retryAfterMs }.
 */
export const LIMIT_SCRIPT = `local key = KEYS[1]
local algo, sL, sW, sRate, sBlock = string.match(ARGV[1], '^(%a) ([^ ]+) ([^ ]+) ([^ ]+) ([^ ]+)$')
local L = tonumber(sL)
local W = tonumber(sW)
local rate = tonumber(sRate)
local blockFor = tonumber(sBlock)
local cost = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local commit = ARGV[4] == '1'
local v = redis.call('HMGET', key, 'a', 'b', 'c', 'k')
local a, b, c, k = tonumber(v[1]), tonumber(v[2]), tonumber(v[3]), tonumber(v[4]) or 0
if k > now then return {0, 0, k - now, k - now} end
local allowed, remaining, reset, retry, ttl
local rolled = true
if algo == 't' then
  local r = rate / W
  if a == nil then a = L; b = now end
  local tokens = math.min(L, a + math.max(0, now - b) * r)
  allowed = tokens >= cost
  local left = tokens
  if allowed then left = tokens - cost end
  remaining = math.floor(left)
  reset = math.ceil((L - left) / r)
  if allowed then retry = 0 else retry = math.ceil((cost - tokens) / r) end
  if allowed then a = left; b = now end
  c = 0
  ttl = reset
else
  local start = now - (now % W)
  local prev, cur = c or 0, b or 0
  rolled = a ~= start
  if rolled then
    if algo == 's' and a ~= nil and start - a == W then prev = b else prev = 0 end
    cur = 0
  end
  local e = now - start
  reset = W - e
  local weighted = 0
  if algo == 's' then weighted = prev * (W - e) / W end
  allowed = weighted + cur + cost <= L
  local used = weighted + cur
  if allowed then used = used + cost end
  remaining = math.max(0, math.floor(L - used))
  retry = 0
  if not allowed then
    if algo == 'f' then retry = reset
    elseif prev > 0 and cur + cost <= L then retry = math.max(1, math.ceil(W - (L - cur - cost) * W / prev - e))
    else
      local nxt = 0
      if cur > 0 then nxt = math.max(0, math.ceil(W * (1 - (L - cost) / cur))) end
      retry = W - e + nxt
    end
  end
  a = start
  if allowed then b = cur + cost else b = cur end
  c = prev
  if algo == 's' then ttl = reset + W else ttl = reset end
end
if not commit then return {allowed and 1 or 0, remaining, reset, retry} end
if not allowed and blockFor > 0 then
  k = now + blockFor
  retry = math.max(retry, blockFor)
  reset = math.max(reset, blockFor)
  ttl = math.max(ttl, blockFor)
elseif not allowed then
  return {0, remaining, reset, retry}
end
-- %.17g: a number passed to redis.call as is keeps only 14 digits.
local function n(x) return string.format('%.17g', x) end
if rolled or k > now then
  redis.call('HSET', key, 'a', n(a), 'b', n(b), 'c', n(c), 'k', n(k))
  redis.call('PEXPIRE', key, math.max(1, math.ceil(ttl)))
else
  -- The same window: only the count moves, and the expiry set when it began still holds.
  redis.call('HSET', key, 'b', n(b))
end
return {allowed and 1 or 0, remaining, reset, retry}`;

export const LIMIT_SHA = createHash('sha1').update(LIMIT_SCRIPT).digest('hex');

const ALGO_CODE = { 'fixed-window': 'f', 'sliding-window': 's', 'token-bucket': 't' } as const;

const specs = new WeakMap<Rule, string>();

/** The rule as the script's first argument, made once per rule. */
export function ruleSpec(rule: Rule): string {
  let spec = specs.get(rule);
  if (spec === undefined) {
    const { algorithm, limit, windowMs, refillRate, blockForMs } = rule;
    spec = `${ALGO_CODE[algorithm]} ${limit} ${windowMs} ${refillRate} ${blockForMs}`;
    specs.set(rule, spec);
  }
  return spec;
}
