//! What Redis holds: key names (the layer's keyed digests, hex) and values (the customer
//! fields and expiry only, never a token), and the bus's messages.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rebilly_auth_axum::{AuthenticatedCustomer, CacheKey, CachedAnswer};
use rebilly_auth_core::models::{CredentialId, CustomerId};
use serde::{Deserialize, Serialize};

/// Milliseconds since the epoch, rounded up (0 before it).
pub(crate) fn millis(at: SystemTime) -> u64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(d) => {
            let ms = d.as_millis().min(u128::from(u64::MAX)) as u64;
            ms + u64::from(d.subsec_nanos() % 1_000_000 > 0)
        }
        Err(_) => 0,
    }
}

/// The instant `ms` milliseconds after the epoch.
pub(crate) fn instant(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// Milliseconds from `now` to `until`, at least 1 (a key Redis must expire).
pub(crate) fn ttl_ms(until: SystemTime, now: SystemTime) -> u64 {
    let ms = until
        .duration_since(now)
        .unwrap_or(Duration::ZERO)
        .as_millis();
    (ms.min(u128::from(u64::MAX)) as u64).max(1)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The 64 lowercase hex digits of a key.
pub(crate) fn hex(key: &CacheKey) -> String {
    let mut out = String::with_capacity(64);
    for byte in key.as_bytes() {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

/// 32 bytes from 64 hex digits (either case).
pub(crate) fn unhex(text: &str) -> Option<[u8; 32]> {
    let digits = text.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let nibble = |c: u8| char::from(c).to_digit(16).map(|d| d as u8);
    let mut out = [0u8; 32];
    for (i, pair) in digits.chunks_exact(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

/// The Redis keys of one token: its entry and its lease. The hash tag (`{…}`) puts both in
/// one cluster slot, so one script may touch both.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    pub(crate) entry: String,
    pub(crate) lease: String,
}

impl Keys {
    pub(crate) fn new(prefix: &str, key: &CacheKey) -> Self {
        let hex = hex(key);
        Self {
            entry: format!("{prefix}:{{{hex}}}"),
            lease: format!("{prefix}:{{{hex}}}:lease"),
        }
    }
}

/// A valid answer's record: the customer fields and the instants, nothing else.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    /// Customer id.
    c: String,
    /// Username.
    u: String,
    /// Credential id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    k: Option<String>,
    /// Token expiry (Unix seconds), when Rebilly gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    e: Option<i64>,
    /// OTP pending.
    o: bool,
    /// Served until (ms since the epoch).
    t: u64,
    /// Written at (ms since the epoch, the writer's clock): a process back from an outage
    /// does not trust answers written before it (a logout made meanwhile may not have
    /// reached Redis). 0 in values of earlier versions.
    #[serde(default)]
    w: u64,
}

/// A value as stored, written at `now`: `V{json}` (valid), `N<until ms>` (not valid),
/// `T<until ms>` (tombstone).
pub(crate) fn encode(answer: &CachedAnswer, now: SystemTime) -> Option<String> {
    match answer {
        CachedAnswer::Valid { customer, until } => {
            let record = Record {
                c: customer.customer_id().as_str().to_owned(),
                u: customer.username().to_owned(),
                k: customer.credential_id().map(|id| id.as_str().to_owned()),
                e: customer.expires_at().map(|at| at.unix_timestamp()),
                o: customer.otp_pending(),
                t: millis(*until),
                w: millis(now),
            };
            serde_json::to_string(&record)
                .ok()
                .map(|json| format!("V{json}"))
        }
        CachedAnswer::Invalid { until } => Some(format!("N{}", millis(*until))),
        CachedAnswer::Revoked { until } => Some(format!("T{}", millis(*until))),
        _ => None,
    }
}

/// A stored value read back, with when a valid answer was written (ms since the epoch;
/// `u64::MAX` for the others, which are never distrusted); `None` for anything this version
/// does not know.
pub(crate) fn decode(value: &str) -> Option<(CachedAnswer, u64)> {
    let (tag, rest) = value.split_at_checked(1)?;
    match tag {
        "T" => Some((
            CachedAnswer::Revoked {
                until: instant(rest.parse().ok()?),
            },
            u64::MAX,
        )),
        "N" => Some((
            CachedAnswer::Invalid {
                until: instant(rest.parse().ok()?),
            },
            u64::MAX,
        )),
        "V" => {
            let record: Record = serde_json::from_str(rest).ok()?;
            let expires_at = match record.e {
                Some(secs) => Some(time::OffsetDateTime::from_unix_timestamp(secs).ok()?),
                None => None,
            };
            let customer = AuthenticatedCustomer::new(
                CustomerId::from(record.c),
                record.u,
                record.k.map(CredentialId::from),
                expires_at,
                record.o,
            );
            Some((
                CachedAnswer::Valid {
                    customer,
                    until: instant(record.t),
                },
                record.w,
            ))
        }
        _ => None,
    }
}

/// A bus message: `<hex digest>:<tombstone until, ms>`.
pub(crate) fn bus_message(key: &CacheKey, until: SystemTime) -> String {
    format!("{}:{}", hex(key), millis(until))
}

/// A bus message read back.
pub(crate) fn parse_bus_message(text: &str) -> Option<(CacheKey, SystemTime)> {
    let (digest, until) = text.split_once(':')?;
    Some((
        CacheKey::from_bytes(unhex(digest)?),
        instant(until.parse().ok()?),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_hold_no_more_than_the_customer() {
        let until = instant(1_800_000_000_123);
        let expiry = time::OffsetDateTime::from_unix_timestamp(1_800_000_100).unwrap();
        let customer = AuthenticatedCustomer::new(
            CustomerId::from("cus_1".to_owned()),
            "ada|x",
            Some(CredentialId::from("cred_1".to_owned())),
            Some(expiry),
            true,
        );
        let valid = CachedAnswer::Valid { customer, until };
        let written = instant(1_700_000_000_000);
        let text = encode(&valid, written).unwrap();
        assert_eq!(decode(&text), Some((valid, 1_700_000_000_000)));
        for answer in [
            CachedAnswer::Invalid { until },
            CachedAnswer::Revoked { until },
        ] {
            assert_eq!(
                decode(&encode(&answer, written).unwrap()),
                Some((answer, u64::MAX))
            );
        }
        assert_eq!(decode("X1"), None);
        let key = CacheKey::from_bytes([0xab; 32]);
        assert_eq!(unhex(&hex(&key)), Some([0xab; 32]));
        assert_eq!(
            parse_bus_message(&bus_message(&key, until)),
            Some((key, until))
        );
        let keys = Keys::new("p", &key);
        assert!(keys.entry.starts_with("p:{abab") && keys.lease.ends_with("}:lease"));
    }
}
