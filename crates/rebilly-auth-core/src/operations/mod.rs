//! The 16 operations, grouped by resource. Each is a type implementing
//! [`Operation`](crate::Operation), built through a resource handle of [`Client`]:
//!
//! | seed operation | HTTP | Rust |
//! |---|---|---|
//! | get_authentication_option | GET /authentication-options | `client.authentication_options().get()` |
//! | put_authentication_option | PUT /authentication-options | `client.authentication_options().update(options)` |
//! | get_authentication_token_collection | GET /authentication-tokens | `client.authentication_tokens().list()` |
//! | post_authentication_token | POST /authentication-tokens | `client.authentication_tokens().login(login)` |
//! | get_authentication_token_verification | GET /authentication-tokens/{token} | `client.authentication_tokens().verify(token)` |
//! | delete_authentication_token | DELETE /authentication-tokens/{token} | `client.authentication_tokens().logout(token)` |
//! | post_authentication_token_exchange | POST /authentication-tokens/{token}/exchange | `client.authentication_tokens().exchange(token, exchange)` |
//! | get_credential_collection | GET /credentials | `client.credentials().list()` |
//! | post_credential | POST /credentials | `client.credentials().create(credential)` |
//! | get_credential | GET /credentials/{id} | `client.credentials().get(id)` |
//! | put_credential | PUT /credentials/{id} | `client.credentials().upsert(id, credential)` |
//! | delete_credential | DELETE /credentials/{id} | `client.credentials().delete(id)` |
//! | get_password_token_collection | GET /password-tokens | `client.reset_password_tokens().list()` |
//! | post_password_token | POST /password-tokens | `client.reset_password_tokens().create(request)` |
//! | get_password_token | GET /password-tokens/{id} | `client.reset_password_tokens().get(token)` |
//! | delete_password_token | DELETE /password-tokens/{id} | `client.reset_password_tokens().delete(token)` |

mod credentials;
mod options;
mod reset_password_tokens;
mod tokens;

pub use credentials::{
    DeleteCredential, GetCredential, GetCredentialCollection, PostCredential, PutCredential,
};
pub use options::{GetAuthenticationOption, PutAuthenticationOption};
pub use reset_password_tokens::{
    DeletePasswordToken, GetPasswordToken, GetPasswordTokenCollection, PostPasswordToken,
};
pub use tokens::{
    DeleteAuthenticationToken, GetAuthenticationTokenCollection,
    GetAuthenticationTokenVerification, PostAuthenticationToken, PostAuthenticationTokenExchange,
};

use crate::client::Client;
use crate::decode::RawResponse;
use crate::error::Error;
use crate::routes::OperationId;

/// What a delete or logout did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Deletion {
    /// The server answered 204: deleted now.
    Deleted,
    /// An earlier attempt failed ambiguously and the retry answered 404: the earlier attempt
    /// most likely deleted it (or it was already gone).
    PresumedDeleted,
}

/// What an upsert did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Upserted<T> {
    /// 201: the resource did not exist and was created.
    Created(T),
    /// 200: the resource existed and was replaced.
    Updated(T),
    /// The call was retried after an ambiguous failure, so which of the two happened is
    /// unknown.
    CreatedOrUpdated(T),
}

impl<T> Upserted<T> {
    /// The resource, however it was written.
    pub fn into_inner(self) -> T {
        match self {
            Upserted::Created(value)
            | Upserted::Updated(value)
            | Upserted::CreatedOrUpdated(value) => value,
        }
    }

    /// Whether the resource was (known to be) created.
    pub fn is_created(&self) -> bool {
        matches!(self, Upserted::Created(_))
    }
}

/// Decodes a 204 (or any success) of a delete; a 404 after an ambiguous retry counts as done.
pub(crate) fn decode_deletion(
    operation: OperationId,
    raw: &RawResponse,
) -> Result<Deletion, Error> {
    if raw.meta.status.is_success() {
        Ok(Deletion::Deleted)
    } else if raw.is_not_found() && raw.retried_after_ambiguity {
        Ok(Deletion::PresumedDeleted)
    } else {
        Err(raw.api_error(operation))
    }
}

/// Fails a success answer whose `token` (the value the call exists to return) is empty.
pub(crate) fn non_empty_token(
    raw: &RawResponse,
    operation: OperationId,
    token: &str,
) -> Result<(), Error> {
    if token.is_empty() {
        Err(raw.mismatch(operation, ".token", "the answer holds an empty token"))
    } else {
        Ok(())
    }
}

macro_rules! resource_handle {
    ($(#[$meta:meta])* $name:ident, $method:ident) => {
        $(#[$meta])*
        #[derive(Debug)]
        pub struct $name {
            client: Client,
        }

        impl Client {
            $(#[$meta])*
            pub fn $method(&self) -> $name {
                $name { client: self.clone() }
            }
        }
    };
}

resource_handle!(
    /// Authentication options: the organization's password policy and lifetimes.
    AuthenticationOptionsApi,
    authentication_options
);
resource_handle!(
    /// Authentication tokens: login, verify, logout, exchange for a JWT, list.
    AuthenticationTokensApi,
    authentication_tokens
);
resource_handle!(
    /// Credentials: usernames and passwords of customers.
    CredentialsApi,
    credentials
);
resource_handle!(
    /// Reset-password tokens.
    ResetPasswordTokensApi,
    reset_password_tokens
);

/// Declares a listing operation type.
macro_rules! list_operation {
    ($(#[$meta:meta])* $name:ident, $item:ty) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct $name {
            /// Items per page.
            pub limit: Option<u32>,
            /// Where the page starts.
            pub offset: Option<u32>,
        }

        impl crate::request::sealed::Sealed for $name {}


        impl crate::request::Operation for $name {
            type Output = crate::pagination::Page<$item>;
            const ID: crate::routes::OperationId = crate::routes::OperationId::$name;

            fn path(&self) -> Result<std::borrow::Cow<'static, str>, crate::error::InvalidInput> {
                Ok(Self::ID.path_template().into())
            }

            fn query(&self) -> Result<Option<String>, crate::error::InvalidInput> {
                crate::encode::list_query(self.limit, self.offset)
            }

            fn decode(&self, raw: &crate::decode::RawResponse) -> Result<Self::Output, Error> {
                crate::pagination::Page::decode(Self::ID, raw)
            }
        }

        impl crate::pagination::ListOperation for $name {
            type Item = $item;

            fn limit(&self) -> Option<u32> {
                self.limit
            }

            fn offset(&self) -> Option<u32> {
                self.offset
            }

            fn set_limit(&mut self, limit: Option<u32>) {
                self.limit = limit;
            }

            fn set_offset(&mut self, offset: Option<u32>) {
                self.offset = offset;
            }
        }
    };
}
pub(crate) use list_operation;
