//! aiex-gateway: the front door. A tonic gRPC server for `aiex.v1` (repositories,
//! search and symbols, assist, cluster, health) plus gRPC health and reflection, with limits
//! enforced, over a [`backend::Backend`]; [`embedded`] runs it with the node in one
//! process.

pub mod addpath;
pub mod assist;
pub mod backend;
pub mod config;
pub mod embedded;
pub mod error;
pub mod fanout;
pub mod limits;
pub mod mesh;
pub mod metrics;
pub mod queue_depth;
pub mod registry;
pub mod server;
pub mod service;
pub mod upload;

pub use config::{GatewayConfig, Limits};
pub use error::GatewayError;
