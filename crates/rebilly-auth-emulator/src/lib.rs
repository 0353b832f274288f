//! The emulator binary (work in progress, see issue #15).
