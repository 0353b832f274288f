//! Protect routes with Rebilly customer tokens (work in progress, see issue #17).
