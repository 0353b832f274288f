//! How records are encoded: hex for hashes and keys, ULID-like ids, random tokens and
//! one-time passwords.

use time::OffsetDateTime;

/// `[u8; 32]` as 64 hex characters.
pub(super) mod hash_hex {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(in crate::state) fn serialize<S: Serializer>(
        bytes: &[u8; 32],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::to_hex(bytes))
    }

    pub(in crate::state) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        super::from_hex(&text)
            .and_then(|v| <[u8; 32]>::try_from(v).ok())
            .ok_or_else(|| D::Error::custom("expected 64 hex characters"))
    }
}

/// A key as hex (1 to 1024 bytes).
pub(super) mod key_hex {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(in crate::state) fn serialize<S: Serializer>(
        bytes: &[u8],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::to_hex(bytes))
    }

    pub(in crate::state) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        super::from_hex(&text)
            .filter(|v| (1..=1024).contains(&v.len()))
            .ok_or_else(|| D::Error::custom("expected 2 to 2048 hex characters"))
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A ULID-like id (26 Crockford base32 characters: 48 bits of milliseconds, 80 random bits)
/// with `prefix`, like the live API's `cus_crd_0YV9Y706QGCB39FQD380G1ZHZH`.
pub(crate) fn ulid(prefix: &str, now: OffsetDateTime, rng: &mut fastrand::Rng) -> String {
    let millis = (now.unix_timestamp_nanos() / 1_000_000).max(0) as u128 & ((1 << 48) - 1);
    let random = rng.u128(..) & ((1 << 80) - 1);
    let value = (millis << 80) | random;
    let mut out = String::with_capacity(prefix.len() + 26);
    out.push_str(prefix);
    for i in (0..26).rev() {
        let index = ((value >> (i * 5)) & 0x1f) as usize;
        out.push(CROCKFORD[index] as char);
    }
    out
}

/// An opaque random token: 40 lower-case hex characters.
pub(crate) fn random_token(rng: &mut fastrand::Rng) -> String {
    (0..20).map(|_| format!("{:02x}", rng.u8(..))).collect()
}

/// A 6-digit one-time password.
pub(crate) fn one_time_password(rng: &mut fastrand::Rng) -> String {
    format!("{:06}", rng.u32(0..1_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_hex() {
        let mut rng = fastrand::Rng::with_seed(7);
        let id = ulid("cus_crd_", OffsetDateTime::now_utc(), &mut rng);
        assert_eq!(id.len(), 8 + 26);
        assert!(id.len() <= 50);
        assert_eq!(random_token(&mut rng).len(), 40);
        assert_eq!(one_time_password(&mut rng).len(), 6);
        assert_eq!(from_hex(&to_hex(&[0, 255, 16])), Some(vec![0, 255, 16]));
        assert_eq!(from_hex("0g"), None);
        assert_eq!(from_hex("abc"), None);
    }
}
