//! The gateway's one error enum, mapped once to `tonic::Code`.

use aiex_node::{ErrorCode, NodeError};

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("invalid {field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
    #[error(
        "repository not found: {} (`aiex repo list` shows the registered ones)",
        aiex_node::ingest::shown_name(.0)
    )]
    RepositoryNotFound(String),
    #[error("{what} is over its limit of {limit}")]
    LimitExceeded { what: &'static str, limit: u64 },
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Node(#[from] NodeError),
}

impl From<aiex_node::bus::BusError> for GatewayError {
    fn from(e: aiex_node::bus::BusError) -> Self {
        GatewayError::Node(NodeError::Bus(e))
    }
}

impl GatewayError {
    pub fn code(&self) -> ErrorCode {
        match self {
            GatewayError::InvalidArgument { .. } => ErrorCode::InvalidArgument,
            GatewayError::RepositoryNotFound(_) => ErrorCode::NotFound,
            GatewayError::LimitExceeded { .. } => ErrorCode::ResourceExhausted,
            GatewayError::Unavailable(_) => ErrorCode::Unavailable,
            GatewayError::Conflict(_) | GatewayError::FailedPrecondition(_) => {
                ErrorCode::FailedPrecondition
            }
            GatewayError::Internal(_) => ErrorCode::Internal,
            GatewayError::Node(e) => e.code(),
        }
    }
}

/// The gRPC code of an Aiex error code.
pub fn grpc_code(code: ErrorCode) -> tonic::Code {
    match code {
        ErrorCode::InvalidArgument => tonic::Code::InvalidArgument,
        ErrorCode::NotFound => tonic::Code::NotFound,
        ErrorCode::ResourceExhausted => tonic::Code::ResourceExhausted,
        ErrorCode::FailedPrecondition => tonic::Code::FailedPrecondition,
        ErrorCode::Unavailable => tonic::Code::Unavailable,
        ErrorCode::Internal => tonic::Code::Internal,
    }
}

impl From<GatewayError> for tonic::Status {
    fn from(e: GatewayError) -> tonic::Status {
        tonic::Status::new(grpc_code(e.code()), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_grpc_codes_with_the_field_named() {
        let s: tonic::Status = GatewayError::Node(NodeError::InvalidArgument {
            field: "limit",
            reason: "must be between 1 and 1000, got 0".into(),
        })
        .into();
        assert_eq!(s.code(), tonic::Code::InvalidArgument);
        assert!(s.message().contains("limit"));
        let s: tonic::Status = GatewayError::RepositoryNotFound("shop".into()).into();
        assert_eq!(s.code(), tonic::Code::NotFound);
        let s: tonic::Status = GatewayError::LimitExceeded {
            what: "upload",
            limit: 10,
        }
        .into();
        assert_eq!(s.code(), tonic::Code::ResourceExhausted);
    }
}
