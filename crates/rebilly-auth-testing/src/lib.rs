//! # rebilly-auth-testing
//!
//! Test tools for the rebilly-auth SDK.

#![forbid(unsafe_code)]

pub mod cassette;
pub mod recording;
pub mod redact;

#[cfg(feature = "emulator")]
pub mod emulator;

#[cfg(feature = "emulator")]
pub use emulator::Emulator;
pub use recording::{RecordedRequest, RecordingTransport, json_response};

/// The transport conformance suite: checks any [`rebilly_auth_core::HttpTransport`] against loopback servers.
#[cfg(feature = "conformance")]
pub mod conformance;
