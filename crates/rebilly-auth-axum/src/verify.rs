//! One upstream verify, its answer checked, cached and mapped to the outcome table.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use rebilly_auth_core::models::{AuthToken, TokenVerification};
use rebilly_auth_core::{Error, RetryPolicy};

use crate::auth::{FlightResult, RebillyAuth};
use crate::cache::{CachedAnswer, PutOutcome};
use crate::customer::AuthenticatedCustomer;
use crate::digest::CacheKey;
use crate::metrics::Counters;
use crate::outcome::Rejection;

/// The retry policy of the layer's verifies: at most one retry (two attempts, short backoff),
/// and a server-given wait honoured only when short. The layer applies it, with
/// `verify_timeout` as the call's and each attempt's deadline, to every verify it sends, so any
/// client will do, whatever its own settings.
fn verify_retry_policy(verify_timeout: Duration) -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(2)
        .initial_backoff(Duration::from_millis(50))
        .max_backoff(Duration::from_millis(200))
        .max_server_wait(verify_timeout / 4)
}

impl RebillyAuth {
    /// One upstream verify, its answer cached per the outcome table.
    pub(crate) async fn verify_upstream(
        &self,
        key: CacheKey,
        token: AuthToken,
        revoked: &AtomicBool,
    ) -> FlightResult {
        let s = &*self.shared;
        Counters::inc(&s.counters.upstream_verifies);
        // The layer's own deadline and single retry, whatever the client's settings.
        let call = s
            .client
            .authentication_tokens()
            .verify(token)
            .retry_policy(verify_retry_policy(s.verify_timeout))
            .call_timeout(s.verify_timeout)
            .attempt_timeout(s.verify_timeout)
            .send();
        // Core's deadline counts on the client's `Clock`, which a test (or an app) may have
        // made a manual one; this one counts on tokio's, so wall time is bounded whatever it is.
        let answer = tokio::time::timeout(s.verify_timeout, call).await;
        let now = s.clock.now();
        let span = tracing::Span::current();
        let result = match answer {
            Err(_elapsed) => {
                tracing::warn!(
                    timeout_ms = s.verify_timeout.as_millis() as u64,
                    "rebilly-auth-axum: verify did not answer within the layer's deadline"
                );
                Err(Rejection::Unavailable { retry_after: None })
            }
            Ok(Ok(Some(verification))) => self.accept(key, verification, now, revoked).await,
            Ok(Ok(None)) => {
                Counters::inc(&s.counters.upstream_invalid);
                span.record("upstream", "not_valid");
                let until = now.checked_add(s.negative_ttl).unwrap_or(now);
                s.cache.put(key, CachedAnswer::Invalid { until }, now).await;
                Err(Rejection::InvalidToken)
            }
            Ok(Err(error)) => Err(classify(&error, now)),
        };
        match &result {
            Err(Rejection::Unavailable { .. }) => {
                Counters::inc(&s.counters.upstream_unavailable);
                span.record("upstream", "unavailable");
            }
            Err(Rejection::Misconfigured) => {
                Counters::inc(&s.counters.upstream_misconfigured);
                span.record("upstream", "misconfigured");
            }
            Err(Rejection::BadUpstreamAnswer) => {
                Counters::inc(&s.counters.upstream_bad_answer);
                span.record("upstream", "bad_answer");
            }
            _ => {}
        }
        result
    }

    /// A 200 verification: checked, cached (unless revoked meanwhile), returned.
    async fn accept(
        &self,
        key: CacheKey,
        verification: TokenVerification,
        now: SystemTime,
        revoked: &AtomicBool,
    ) -> FlightResult {
        let s = &*self.shared;
        let Some(customer_id) = verification
            .customer_id
            .filter(|id| !id.as_str().trim().is_empty())
        else {
            tracing::warn!(
                "rebilly-auth-axum: a verify answer without a customerId, or with an empty one \
                 (treated as a bad answer)"
            );
            return Err(Rejection::BadUpstreamAnswer);
        };
        Counters::inc(&s.counters.upstream_valid);
        tracing::Span::current().record("upstream", "valid");
        let expires_at = verification.expired_time;
        let customer = AuthenticatedCustomer::new(
            customer_id,
            verification.username,
            verification.credential_id,
            expires_at,
            verification
                .otp_required
                .unwrap_or(s.otp_pending_when_absent),
        );
        let mut until = now.checked_add(s.max_staleness).unwrap_or(now);
        if let Some(expiry) = expires_at {
            let expiry = SystemTime::from(expiry);
            if expiry <= now {
                // Rebilly says valid, our clock says expired: refuse, do not cache.
                return Err(Rejection::InvalidToken);
            }
            until = until.min(expiry.checked_sub(s.expiry_skew).unwrap_or(now));
        }
        if revoked.load(Ordering::SeqCst) {
            self.extend_tombstone(key, expires_at, now).await;
            return Err(Rejection::InvalidToken);
        }
        if now < until {
            let answer = CachedAnswer::Valid {
                customer: customer.clone(),
                until,
            };
            if s.cache.store(key, answer, now).await == PutOutcome::Revoked {
                // A tombstone (this process's, or another's through a shared store) was
                // written while the verify was in flight: the store kept nothing.
                Counters::inc(&s.counters.revoked_in_flight);
                return Err(Rejection::InvalidToken);
            }
        }
        // A logout that landed while this verify was in flight wins.
        if revoked.load(Ordering::SeqCst) {
            self.extend_tombstone(key, expires_at, now).await;
            return Err(Rejection::InvalidToken);
        }
        Ok(customer)
    }

    /// A token revoked while its verify was in flight: now that its `expiredTime` is known,
    /// its tombstone lives until then (a tombstone there already only grows, and needs no
    /// room).
    async fn extend_tombstone(
        &self,
        key: CacheKey,
        expires_at: Option<time::OffsetDateTime>,
        now: SystemTime,
    ) {
        if let Some(expiry) = expires_at {
            let _ = self
                .shared
                .cache
                .revoke(key, SystemTime::from(expiry), now)
                .await;
        }
    }
}

/// Maps a verify error to the outcome table.
fn classify(error: &Error, now: SystemTime) -> Rejection {
    match error {
        Error::InvalidInput(_) => Rejection::MalformedToken,
        _ if error.is_timeout() => {
            tracing::warn!(error = %error, "rebilly-auth-axum: verify timed out");
            Rejection::Unavailable { retry_after: None }
        }
        Error::Transport { source, .. } => {
            tracing::warn!(
                kind = %source.kind(),
                "rebilly-auth-axum: verify got no response"
            );
            Rejection::Unavailable { retry_after: None }
        }
        Error::Api(api) => {
            let status = api.status;
            if status == http::StatusCode::UNAUTHORIZED || status == http::StatusCode::FORBIDDEN {
                tracing::error!(
                    status = status.as_u16(),
                    "rebilly-auth-axum is misconfigured: Rebilly refused the layer's own \
                     credential on verify (wrong API key or organization of the layer's client)"
                );
                Rejection::Misconfigured
            } else if status == http::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                let retry_after = api.retry_at.map(|at| {
                    SystemTime::from(at)
                        .duration_since(now)
                        .unwrap_or(Duration::ZERO)
                });
                tracing::warn!(
                    status = status.as_u16(),
                    "rebilly-auth-axum: Rebilly could not verify"
                );
                Rejection::Unavailable { retry_after }
            } else {
                tracing::warn!(
                    status = status.as_u16(),
                    "rebilly-auth-axum: unexpected verify status"
                );
                Rejection::BadUpstreamAnswer
            }
        }
        _ => {
            tracing::warn!(error = %error, "rebilly-auth-axum: verify answer not usable");
            Rejection::BadUpstreamAnswer
        }
    }
}
