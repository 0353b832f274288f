//! `/authentication-tokens`: login, verify, logout, exchange, list.

use std::borrow::Cow;

use bytes::Bytes;

use super::{AuthenticationTokensApi, Deletion, decode_deletion, list_operation, non_empty_token};
use crate::decode::RawResponse;
use crate::encode;
use crate::error::{Error, InvalidInput};
use crate::models::{AuthToken, IssuedToken, ListedToken, Login, TokenVerification};
use crate::models::{CredentialId, CustomerId, rfc3339_opt};
use crate::models::{CustomerJwt, Exchange};
use crate::request::{Operation, Request, json_body};
use crate::retry::RetryClass;
use crate::routes::OperationId;

list_operation!(
    /// `GetAuthenticationTokenCollection`: lists authentication tokens.
    GetAuthenticationTokenCollection,
    ListedToken
);

/// `PostAuthenticationToken`: logs a customer in.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostAuthenticationToken {
    /// The login request.
    pub login: Login,
}

impl crate::request::sealed::Sealed for PostAuthenticationToken {}

impl Operation for PostAuthenticationToken {
    type Output = IssuedToken;
    const ID: OperationId = OperationId::PostAuthenticationToken;

    fn path(&self) -> Result<Cow<'static, str>, InvalidInput> {
        Ok(Self::ID.path_template().into())
    }

    fn body(&self) -> Result<Option<Bytes>, Error> {
        json_body(&self.login)
    }

    fn decode(&self, raw: &RawResponse) -> Result<Self::Output, Error> {
        let issued: IssuedToken = raw.json(Self::ID)?;
        non_empty_token(raw, Self::ID, issued.token.expose())?;
        Ok(issued)
    }
}

/// The path of operation `op` on authentication token `token`.
fn token_path(op: OperationId, token: &AuthToken) -> Result<Cow<'static, str>, InvalidInput> {
    encode::check_token("authentication token", token.expose())?;
    Ok(encode::fill_template(op.path_parts(), token.expose()).into())
}

/// `GetAuthenticationTokenVerification`: checks a token; `None` when it is not valid (404).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GetAuthenticationTokenVerification {
    /// The token to verify.
    pub token: AuthToken,
}

impl crate::request::sealed::Sealed for GetAuthenticationTokenVerification {}

impl Operation for GetAuthenticationTokenVerification {
    type Output = Option<TokenVerification>;
    const ID: OperationId = OperationId::GetAuthenticationTokenVerification;

    fn path(&self) -> Result<Cow<'static, str>, InvalidInput> {
        token_path(Self::ID, &self.token)
    }

    /// Fails closed: `Some` only for a 2xx token object with the required `username` whose
    /// `token`, when present, is the one asked about.
    fn decode(&self, raw: &RawResponse) -> Result<Self::Output, Error> {
        if raw.is_not_found() {
            return Ok(None);
        }
        let answer: VerifyAnswer = raw.json(Self::ID)?;
        if answer
            .token
            .as_ref()
            .is_some_and(|token| *token != self.token)
        {
            return Err(raw.mismatch(
                Self::ID,
                ".token",
                "the answer describes another token than the one asked about",
            ));
        }
        Ok(Some(TokenVerification {
            username: answer.username,
            customer_id: answer.customer_id,
            otp_required: answer.otp_required,
            credential_id: answer.credential_id,
            expired_time: answer.expired_time,
        }))
    }
}

/// A verify answer on the wire: [`TokenVerification`] plus the token it describes, compared
/// with the one asked about and then dropped.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifyAnswer {
    username: String,
    #[serde(default)]
    token: Option<AuthToken>,
    #[serde(default)]
    customer_id: Option<CustomerId>,
    #[serde(default)]
    otp_required: Option<bool>,
    #[serde(default)]
    credential_id: Option<CredentialId>,
    #[serde(default, with = "rfc3339_opt")]
    expired_time: Option<time::OffsetDateTime>,
}

/// `DeleteAuthenticationToken`: logs a customer out.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteAuthenticationToken {
    /// The token to invalidate.
    pub token: AuthToken,
}

impl crate::request::sealed::Sealed for DeleteAuthenticationToken {}

impl Operation for DeleteAuthenticationToken {
    type Output = Deletion;
    const ID: OperationId = OperationId::DeleteAuthenticationToken;

    fn path(&self) -> Result<Cow<'static, str>, InvalidInput> {
        token_path(Self::ID, &self.token)
    }

    fn decode(&self, raw: &RawResponse) -> Result<Self::Output, Error> {
        decode_deletion(Self::ID, raw)
    }
}

/// `PostAuthenticationTokenExchange`: exchanges a token for a customer JWT.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PostAuthenticationTokenExchange {
    /// The token to exchange.
    pub token: AuthToken,
    /// The exchange's options.
    pub exchange: Exchange,
}

impl crate::request::sealed::Sealed for PostAuthenticationTokenExchange {}

impl Operation for PostAuthenticationTokenExchange {
    type Output = CustomerJwt;
    const ID: OperationId = OperationId::PostAuthenticationTokenExchange;

    fn path(&self) -> Result<Cow<'static, str>, InvalidInput> {
        token_path(Self::ID, &self.token)
    }

    fn body(&self) -> Result<Option<Bytes>, Error> {
        if let Some(otp) = &self.exchange.one_time_password {
            let otp = otp.expose();
            if otp.len() != 6 || !otp.bytes().all(|b| b.is_ascii_digit()) {
                return Err(
                    InvalidInput::new("one-time password", "must be exactly 6 digits").into(),
                );
            }
        }
        json_body(&self.exchange)
    }

    fn retry_class(&self) -> RetryClass {
        if self.exchange.invalidates_token() {
            RetryClass::SpendsToken
        } else {
            RetryClass::NonIdempotent
        }
    }

    fn decode(&self, raw: &RawResponse) -> Result<Self::Output, Error> {
        let jwt: CustomerJwt = raw.json(Self::ID)?;
        non_empty_token(raw, Self::ID, jwt.token.expose())?;
        Ok(jwt)
    }
}

impl AuthenticationTokensApi {
    /// Lists authentication tokens; `.limit()`, `.offset()`, `.stream()` refine it.
    pub fn list(&self) -> Request<GetAuthenticationTokenCollection> {
        Request::new(
            self.client.clone(),
            GetAuthenticationTokenCollection::default(),
        )
    }

    /// Logs a customer in, by password or passwordless.
    pub fn login(&self, login: Login) -> Request<PostAuthenticationToken> {
        Request::new(self.client.clone(), PostAuthenticationToken { login })
    }

    /// Verifies a token: `Some(verification)` while valid, `None` once expired, logged out or
    /// spent (404). Any other answer is an error: a 2xx without the required `username`, or
    /// describing another token, is a [`DecodeError`](crate::DecodeError), never a success.
    pub fn verify(
        &self,
        token: impl Into<AuthToken>,
    ) -> Request<GetAuthenticationTokenVerification> {
        Request::new(
            self.client.clone(),
            GetAuthenticationTokenVerification {
                token: token.into(),
            },
        )
    }

    /// Logs a customer out by invalidating the token.
    pub fn logout(&self, token: impl Into<AuthToken>) -> Request<DeleteAuthenticationToken> {
        Request::new(
            self.client.clone(),
            DeleteAuthenticationToken {
                token: token.into(),
            },
        )
    }

    /// Exchanges a token for a customer JWT (spending the token unless
    /// [`Exchange::keep_token`] is set).
    pub fn exchange(
        &self,
        token: impl Into<AuthToken>,
        exchange: Exchange,
    ) -> Request<PostAuthenticationTokenExchange> {
        Request::new(
            self.client.clone(),
            PostAuthenticationTokenExchange {
                token: token.into(),
                exchange,
            },
        )
    }
}
