//! [`RawResponse`]: a response as an operation's decoder receives it, and the decoding every
//! operation shares (JSON bodies, API errors, answers that do not answer the call).

use std::fmt;
use std::time::SystemTime;

use bytes::Bytes;
use http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, DecodeError, Error};
use crate::models::ProblemDetails;
use crate::response::{ResponseMeta, to_offset_date_time};
use crate::routes::OperationId;

/// A raw response handed to an operation's decoder. Internal (the sealed
/// [`Operation`](crate::Operation)'s input): not part of the API.
#[doc(hidden)]
///
/// Its `Debug` shows the body's length, never the body: a login answer holds a token.
pub struct RawResponse {
    /// Status, headers, attempts.
    pub meta: ResponseMeta,
    /// The body.
    pub body: Bytes,
    /// Whether an earlier attempt of this call may have reached the server (the call was
    /// retried after an ambiguous failure).
    pub retried_after_ambiguity: bool,
    /// When the server said the call may be retried (429 and 503 answers).
    pub retry_at: Option<SystemTime>,
}

impl fmt::Debug for RawResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawResponse")
            .field("meta", &self.meta)
            .field("body_len", &self.body.len())
            .field("retried_after_ambiguity", &self.retried_after_ambiguity)
            .field("retry_at", &self.retry_at)
            .finish()
    }
}

impl RawResponse {
    /// Decodes the JSON body as `T` when the status is a success; otherwise an [`ApiError`].
    pub fn json<T: DeserializeOwned>(&self, operation: OperationId) -> Result<T, Error> {
        if !self.meta.status.is_success() {
            return Err(self.api_error(operation));
        }
        self.decode(operation)
    }

    /// Decodes the body as `T` whatever the status.
    pub fn decode<T: DeserializeOwned>(&self, operation: OperationId) -> Result<T, Error> {
        serde_json::from_slice(&self.body)
            .map_err(|error| self.decode_error::<T>(operation, &error))
    }

    /// The error for a body that did not decode; re-decodes (failure path only) to learn where.
    fn decode_error<T: DeserializeOwned>(
        &self,
        operation: OperationId,
        error: &serde_json::Error,
    ) -> Error {
        let mut de = serde_json::Deserializer::from_slice(&self.body);
        let path = match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Ok(_) => ".".to_owned(),
            Err(e) => e.path().to_string(),
        };
        Error::Decode(Box::new(DecodeError::new(
            operation,
            self.meta.status,
            self.meta.content_type().map(str::to_owned),
            // A copy: a transport's body may be a slice of its read buffer, which an error kept
            // by the caller should not hold alive.
            Bytes::copy_from_slice(&self.body),
            path,
            error,
        )))
    }

    /// The error for a success answer that decoded but does not answer the call (see
    /// [`DecodeError`]): `category` says how, `path` where.
    pub(crate) fn mismatch(
        &self,
        operation: OperationId,
        path: &str,
        category: &'static str,
    ) -> Error {
        Error::Decode(Box::new(DecodeError::mismatch(
            operation,
            self.meta.status,
            self.meta.content_type().map(str::to_owned),
            Bytes::copy_from_slice(&self.body),
            path,
            category,
        )))
    }

    /// The [`ApiError`] for this (unexpected) answer.
    pub fn api_error(&self, operation: OperationId) -> Error {
        let problem = serde_json::from_slice::<ProblemDetails>(&self.body).ok();
        Error::Api(Box::new(ApiError {
            operation,
            status: self.meta.status,
            problem,
            retry_at: self.retry_at.and_then(to_offset_date_time),
            meta: self.meta.clone(),
        }))
    }

    /// Whether the status is 404.
    pub fn is_not_found(&self) -> bool {
        self.meta.status == StatusCode::NOT_FOUND
    }
}
