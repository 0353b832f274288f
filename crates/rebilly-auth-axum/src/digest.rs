//! [`CacheKey`]: a keyed 256-bit digest of a token, the only form in which a token reaches a
//! cache.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The cache key of a token: HMAC-SHA256 of the token under the layer's digest key, all
/// 256 bits (never truncated).
///
/// Without the key a digest neither reveals its token nor can be computed from a guessed
/// one, so a cache (or a shared store) holding digests holds nothing that authenticates.
/// `Debug` prints no byte of it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CacheKey([u8; 32]);

impl CacheKey {
    /// The digest's 32 bytes: what a shared store keys its records by.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A key from its 32 bytes, for a shared store reading keys back.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CacheKey(..)")
    }
}

/// Computes [`CacheKey`]s: the keyed MAC state is built once, cloned per token.
#[derive(Clone)]
pub(crate) struct Digester {
    mac: Hmac<Sha256>,
}

impl fmt::Debug for Digester {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Digester(HMAC-SHA256, key redacted)")
    }
}

impl Digester {
    /// A digester keyed with `key`.
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        // HMAC takes keys of any length: this cannot fail.
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
        Self { mac }
    }

    /// A digester keyed with 32 bytes from the operating system's random source.
    pub(crate) fn random() -> Result<Self, getrandom::Error> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)?;
        let digester = Self::new(&key);
        key.fill(0);
        Ok(digester)
    }

    /// The key of `token`.
    pub(crate) fn digest(&self, token: &str) -> CacheKey {
        let mut mac = self.mac.clone();
        mac.update(token.as_bytes());
        CacheKey(mac.finalize().into_bytes().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_full_width_and_quiet() {
        let a = Digester::new(&[1; 32]);
        let b = Digester::new(&[2; 32]);
        assert_eq!(a.digest("tok"), a.digest("tok"));
        assert_ne!(a.digest("tok"), a.digest("tok2"));
        assert_ne!(a.digest("tok"), b.digest("tok"));
        assert_eq!(a.digest("tok").as_bytes().len(), 32);
        assert_eq!(format!("{:?}", a.digest("tok")), "CacheKey(..)");
        let r1 = Digester::random().unwrap();
        let r2 = Digester::random().unwrap();
        assert_ne!(r1.digest("tok"), r2.digest("tok"));
    }
}
