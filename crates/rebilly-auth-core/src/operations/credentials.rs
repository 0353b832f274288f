//! `/credentials`: create, read, upsert, delete, list.

use std::borrow::Cow;

use bytes::Bytes;
use http::StatusCode;

use super::{CredentialsApi, Deletion, Upserted, decode_deletion, list_operation};
use crate::decode::RawResponse;
use crate::encode;
use crate::error::{Error, InvalidInput};
use crate::models::CredentialId;
use crate::models::{Credential, NewCredential};
use crate::request::{Operation, Request, json_body};
use crate::routes::OperationId;

list_operation!(
    /// `GetCredentialCollection`: lists credentials.
    GetCredentialCollection,
    Credential
);

/// The path of operation `op` on credential `id`.
fn credential_path(op: OperationId, id: &CredentialId) -> Result<Cow<'static, str>, InvalidInput> {
    encode::check_resource_id("credential id", id.as_str())?;
    Ok(encode::fill_template(op.path_parts(), id.as_str()).into())
}

/// `PostCredential`: creates a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostCredential {
    /// The credential.
    pub credential: NewCredential,
}

impl crate::request::sealed::Sealed for PostCredential {}

impl Operation for PostCredential {
    type Output = Credential;
    const ID: OperationId = OperationId::PostCredential;

    fn path(&self) -> Result<Cow<'static, str>, InvalidInput> {
        Ok(Self::ID.path_template().into())
    }

    fn body(&self) -> Result<Option<Bytes>, Error> {
        json_body(&self.credential)
    }

    fn decode(&self, raw: &RawResponse) -> Result<Self::Output, Error> {
        raw.json(Self::ID)
    }
}

/// `GetCredential`: reads one credential.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GetCredential {
    /// The credential's id.
    pub id: CredentialId,
}

impl crate::request::sealed::Sealed for GetCredential {}

impl Operation for GetCredential {
    type Output = Credential;
    const ID: OperationId = OperationId::GetCredential;

    fn path(&self) -> Result<Cow<'static, str>, InvalidInput> {
        credential_path(Self::ID, &self.id)
    }

    fn decode(&self, raw: &RawResponse) -> Result<Self::Output, Error> {
        raw.json(Self::ID)
    }
}

/// `PutCredential`: creates or replaces the credential with a given id.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PutCredential {
    /// The credential's id.
    pub id: CredentialId,
    /// The credential.
    pub credential: NewCredential,
}

impl crate::request::sealed::Sealed for PutCredential {}

impl Operation for PutCredential {
    type Output = Upserted<Credential>;
    const ID: OperationId = OperationId::PutCredential;

    fn path(&self) -> Result<Cow<'static, str>, InvalidInput> {
        credential_path(Self::ID, &self.id)
    }

    fn body(&self) -> Result<Option<Bytes>, Error> {
        json_body(&self.credential)
    }

    fn decode(&self, raw: &RawResponse) -> Result<Self::Output, Error> {
        let credential = raw.json(Self::ID)?;
        Ok(match raw.meta.status {
            _ if raw.retried_after_ambiguity => Upserted::CreatedOrUpdated(credential),
            StatusCode::CREATED => Upserted::Created(credential),
            StatusCode::OK => Upserted::Updated(credential),
            _ => Upserted::CreatedOrUpdated(credential),
        })
    }
}

/// `DeleteCredential`: deletes a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteCredential {
    /// The credential's id.
    pub id: CredentialId,
}

impl crate::request::sealed::Sealed for DeleteCredential {}

impl Operation for DeleteCredential {
    type Output = Deletion;
    const ID: OperationId = OperationId::DeleteCredential;

    fn path(&self) -> Result<Cow<'static, str>, InvalidInput> {
        credential_path(Self::ID, &self.id)
    }

    fn decode(&self, raw: &RawResponse) -> Result<Self::Output, Error> {
        decode_deletion(Self::ID, raw)
    }
}

impl CredentialsApi {
    /// Lists credentials; `.limit()`, `.offset()`, `.stream()` refine it.
    pub fn list(&self) -> Request<GetCredentialCollection> {
        Request::new(self.client.clone(), GetCredentialCollection::default())
    }

    /// Creates a credential.
    pub fn create(&self, credential: NewCredential) -> Request<PostCredential> {
        Request::new(self.client.clone(), PostCredential { credential })
    }

    /// Reads a credential.
    pub fn get(&self, id: impl Into<CredentialId>) -> Request<GetCredential> {
        Request::new(self.client.clone(), GetCredential { id: id.into() })
    }

    /// Creates or replaces the credential `id`; the answer says which happened.
    pub fn upsert(
        &self,
        id: impl Into<CredentialId>,
        credential: NewCredential,
    ) -> Request<PutCredential> {
        Request::new(
            self.client.clone(),
            PutCredential {
                id: id.into(),
                credential,
            },
        )
    }

    /// Deletes a credential.
    pub fn delete(&self, id: impl Into<CredentialId>) -> Request<DeleteCredential> {
        Request::new(self.client.clone(), DeleteCredential { id: id.into() })
    }
}
