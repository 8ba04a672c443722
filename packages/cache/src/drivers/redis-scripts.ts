import { createHash } from 'node:crypto';

// The Lua scripts of the Redis driver, sent by SHA (EVALSHA) with EVAL as the fallback.

// Deletes the lock only while it still holds this token.
export const UNLOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

// Adds a key to a tag set and keeps the set alive at least as long as the key (ARGV[2] ms, 0 =
// forever). One key per script, so it runs on Redis Cluster too.
export const TAG = `local fresh = redis.call('exists', KEYS[1]) == 0
redis.call('sadd', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if ttl == 0 then redis.call('persist', KEYS[1]) return 1 end
local cur = redis.call('pttl', KEYS[1])
if fresh or (cur >= 0 and cur < ttl) then redis.call('pexpire', KEYS[1], ttl) end
return 1`;

// The value, or 1 when the lock was taken, or 0 when another holds it: one round trip for the
// read and the lock of a cold getOrSet. Two keys, so standalone Redis only.
export const GET_OR_LOCK = `local v = redis.call('get', KEYS[1])
if v then return v end
if redis.call('set', KEYS[2], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end
return 0`;

// The end of a write in one round trip: SET (PX ARGV[2] ms, 0 = no expiry), index the key under
// each tag in KEYS[3..] (as TAG does), release the lock KEYS[2] if it holds ARGV[3], publish
// ARGV[5] on ARGV[4]. The publish comes last so that a waiter woken by it finds the value.
export const COMMIT = `local ttl = tonumber(ARGV[2])
if ttl > 0 then redis.call('set', KEYS[1], ARGV[1], 'PX', ttl) else redis.call('set', KEYS[1], ARGV[1]) end
for i = 3, #KEYS do
  local fresh = redis.call('exists', KEYS[i]) == 0
  redis.call('sadd', KEYS[i], KEYS[1])
  if ttl == 0 then redis.call('persist', KEYS[i]) else
    local cur = redis.call('pttl', KEYS[i])
    if fresh or (cur >= 0 and cur < ttl) then redis.call('pexpire', KEYS[i], ttl) end
  end
end
if ARGV[3] ~= '' and redis.call('get', KEYS[2]) == ARGV[3] then redis.call('del', KEYS[2]) end
if ARGV[4] ~= '' then redis.call('publish', ARGV[4], ARGV[5]) end
return 1`;

const sha1 = (script: string) => createHash('sha1').update(script).digest('hex');
export const UNLOCK_SHA = sha1(UNLOCK);
export const TAG_SHA = sha1(TAG);
export const GET_OR_LOCK_SHA = sha1(GET_OR_LOCK);
export const COMMIT_SHA = sha1(COMMIT);
