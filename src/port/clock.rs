//! Time comes in through a trait so tests can fix it.

use std::cell::Cell;

/// Seconds since the Unix epoch.
pub trait Clock {
    /// The current time, in whole seconds since the Unix epoch.
    fn now(&self) -> u64;
}

/// A clock that stands still until told to move; for tests.
#[derive(Debug)]
pub struct FixedClock(Cell<u64>);

impl FixedClock {
    /// A clock reading `now`.
    pub fn at(now: u64) -> Self {
        Self(Cell::new(now))
    }

    /// Moves the clock forward.
    pub fn advance(&self, seconds: u64) {
        self.0.set(self.0.get() + seconds);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> u64 {
        self.0.get()
    }
}
