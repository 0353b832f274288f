//! [`BuildError`]: why a store could not be built.

/// Why [`RedisStoreBuilder::build`](crate::RedisStoreBuilder::build) failed. Never holds a URL (it may hold a password).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No digest key: every process of the fleet needs the same one
    /// ([`RedisStoreBuilder::digest_key`](crate::RedisStoreBuilder::digest_key)).
    #[error("a digest key is required: every process of the fleet needs the same 32 bytes")]
    MissingDigestKey,
    /// A digest key that is not 64 hex digits.
    #[error("a digest key must be 64 hex digits (32 bytes)")]
    BadDigestKey,
    /// A Redis URL that cannot be used (its text is not repeated: it may hold a password).
    #[error("a Redis URL could not be used ({kind})")]
    InvalidUrl {
        /// What redis-rs said of it, without the URL.
        kind: String,
    },
    /// No URL was given, or the environment variable is not set.
    #[error("no Redis URL: {0}")]
    NoUrl(&'static str),
    /// A `rediss://` URL, no process-default rustls provider installed, and neither
    /// `rustls-aws-lc-rs` nor `rustls-ring` enabled.
    #[error(
        "rediss:// needs a rustls crypto provider: install a process default, or enable the \
         rustls-aws-lc-rs or rustls-ring feature"
    )]
    NoTlsProvider,
    /// A setting is out of range.
    #[error("invalid rebilly-auth-redis configuration: {0}")]
    Invalid(&'static str),
}
