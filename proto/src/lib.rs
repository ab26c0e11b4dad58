//! aiex-proto: the contract between Aiex processes and their clients.
//!
//! The gRPC API lives in [`v1`] (package `aiex.v1`). Names shared by every process —
//! stream and subject names, partition hashing — are constants and functions here, so no
//! other crate spells them as string literals.

pub mod v1 {
    tonic::include_proto!("aiex.v1");
}

/// Messages and services inside the mesh (package `aiex.mesh.v1`).
pub mod mesh {
    pub mod v1 {
        tonic::include_proto!("aiex.mesh.v1");
    }
}

/// The encoded descriptors of every `aiex.v1` file (the public API), for gRPC server
/// reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("aiex_descriptor");

pub mod partition;
pub mod subjects;
