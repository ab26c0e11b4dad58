//! A circuit breaker per provider.
//!
//! Closed, it counts consecutive failures; after `threshold` of them it opens, and every
//! call is refused at once (no request reaches the provider) for `cool_down`. Then it is
//! half-open: exactly one call, the probe, goes through. A successful probe closes the
//! breaker; a failed one opens it for another cool-down. A probe whose caller gave up
//! without an outcome frees the slot for the next caller.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

#[derive(Debug)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probing: bool },
}

#[derive(Debug)]
pub struct CircuitBreaker {
    threshold: u32,
    cool_down: Duration,
    state: Mutex<State>,
}

/// Leave to make one call. Report its outcome with [`Permit::succeed`] or
/// [`Permit::fail`]; dropping it reports nothing.
#[derive(Debug)]
#[must_use = "report the call's outcome"]
pub struct Permit {
    breaker: Arc<CircuitBreaker>,
    probe: bool,
    settled: bool,
}

impl CircuitBreaker {
    pub fn new(threshold: u32, cool_down: Duration) -> Arc<CircuitBreaker> {
        Arc::new(CircuitBreaker {
            threshold: threshold.max(1),
            cool_down,
            state: Mutex::new(State::Closed { failures: 0 }),
        })
    }

    pub fn state(&self) -> BreakerState {
        let mut state = self.lock();
        Self::advance(&mut state);
        match *state {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// A permit to call, or how long until the breaker lets a probe through.
    pub fn acquire(self: &Arc<Self>) -> Result<Permit, Duration> {
        let mut state = self.lock();
        Self::advance(&mut state);
        let probe = match &mut *state {
            State::Closed { .. } => false,
            State::Open { until } => return Err(until.saturating_duration_since(Instant::now())),
            State::HalfOpen { probing: true } => return Err(Duration::ZERO),
            State::HalfOpen { probing } => {
                *probing = true;
                true
            }
        };
        Ok(Permit {
            breaker: Arc::clone(self),
            probe,
            settled: false,
        })
    }

    /// A failure outside any permit (a stream that broke after its first token).
    pub fn record_failure(&self) {
        let mut state = self.lock();
        self.fail(&mut state);
    }

    fn fail(&self, state: &mut State) {
        *state = match *state {
            State::Closed { failures } if failures + 1 < self.threshold => State::Closed {
                failures: failures + 1,
            },
            State::Open { until } => State::Open { until },
            _ => State::Open {
                until: Instant::now() + self.cool_down,
            },
        };
    }

    fn advance(state: &mut State) {
        if let State::Open { until } = *state
            && Instant::now() >= until
        {
            *state = State::HalfOpen { probing: false };
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Permit {
    pub fn succeed(mut self) {
        self.settled = true;
        *self.breaker.lock() = State::Closed { failures: 0 };
    }

    pub fn fail(mut self) {
        self.settled = true;
        let mut state = self.breaker.lock();
        if self.probe {
            *state = State::Open {
                until: Instant::now() + self.breaker.cool_down,
            };
        } else {
            self.breaker.fail(&mut state);
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.settled && self.probe {
            let mut state = self.breaker.lock();
            if let State::HalfOpen { probing } = &mut *state {
                *probing = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_and_probes_once() {
        let breaker = CircuitBreaker::new(3, Duration::from_millis(30));
        for _ in 0..2 {
            breaker.acquire().unwrap().fail();
        }
        assert_eq!(breaker.state(), BreakerState::Closed);
        breaker.acquire().unwrap().succeed();
        for _ in 0..3 {
            breaker.acquire().unwrap().fail();
        }
        assert_eq!(breaker.state(), BreakerState::Open);
        assert!(breaker.acquire().is_err());
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        let probe = breaker.acquire().unwrap();
        assert!(breaker.acquire().is_err(), "one probe at a time");
        drop(probe);
        let probe = breaker
            .acquire()
            .expect("an abandoned probe frees the slot");
        probe.fail();
        assert_eq!(breaker.state(), BreakerState::Open);
        std::thread::sleep(Duration::from_millis(40));
        breaker.acquire().unwrap().succeed();
        assert_eq!(breaker.state(), BreakerState::Closed);
    }
}
