//! The Lua scripts: each runs atomically in Redis, on the two keys of one token (one cluster
//! slot, thanks to their hash tag).

use std::sync::LazyLock;

use redis::Script;

/// Stores an answer unless a tombstone is there; drops the token's lease.
///
/// `KEYS[1]` entry, `KEYS[2]` lease; `ARGV[1]` the value (`V…` or `N…`), `ARGV[2]` its TTL
/// (ms). Returns `''` when stored, the tombstone (`T<until ms>`) when one refused it.
pub(crate) static PUT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 1) == 'T' then
  return v
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('DEL', KEYS[2])
return ''
",
    )
});

/// Writes (or extends) a tombstone, replacing any answer, drops the lease, and publishes the
/// revocation on the bus, in one step.
///
/// `KEYS[1]` entry, `KEYS[2]` lease; `ARGV[1]` the value (`T<until ms>`), `ARGV[2]` its TTL
/// (ms), `ARGV[3]` until (ms), `ARGV[4]` the bus channel, `ARGV[5]` the bus message. A
/// tombstone already there with a later `until` is kept. Returns the number of subscribers
/// the message reached.
pub(crate) static REVOKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local v = redis.call('GET', KEYS[1])
local keep = false
if v and string.sub(v, 1, 1) == 'T' then
  local old = tonumber(string.sub(v, 2))
  if old and old >= tonumber(ARGV[3]) then
    keep = true
  end
end
if not keep then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
redis.call('DEL', KEYS[2])
return redis.call('PUBLISH', ARGV[4], ARGV[5])
",
    )
});

/// Takes a token's lease, unless its entry is already there, in one step: an answer written
/// between a process's read and its lease is not verified again.
///
/// `KEYS[1]` entry, `KEYS[2]` lease; `ARGV[1]` this process's lease token, `ARGV[2]` the
/// lease (ms). Returns the entry when there is one, else `+` (the lease is this process's)
/// or `-` (another process holds it).
pub(crate) static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local v = redis.call('GET', KEYS[1])
if v then
  return v
end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return '+'
end
return '-'
",
    )
});
