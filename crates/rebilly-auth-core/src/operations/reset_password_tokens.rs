//! `/password-tokens`: reset-password tokens, addressed by their secret `token` value.

use std::borrow::Cow;

use bytes::Bytes;

use super::{Deletion, ResetPasswordTokensApi, decode_deletion, list_operation};
use crate::decode::RawResponse;
use crate::encode;
use crate::error::{Error, InvalidInput};
use crate::models::{NewResetPasswordToken, ResetPasswordToken, ResetToken};
use crate::request::{Operation, Request, json_body};
use crate::routes::OperationId;

list_operation!(
    /// `GetPasswordTokenCollection`: lists reset-password tokens.
    GetPasswordTokenCollection,
    ResetPasswordToken
);

/// The path of operation `op` on reset-password token `token`.
fn token_path(op: OperationId, token: &ResetToken) -> Result<Cow<'static, str>, InvalidInput> {
    encode::check_resource_id("reset-password token", token.expose())?;
    Ok(encode::fill_template(op.path_parts(), token.expose()).into())
}

/// `PostPasswordToken`: creates a reset-password token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostPasswordToken {
    /// The request.
    pub request: NewResetPasswordToken,
}

impl crate::request::sealed::Sealed for PostPasswordToken {}

impl Operation for PostPasswordToken {
    type Output = ResetPasswordToken;
    const ID: OperationId = OperationId::PostPasswordToken;

    fn path(&self) -> Result<Cow<'static, str>, InvalidInput> {
        Ok(Self::ID.path_template().into())
    }

    fn body(&self) -> Result<Option<Bytes>, Error> {
        json_body(&self.request)
    }

    fn decode(&self, raw: &RawResponse) -> Result<Self::Output, Error> {
        let created: ResetPasswordToken = raw.json(Self::ID)?;
        super::non_empty_token(raw, Self::ID, created.token.expose())?;
        Ok(created)
    }
}

/// `GetPasswordToken`: reads a reset-password token by its value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GetPasswordToken {
    /// The token's value.
    pub token: ResetToken,
}

impl crate::request::sealed::Sealed for GetPasswordToken {}

impl Operation for GetPasswordToken {
    type Output = ResetPasswordToken;
    const ID: OperationId = OperationId::GetPasswordToken;

    fn path(&self) -> Result<Cow<'static, str>, InvalidInput> {
        token_path(Self::ID, &self.token)
    }

    fn decode(&self, raw: &RawResponse) -> Result<Self::Output, Error> {
        raw.json(Self::ID)
    }
}

/// `DeletePasswordToken`: deletes a reset-password token by its value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeletePasswordToken {
    /// The token's value.
    pub token: ResetToken,
}

impl crate::request::sealed::Sealed for DeletePasswordToken {}

impl Operation for DeletePasswordToken {
    type Output = Deletion;
    const ID: OperationId = OperationId::DeletePasswordToken;

    fn path(&self) -> Result<Cow<'static, str>, InvalidInput> {
        token_path(Self::ID, &self.token)
    }

    fn decode(&self, raw: &RawResponse) -> Result<Self::Output, Error> {
        decode_deletion(Self::ID, raw)
    }
}

impl ResetPasswordTokensApi {
    /// Lists reset-password tokens; `.limit()`, `.offset()`, `.stream()` refine it.
    pub fn list(&self) -> Request<GetPasswordTokenCollection> {
        Request::new(self.client.clone(), GetPasswordTokenCollection::default())
    }

    /// Creates a reset-password token for a username.
    pub fn create(&self, request: NewResetPasswordToken) -> Request<PostPasswordToken> {
        Request::new(self.client.clone(), PostPasswordToken { request })
    }

    /// Reads a reset-password token by its value.
    pub fn get(&self, token: impl Into<ResetToken>) -> Request<GetPasswordToken> {
        Request::new(
            self.client.clone(),
            GetPasswordToken {
                token: token.into(),
            },
        )
    }

    /// Deletes a reset-password token by its value.
    pub fn delete(&self, token: impl Into<ResetToken>) -> Request<DeletePasswordToken> {
        Request::new(
            self.client.clone(),
            DeletePasswordToken {
                token: token.into(),
            },
        )
    }
}
