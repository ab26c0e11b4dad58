//! Per-provider rate limits on requests and tokens, with `governor`.
//!
//! A [`Rate`] of `n` per `period` is enforced strictly: in any window of `period`, at most
//! `n` requests (or tokens) pass. `governor`'s GCRA lets a full burst through and then
//! refills, which would allow up to twice the rate across a window boundary; so a rate
//! becomes a burst of `n/2` refilled at `n/2` per period, whose worst window is `n`.
//!
//! In the mesh each node takes its share of a cluster-wide limit ([`shared_limit`]); when
//! membership changes, [`RateLimiter::set_live_nodes`] rebuilds the limiters.

use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::LlmError;

/// `amount` per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    pub amount: NonZeroU32,
    pub period: Duration,
}

impl Rate {
    /// `amount` per `period`; `None` if `amount` is zero (no limit).
    pub fn new(amount: u32, period: Duration) -> Option<Rate> {
        Some(Rate {
            amount: NonZeroU32::new(amount)?,
            period,
        })
    }

    pub fn per_minute(amount: u32) -> Option<Rate> {
        Rate::new(amount, Duration::from_secs(60))
    }

    /// This node's share when `live_nodes` nodes split the rate.
    pub fn shared(self, live_nodes: usize) -> Rate {
        let amount = shared_limit(self.amount.get(), live_nodes);
        Rate {
            amount: NonZeroU32::new(amount).unwrap_or(NonZeroU32::MIN),
            period: self.period,
        }
    }

    /// A quota whose worst window of `period` admits at most `amount`.
    fn strict_quota(self) -> Quota {
        let n = self.amount.get();
        let burst = (n / 2).max(1);
        let refill = (n - burst).max(1);
        let interval = (self.period / refill).max(Duration::from_nanos(1));
        Quota::with_period(interval)
            .expect("interval is not zero")
            .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
    }

    fn burst(self) -> u32 {
        (self.amount.get() / 2).max(1)
    }
}

/// A cluster-wide limit divided among the live nodes: each takes `total / live`, at
/// least 1. With no live nodes known, this node takes the whole limit.
pub fn shared_limit(total: u32, live_nodes: usize) -> u32 {
    let live = u32::try_from(live_nodes.max(1)).unwrap_or(u32::MAX);
    (total / live).max(1)
}

/// The limits of one provider; `None` means unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub requests: Option<Rate>,
    pub tokens: Option<Rate>,
}

impl Limits {
    pub fn per_minute(rpm: Option<u32>, tpm: Option<u32>) -> Limits {
        Limits {
            requests: rpm.and_then(Rate::per_minute),
            tokens: tpm.and_then(Rate::per_minute),
        }
    }

    pub fn shared(self, live_nodes: usize) -> Limits {
        Limits {
            requests: self.requests.map(|r| r.shared(live_nodes)),
            tokens: self.tokens.map(|r| r.shared(live_nodes)),
        }
    }
}

struct Buckets {
    limits: Limits,
    requests: Option<DefaultDirectRateLimiter>,
    tokens: Option<DefaultDirectRateLimiter>,
}

impl Buckets {
    fn new(limits: Limits) -> Buckets {
        let direct = |r: Rate| DefaultDirectRateLimiter::direct(r.strict_quota());
        Buckets {
            limits,
            requests: limits.requests.map(direct),
            tokens: limits.tokens.map(direct),
        }
    }
}

/// The requests and tokens limiters of one provider, rebuildable when the cluster-wide
/// limits or the number of live nodes change.
pub struct RateLimiter {
    provider: String,
    configured: RwLock<(Limits, usize)>,
    buckets: RwLock<Arc<Buckets>>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("provider", &self.provider)
            .field("limits", &self.current())
            .finish()
    }
}

impl RateLimiter {
    /// Limits for this node alone (one live node).
    pub fn new(provider: impl Into<String>, limits: Limits) -> RateLimiter {
        RateLimiter {
            provider: provider.into(),
            configured: RwLock::new((limits, 1)),
            buckets: RwLock::new(Arc::new(Buckets::new(limits))),
        }
    }

    /// The limits in force on this node (its share of the configured ones).
    pub fn current(&self) -> Limits {
        read(&self.buckets).limits
    }

    /// Replaces the cluster-wide limits, keeping the current share.
    pub fn set_limits(&self, limits: Limits) {
        let live = {
            let mut configured = self.configured.write().unwrap_or_else(|e| e.into_inner());
            configured.0 = limits;
            configured.1
        };
        self.rebuild(limits.shared(live));
    }

    /// Membership changed: this node now takes `1 / live_nodes` of the configured limits.
    /// Nothing is rebuilt if the share is unchanged.
    pub fn set_live_nodes(&self, live_nodes: usize) {
        let limits = {
            let mut configured = self.configured.write().unwrap_or_else(|e| e.into_inner());
            configured.1 = live_nodes;
            configured.0.shared(live_nodes)
        };
        if limits != self.current() {
            self.rebuild(limits);
        }
    }

    fn rebuild(&self, limits: Limits) {
        *self.buckets.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(Buckets::new(limits));
    }

    /// Waits until one request of about `tokens` tokens may go. A request larger than the
    /// whole tokens-per-period limit can never go and fails at once; one larger than
    /// the burst waits for a full burst.
    pub async fn acquire(&self, tokens: u32, cancel: &CancellationToken) -> Result<(), LlmError> {
        let buckets = read(&self.buckets);
        if let (Some(rate), Some(limiter)) = (buckets.limits.tokens, &buckets.tokens) {
            if tokens > rate.amount.get() {
                return Err(LlmError::OverTokenLimit {
                    provider: self.provider.clone(),
                    needed: tokens,
                    limit: rate.amount.get(),
                });
            }
            let n = NonZeroU32::new(tokens.min(rate.burst())).unwrap_or(NonZeroU32::MIN);
            tokio::select! {
                _ = cancel.cancelled() => return Err(LlmError::Cancelled),
                r = limiter.until_n_ready(n) => {
                    // n never exceeds the burst, so capacity is always sufficient.
                    let _ = r;
                }
            }
        }
        if let Some(limiter) = &buckets.requests {
            tokio::select! {
                _ = cancel.cancelled() => return Err(LlmError::Cancelled),
                _ = limiter.until_ready() => {}
            }
        }
        Ok(())
    }
}

fn read<T: Clone>(lock: &RwLock<T>) -> T {
    lock.read().unwrap_or_else(|e| e.into_inner()).clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_at_least_one() {
        assert_eq!(shared_limit(600, 3), 200);
        assert_eq!(shared_limit(10, 4), 2);
        assert_eq!(shared_limit(2, 5), 1);
        assert_eq!(shared_limit(60, 0), 60);
    }

    #[test]
    fn membership_changes_rebuild_the_share() {
        let limiter = RateLimiter::new("p", Limits::per_minute(Some(600), Some(90_000)));
        limiter.set_live_nodes(3);
        assert_eq!(
            limiter.current(),
            Limits::per_minute(Some(200), Some(30_000))
        );
        limiter.set_limits(Limits::per_minute(Some(30), None));
        assert_eq!(limiter.current(), Limits::per_minute(Some(10), None));
        limiter.set_live_nodes(1);
        assert_eq!(limiter.current(), Limits::per_minute(Some(30), None));
    }

    #[test]
    fn strict_quota_worst_window_is_the_rate() {
        for n in [2u32, 3, 10, 11, 600] {
            let rate = Rate::new(n, Duration::from_secs(60)).unwrap();
            let q = rate.strict_quota();
            let refill_in_period =
                (Duration::from_secs(60).as_nanos() / q.replenish_interval().as_nanos()) as u32;
            assert!(q.burst_size().get() + refill_in_period <= n, "n={n}");
        }
    }
}
