//! The blocking client's resource handles: the async client's, method for method (the 16
//! operations; see [`operations`](crate::operations) for the table), each call a
//! [`BlockingRequest`] around the async handle's own request.

use super::client::BlockingClient;
use super::request::BlockingRequest;
use crate::models::{
    AuthToken, AuthenticationOptions, CredentialId, Exchange, Login, NewCredential,
    NewResetPasswordToken, ResetToken,
};
use crate::operations::{
    AuthenticationOptionsApi, AuthenticationTokensApi, CredentialsApi, DeleteAuthenticationToken,
    DeleteCredential, DeletePasswordToken, GetAuthenticationOption,
    GetAuthenticationTokenCollection, GetAuthenticationTokenVerification, GetCredential,
    GetCredentialCollection, GetPasswordToken, GetPasswordTokenCollection, PostAuthenticationToken,
    PostAuthenticationTokenExchange, PostCredential, PostPasswordToken, PutAuthenticationOption,
    PutCredential, ResetPasswordTokensApi,
};

/// Declares a handle wrapping the async one, and the client method that returns it.
macro_rules! handle {
    ($(#[$doc:meta])* $name:ident($async:ident), $method:ident) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name($async);

        impl BlockingClient {
            $(#[$doc])*
            pub fn $method(&self) -> $name {
                $name(self.client.$method())
            }
        }
    };
}

/// Declares methods that wrap the async handle's request of the same name.
macro_rules! calls {
    ($handle:ident { $($(#[$doc:meta])* $method:ident($($arg:ident: $ty:ty),*) -> $op:ty;)* }) => {
        impl $handle {
            $(
                $(#[$doc])*
                pub fn $method(&self, $($arg: $ty),*) -> BlockingRequest<$op> {
                    BlockingRequest::new(self.0.$method($($arg),*))
                }
            )*
        }
    };
}

handle!(
    /// Authentication options: the organization's password policy and lifetimes.
    BlockingAuthenticationOptionsApi(AuthenticationOptionsApi),
    authentication_options
);
handle!(
    /// Authentication tokens: login, verify, logout, exchange for a JWT, list.
    BlockingAuthenticationTokensApi(AuthenticationTokensApi),
    authentication_tokens
);
handle!(
    /// Credentials: usernames and passwords of customers.
    BlockingCredentialsApi(CredentialsApi),
    credentials
);
handle!(
    /// Reset-password tokens.
    BlockingResetPasswordTokensApi(ResetPasswordTokensApi),
    reset_password_tokens
);

calls!(BlockingAuthenticationOptionsApi {
    /// Reads the organization's authentication options.
    get() -> GetAuthenticationOption;
    /// Replaces the organization's authentication options.
    update(options: AuthenticationOptions) -> PutAuthenticationOption;
});

calls!(BlockingAuthenticationTokensApi {
    /// Lists authentication tokens; `.limit()`, `.offset()`, `.items()` refine it.
    list() -> GetAuthenticationTokenCollection;
    /// Logs a customer in, by password or passwordless.
    login(login: Login) -> PostAuthenticationToken;
    /// Verifies a token: `Some(verification)` while valid, `None` once expired, logged out
    /// or spent (404).
    verify(token: impl Into<AuthToken>) -> GetAuthenticationTokenVerification;
    /// Logs a customer out by invalidating the token.
    logout(token: impl Into<AuthToken>) -> DeleteAuthenticationToken;
    /// Exchanges a token for a customer JWT (spending the token unless
    /// [`Exchange::keep_token`] is set). Never replayed after an ambiguous failure:
    /// [`Error::ExchangeOutcomeUnknown`](crate::Error::ExchangeOutcomeUnknown).
    exchange(token: impl Into<AuthToken>, exchange: Exchange) -> PostAuthenticationTokenExchange;
});

calls!(BlockingCredentialsApi {
    /// Lists credentials; `.limit()`, `.offset()`, `.items()` refine it.
    list() -> GetCredentialCollection;
    /// Creates a credential.
    create(credential: NewCredential) -> PostCredential;
    /// Reads a credential.
    get(id: impl Into<CredentialId>) -> GetCredential;
    /// Creates or replaces the credential `id` (`PUT`, safe to retry); the answer says which
    /// happened.
    upsert(id: impl Into<CredentialId>, credential: NewCredential) -> PutCredential;
    /// Deletes a credential.
    delete(id: impl Into<CredentialId>) -> DeleteCredential;
});

calls!(BlockingResetPasswordTokensApi {
    /// Lists reset-password tokens; `.limit()`, `.offset()`, `.items()` refine it.
    list() -> GetPasswordTokenCollection;
    /// Creates a reset-password token for a username.
    create(request: NewResetPasswordToken) -> PostPasswordToken;
    /// Reads a reset-password token by its value.
    get(token: impl Into<ResetToken>) -> GetPasswordToken;
    /// Deletes a reset-password token by its value.
    delete(token: impl Into<ResetToken>) -> DeletePasswordToken;
});

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::super::blocking_transport_fn;
    use super::*;

    /// Every operation's first request is the async client's, byte for byte.
    #[test]
    fn the_sixteen_operations_build_the_async_clients_requests() {
        let transport = blocking_transport_fn(|_: http::Request<Bytes>| unreachable!());
        let client = BlockingClient::builder()
            .organization("org")
            .secret_key("sk")
            .transport(transport)
            .build()
            .unwrap();
        let credential = || NewCredential::new("ada", "pw", "cus_1");
        let requests = [
            client.authentication_options().get().to_http_request(),
            client
                .authentication_options()
                .update(AuthenticationOptions::default())
                .to_http_request(),
            client.authentication_tokens().list().to_http_request(),
            client
                .authentication_tokens()
                .login(Login::password("ada", "pw"))
                .to_http_request(),
            client.authentication_tokens().verify("t").to_http_request(),
            client.authentication_tokens().logout("t").to_http_request(),
            client
                .authentication_tokens()
                .exchange("t", Exchange::new())
                .to_http_request(),
            client.credentials().list().to_http_request(),
            client.credentials().create(credential()).to_http_request(),
            client.credentials().get("c").to_http_request(),
            client
                .credentials()
                .upsert("c", credential())
                .to_http_request(),
            client.credentials().delete("c").to_http_request(),
            client.reset_password_tokens().list().to_http_request(),
            client
                .reset_password_tokens()
                .create(NewResetPasswordToken::new("ada"))
                .to_http_request(),
            client.reset_password_tokens().get("r").to_http_request(),
            client.reset_password_tokens().delete("r").to_http_request(),
        ];
        let mut seen = std::collections::HashSet::new();
        for request in requests {
            let request = request.unwrap();
            assert!(seen.insert((request.method().clone(), request.uri().to_string())));
        }
        assert_eq!(seen.len(), 16);
    }
}
