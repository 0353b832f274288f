//! HS256 JSON Web Tokens, as the emulator issues them on exchange.
//!
//! Each organization has its own signing key ([`Emulator::jwt_signing_key`](super::Emulator::jwt_signing_key)),
//! so tests can check a JWT's signature with [`verify`].

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Signs `claims` with HS256: `base64url(header).base64url(claims).base64url(signature)`.
pub fn sign(key: &[u8], claims: &Map<String, Value>) -> String {
    let header = json!({"alg": "HS256", "typ": "JWT"});
    let mut token = URL_SAFE_NO_PAD.encode(header.to_string());
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string()));
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(token.as_bytes());
    let signature = mac.finalize().into_bytes();
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(signature));
    token
}

/// Why a JWT was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwtError {
    /// Not three base64url parts of JSON, or not HS256.
    Malformed,
    /// The signature does not match the key.
    BadSignature,
}

impl std::fmt::Display for JwtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            JwtError::Malformed => "malformed JWT",
            JwtError::BadSignature => "bad JWT signature",
        })
    }
}

impl std::error::Error for JwtError {}

/// Checks the signature (in constant time) and returns the claims. Expiry is not checked here:
/// compare the `exp` claim with the emulator's clock.
pub fn verify(key: &[u8], token: &str) -> Result<Map<String, Value>, JwtError> {
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let header: Value = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(JwtError::Malformed)?;
    if header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err(JwtError::Malformed);
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| JwtError::Malformed)?;
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(&token.as_bytes()[..token.len() - token.rsplit('.').next().map_or(0, str::len) - 1]);
    mac.verify_slice(&signature)
        .map_err(|_| JwtError::BadSignature)?;
    let claims: Value = URL_SAFE_NO_PAD
        .decode(claims)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(JwtError::Malformed)?;
    match claims {
        Value::Object(map) => Ok(map),
        _ => Err(JwtError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let mut claims = Map::new();
        claims.insert("customerId".into(), json!("cus_1"));
        let token = sign(b"key", &claims);
        assert_eq!(token.split('.').count(), 3);
        assert_eq!(verify(b"key", &token).unwrap(), claims);
        assert_eq!(verify(b"other", &token), Err(JwtError::BadSignature));
        let mut tampered = token.clone();
        tampered.insert(tampered.len() - 2, 'A');
        assert!(verify(b"key", &tampered).is_err());
        assert_eq!(verify(b"key", "a.b"), Err(JwtError::Malformed));
    }
}
