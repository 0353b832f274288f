//! # rebilly-auth-testing
//!
//! Test tools for the rebilly-auth SDK.

#![forbid(unsafe_code)]
