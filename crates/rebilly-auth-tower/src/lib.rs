//! tower interop for the Rebilly Customer Authentication SDK (work in progress, see issue #18).
