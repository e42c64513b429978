//! Integration tests of the resource manager against the embedded API server.
