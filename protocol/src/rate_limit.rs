//! A token bucket: a sender may post `burst` messages at once, then
//! `per_sec` messages per second on average. Time is passed in, never read.

#[derive(Debug, Clone, PartialEq)]
pub struct TokenBucket {
    burst: f64,
    per_ms: f64,
    tokens: f64,
    last_ms: f64,
}

impl TokenBucket {
    /// A full bucket at time `now_ms`.
    pub fn new(burst: u32, per_sec: f64, now_ms: f64) -> Self {
        let burst = f64::from(burst.max(1));
        TokenBucket {
            burst,
            per_ms: per_sec.max(0.0) / 1000.0,
            tokens: burst,
            last_ms: now_ms,
        }
    }

    fn refill(&mut self, now_ms: f64) {
        // A clock that goes backwards must not mint tokens nor panic.
        let elapsed = (now_ms - self.last_ms).max(0.0);
        if elapsed.is_finite() {
            self.tokens = (self.tokens + elapsed * self.per_ms).min(self.burst);
        }
        self.last_ms = self.last_ms.max(now_ms);
    }

    /// Take one token if there is one.
    pub fn try_take(&mut self, now_ms: f64) -> bool {
        self.refill(now_ms);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Give back a token taken for work that turned out to be free (a retry).
    pub fn refund(&mut self) {
        self.tokens = (self.tokens + 1.0).min(self.burst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_steady_rate() {
        let mut b = TokenBucket::new(3, 2.0, 0.0);
        assert!(b.try_take(0.0) && b.try_take(0.0) && b.try_take(0.0));
        assert!(!b.try_take(0.0));
        assert!(!b.try_take(499.0));
        assert!(b.try_take(500.0));
        b.refund();
        assert!(b.try_take(500.0), "a refunded token can be taken again");
        assert!(!b.try_take(500.0));
        // Idle time refills only up to the burst.
        assert!((0..3).all(|_| b.try_take(100_000.0)));
        assert!(!b.try_take(100_000.0));
    }

    #[test]
    fn clock_going_backwards_is_harmless() {
        let mut b = TokenBucket::new(1, 1.0, 1000.0);
        assert!(b.try_take(1000.0));
        assert!(!b.try_take(0.0));
        assert!(!b.try_take(1500.0));
        assert!(b.try_take(2000.0));
        assert!(!b.try_take(f64::NAN));
    }
}
