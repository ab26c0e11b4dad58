//! aiex-gateway: the front door of an Aiex mesh.
//!
//! The gateway serves the `aiex.v1` gRPC API, routes requests to the nodes that own the
//! partitions they touch, fans searches out and merges the answers. This crate starts with
//! its error type: every failure maps once, here, to a gRPC status.

pub mod error;

pub use error::GatewayError;
