//! Readiness is one bit: set once a process's servers are bound and its dependencies
//! answer, and shown the same way everywhere it is asked for: in gossip (a node's
//! `ready` key), on `/health/readyz`, and in gRPC health. Every reader holds a clone of
//! the same [`Readiness`].

use std::sync::Arc;

use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct Readiness(Arc<watch::Sender<bool>>);

impl Readiness {
    /// A new bit, not ready.
    pub fn new() -> Readiness {
        Readiness(Arc::new(watch::channel(false).0))
    }

    pub fn set(&self, ready: bool) {
        self.0
            .send_if_modified(|current| std::mem::replace(current, ready) != ready);
    }

    pub fn is_ready(&self) -> bool {
        *self.0.borrow()
    }

    /// Follows changes (the current value is marked seen).
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.0.subscribe()
    }
}

impl Default for Readiness {
    fn default() -> Readiness {
        Readiness::new()
    }
}
