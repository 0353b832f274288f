//! Whether every part of the store answers.
//!
//! Standalone Redis: a `PING`. Redis Cluster: a failed master takes only its slots down, and
//! redis-rs's `PING` to "all primaries" skips a master whose connection is gone, so it may
//! answer while a third of the keys cannot be written (a logout's tombstone among them). The
//! check therefore reads one key in each slot range `CLUSTER SLOTS` lists: a range whose
//! master is down fails (its node refuses the connection, or the others answer `MOVED` to
//! it or `CLUSTERDOWN`), and once a replica took over, the `MOVED` to it refreshes
//! redis-rs's slot map and the check passes again.

use std::time::Duration;

use futures_util::future::join_all;
use redis::Value;

use crate::backend::{CallError, Conn};

/// The number of hash slots of Redis Cluster.
const SLOTS: u16 = 16_384;

/// CRC16/XMODEM, Redis Cluster's key hash.
fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The slot of a key whose hash tag is `tag`.
fn slot(tag: &str) -> u16 {
    crc16(tag.as_bytes()) % SLOTS
}

/// A key (never written) whose slot lies in `start..=end`.
fn probe_key(prefix: &str, start: u16, end: u16) -> Option<String> {
    (0u32..200_000)
        .map(|n| n.to_string())
        .find(|tag| (start..=end).contains(&slot(tag)))
        .map(|tag| format!("{prefix}:probe:{{{tag}}}"))
}

/// The slot ranges of a `CLUSTER SLOTS` answer.
fn ranges(value: &Value) -> Vec<(u16, u16)> {
    let int = |v: &Value| match v {
        Value::Int(n) => u16::try_from(*n).ok(),
        _ => None,
    };
    let Value::Array(entries) = value else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|entry| match entry {
            Value::Array(items) if items.len() >= 2 => Some((int(&items[0])?, int(&items[1])?)),
            _ => None,
        })
        .collect()
}

impl Conn {
    /// `Ok` when every part of the store answered within `deadline` (see the module docs).
    pub(crate) async fn healthy(&self, prefix: &str, deadline: Duration) -> Result<(), CallError> {
        if let Self::Standalone(_) = self {
            return self
                .query::<String>(&redis::cmd("PING"), deadline)
                .await
                .map(|_| ());
        }
        let slots: Value = self
            .query(redis::cmd("CLUSTER").arg("SLOTS"), deadline)
            .await?;
        let ranges = ranges(&slots);
        let covered: u32 = ranges
            .iter()
            .map(|(start, end)| u32::from(end.saturating_sub(*start)) + 1)
            .sum();
        if covered < u32::from(SLOTS) {
            // Some slots have no master at all: the cluster cannot take every write.
            return Err(CallError::Uncovered);
        }
        let reads = ranges
            .iter()
            .filter_map(|(start, end)| probe_key(prefix, *start, *end))
            .map(|key| async move {
                self.query::<Option<String>>(redis::cmd("GET").arg(key), deadline)
                    .await
            });
        for result in join_all(reads).await {
            result?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_redis_cluster_slots() {
        // The reference value of CRC16/XMODEM, and slots `CLUSTER KEYSLOT` gives.
        assert_eq!(crc16(b"123456789"), 0x31c3);
        assert_eq!(slot("foo"), 12_182);
        assert_eq!(slot("bar"), 5_061);
        for (start, end) in [(0, 5_460), (5_461, 10_922), (10_923, 16_383), (7, 7)] {
            let key = probe_key("p", start, end).unwrap();
            let tag = &key[key.find('{').unwrap() + 1..key.len() - 1];
            assert!((start..=end).contains(&slot(tag)), "{key}");
        }
    }
}
