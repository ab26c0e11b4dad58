//! [`ProviderChain`]: the providers one task tries, in order, within one request.
//!
//! Each member is normally a [`GuardedProvider`](super::GuardedProvider), whose `stream`
//! returns only once the first token is in hand (after its own retries). So when a member
//! fails, or its breaker is open, nothing has reached the caller yet and the chain moves on
//! to the next member. Once a member has answered, the chain is committed to it.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::{ChatRequest, EventStream, LlmError, Provider};

pub struct ProviderChain {
    name: String,
    members: Vec<Arc<dyn Provider>>,
}

impl std::fmt::Debug for ProviderChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let members: Vec<&str> = self.members.iter().map(|m| m.name()).collect();
        f.debug_struct("ProviderChain")
            .field("name", &self.name)
            .field("members", &members)
            .finish()
    }
}

impl ProviderChain {
    pub fn new(name: impl Into<String>, members: Vec<Arc<dyn Provider>>) -> ProviderChain {
        ProviderChain {
            name: name.into(),
            members,
        }
    }

    /// The members' names, in the order they are tried.
    pub fn members(&self) -> Vec<&str> {
        self.members.iter().map(|m| m.name()).collect()
    }
}

#[async_trait::async_trait]
impl Provider for ProviderChain {
    fn name(&self) -> &str {
        &self.name
    }

    async fn stream(
        &self,
        req: ChatRequest,
        cancel: CancellationToken,
    ) -> Result<EventStream, LlmError> {
        let mut errors = Vec::new();
        for (i, member) in self.members.iter().enumerate() {
            match member.stream(req.clone(), cancel.clone()).await {
                Ok(stream) => {
                    if !errors.is_empty() {
                        tracing::info!(chain = %self.name, provider = member.name(), failed = errors.len(), "llm chain failed over");
                    }
                    return Ok(stream);
                }
                Err(LlmError::Cancelled) => return Err(LlmError::Cancelled),
                Err(e) => {
                    if i + 1 < self.members.len() {
                        crate::metrics::LlmLabels::new(member.name(), req.model.as_deref())
                            .failed_over();
                    }
                    tracing::warn!(chain = %self.name, provider = member.name(), error = %e, "llm provider failed before its first token");
                    errors.push(e);
                }
            }
        }
        Err(LlmError::ChainFailed {
            chain: self.name.clone(),
            errors,
        })
    }
}
