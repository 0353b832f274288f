//! The blocking client of a target (over `rebilly-auth-ureq`), and the import's [`Writer`]
//! on it: `PUT /credentials/{id}`, with each failure sorted into wait, reject or stop.

use std::time::Duration;

use rebilly_auth_core::blocking::BlockingClient;
use rebilly_auth_core::models::NewCredential;
use rebilly_auth_core::reexports::http::StatusCode;
use rebilly_auth_core::{BuildError, Error, RetryPolicy, Upserted};

use crate::import::{WriteError, Writer, Written};
use crate::input::Row;
use crate::report::error_text;
use crate::target::Target;

/// The client of `target`. The retry policy is the SDK's default, except that a server-given
/// wait (429) comes back at once as the rate-limited error: the import waits through its own
/// pacer, which Ctrl-C cuts short.
pub(crate) fn client(target: &Target) -> Result<BlockingClient, BuildError> {
    rebilly_auth_ureq::client_builder()
        .server_url(target.url.clone())
        .organization(target.organization.clone())
        .secret_key(target.secret_key.expose())
        .user_agent(concat!("rebilly-auth-cli/", env!("CARGO_PKG_VERSION")))
        .retry_policy(RetryPolicy::default().max_server_wait(Duration::ZERO))
        .build()
}

/// Writes credentials with `PUT /credentials/{id}`: an upsert, so a row sent twice (a retry,
/// a resumed run) still makes one credential.
pub(crate) struct CredentialWriter {
    /// The client.
    pub(crate) client: BlockingClient,
}

impl Writer for CredentialWriter {
    fn put(&mut self, row: &Row) -> Result<Written, WriteError> {
        let mut credential = NewCredential::new(
            row.username.clone(),
            row.password.clone(),
            row.customer_id.clone(),
        );
        if let Some(at) = row.expiry {
            credential = credential.expired_time(at);
        }
        match self
            .client
            .credentials()
            .upsert(row.id.clone(), credential)
            .send_with_meta()
        {
            Ok(answer) => Ok(Written {
                created: match answer.value {
                    Upserted::Created(_) => Some(true),
                    Upserted::Updated(_) => Some(false),
                    _ => None,
                },
                rate_limit: answer.meta.rate_limit,
            }),
            Err(error) => Err(classify(&error)),
        }
    }
}

/// What the import does after `error`: wait (429), reject the row (the API or the SDK refused
/// this row), or stop (nothing more can succeed: a wrong key, a server down or failing).
pub(crate) fn classify(error: &Error) -> WriteError {
    if error.is_rate_limited() {
        return WriteError::RateLimited(error.retry_at());
    }
    match error {
        Error::InvalidInput(_) => WriteError::Row(error_text(error)),
        Error::Api(api) => match api.status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                WriteError::Fatal(error_text(error))
            }
            status if status.is_client_error() => WriteError::Row(error_text(error)),
            _ => WriteError::Fatal(error_text(error)),
        },
        _ => WriteError::Fatal(error_text(error)),
    }
}
