//! GET and PUT `/authentication-options`.

use std::borrow::Cow;

use bytes::Bytes;

use super::AuthenticationOptionsApi;
use crate::decode::RawResponse;
use crate::error::{Error, InvalidInput};
use crate::models::AuthenticationOptions;
use crate::models::options::OptionsBody;
use crate::request::{Operation, Request, json_body};
use crate::routes::OperationId;

/// `GetAuthenticationOption`: reads the organization's options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GetAuthenticationOption;

impl crate::request::sealed::Sealed for GetAuthenticationOption {}

impl Operation for GetAuthenticationOption {
    type Output = AuthenticationOptions;
    const ID: OperationId = OperationId::GetAuthenticationOption;

    fn path(&self) -> Result<Cow<'static, str>, InvalidInput> {
        Ok(Self::ID.path_template().into())
    }

    fn decode(&self, raw: &RawResponse) -> Result<Self::Output, Error> {
        raw.json::<OptionsBody>(Self::ID).map(|body| body.0)
    }
}

/// `PutAuthenticationOption`: replaces the organization's options.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PutAuthenticationOption {
    /// The new options.
    pub options: AuthenticationOptions,
}

impl crate::request::sealed::Sealed for PutAuthenticationOption {}

impl Operation for PutAuthenticationOption {
    type Output = AuthenticationOptions;
    const ID: OperationId = OperationId::PutAuthenticationOption;

    fn path(&self) -> Result<Cow<'static, str>, InvalidInput> {
        Ok(Self::ID.path_template().into())
    }

    fn body(&self) -> Result<Option<Bytes>, Error> {
        json_body(&self.options)
    }

    fn decode(&self, raw: &RawResponse) -> Result<Self::Output, Error> {
        raw.json::<OptionsBody>(Self::ID).map(|body| body.0)
    }
}

impl AuthenticationOptionsApi {
    /// Reads the organization's authentication options.
    pub fn get(&self) -> Request<GetAuthenticationOption> {
        Request::new(self.client.clone(), GetAuthenticationOption)
    }

    /// Replaces the organization's authentication options.
    pub fn update(&self, options: AuthenticationOptions) -> Request<PutAuthenticationOption> {
        Request::new(self.client.clone(), PutAuthenticationOption { options })
    }
}
