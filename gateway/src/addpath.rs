//! `AddPath`: the server walks a directory itself (embedded mode), confined to the
//! configured roots, and feeds the same upload session a client upload would.

use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::error::GatewayError;
use crate::registry::RepoRecord;
use crate::service::GatewayState;
use crate::upload::UploadSession;

/// The canonical directory `path`, if it lies inside one of `roots`.
pub fn confine(roots: &[PathBuf], path: &str) -> Result<PathBuf, GatewayError> {
    if roots.is_empty() {
        return Err(GatewayError::FailedPrecondition(
            "this gateway indexes no server-side paths: start it with `--allow-root DIR` (or `allow_roots` under `[up]` in the config file), or upload with `aiex repo add`".into(),
        ));
    }
    if path.is_empty() {
        return Err(GatewayError::InvalidArgument {
            field: "path",
            reason: "name a directory on the server".into(),
        });
    }
    let canonical = Path::new(path)
        .canonicalize()
        .map_err(|e| GatewayError::InvalidArgument {
            field: "path",
            reason: format!("`{path}` cannot be opened on the server: {e}"),
        })?;
    if !canonical.is_dir() {
        return Err(GatewayError::InvalidArgument {
            field: "path",
            reason: format!("`{path}` is not a directory"),
        });
    }
    let inside = roots
        .iter()
        .any(|root| root.canonicalize().is_ok_and(|r| canonical.starts_with(&r)));
    if !inside {
        return Err(GatewayError::InvalidArgument {
            field: "path",
            reason: format!(
                "`{path}` is outside the allowed roots ({})",
                roots
                    .iter()
                    .map(|r| r.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    Ok(canonical)
}

/// Walks `root` (honouring .gitignore) and uploads it as `repo`, deleting what is gone.
pub async fn add(
    state: &GatewayState,
    repo: &str,
    root: &Path,
    replace: bool,
) -> Result<RepoRecord, GatewayError> {
    let source = crate::registry::Source {
        at: root.display().to_string(),
        replace,
    };
    let mut session = UploadSession::begin(
        state.registry.clone(),
        state.config.limits.clone(),
        repo,
        &source,
    )?;
    let walk_root = root.to_path_buf();
    let walk = tokio::task::spawn_blocking(move || aiex_node::ingest::walk(&walk_root))
        .await
        .map_err(|e| GatewayError::Internal(e.to_string()))??;
    for entry in &walk.passed_over {
        tracing::warn!(repository = repo, entry = %entry, "entry passed over");
    }
    session.passed_over(walk.passed_over.len() as u64);
    for (rel, abs, size) in walk.files {
        if size > state.config.limits.max_file_bytes {
            session.skip(rel.as_bytes()).await?;
            continue;
        }
        match tokio::fs::read(&abs).await {
            Ok(bytes) => {
                session
                    .add(rel.as_bytes(), Bytes::from(bytes), 0o644)
                    .await?
            }
            Err(e) => {
                tracing::warn!(path = %abs.display(), error = %e, "unreadable file skipped");
                session.skip(rel.as_bytes()).await?;
            }
        }
    }
    session.commit(true).await
}
