//! The reconnect schedule: exponential backoff with full jitter
//! (delay = random(0, min(cap, base * 2^attempt))), as described in
//! "Exponential Backoff And Jitter" (AWS Architecture Blog). Full jitter
//! spreads a crowd of clients that lost the same server over the whole window
//! instead of having them retry in lockstep.

/// After a close that hit the whole room at once (a deploy closes every
/// socket), the first retry is spread over a window that grows with the
/// room: 3 ms per member, at most 30 s. 10,000 members then come back at
/// about 330 joins/s instead of all within the first 500 ms.
pub fn crowd_window_ms(members: u32) -> f64 {
    (f64::from(members) * 3.0).min(30_000.0)
}

#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    pub base_ms: f64,
    pub cap_ms: f64,
    attempt: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(500.0, 30_000.0)
    }
}

impl Backoff {
    pub fn new(base_ms: f64, cap_ms: f64) -> Self {
        Backoff {
            base_ms,
            cap_ms,
            attempt: 0,
        }
    }

    /// The upper bound of the next delay.
    pub fn window_ms(&self) -> f64 {
        // 2^attempt overflows nothing: the exponent is capped well before f64 trouble.
        (self.base_ms * 2f64.powi(self.attempt.min(30) as i32)).min(self.cap_ms)
    }

    /// The delay before the next attempt, given a uniform random number in
    /// [0, 1), over a window of at least `floor_ms`.
    pub fn next_delay_at_least(&mut self, random01: f64, floor_ms: f64) -> f64 {
        let r = if random01.is_finite() {
            random01.clamp(0.0, 1.0)
        } else {
            0.5
        };
        let delay = r * self.window_ms().max(floor_ms);
        self.attempt = self.attempt.saturating_add(1);
        delay
    }

    /// The delay before the next attempt, given a uniform random number in [0, 1).
    pub fn next_delay_ms(&mut self, random01: f64) -> f64 {
        self.next_delay_at_least(random01, 0.0)
    }

    /// Start over (after a connection stayed up long enough to count as healthy).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crowd_closed_at_once_spreads_its_first_retry_with_the_room_size() {
        assert_eq!(crowd_window_ms(10), 30.0);
        assert_eq!(crowd_window_ms(1_000), 3_000.0);
        assert_eq!(crowd_window_ms(100_000), 30_000.0);
        let mut b = Backoff::default();
        // The first window is 500 ms; a 10,000-member room widens it to 30 s.
        assert_eq!(
            b.next_delay_at_least(0.5, crowd_window_ms(10_000)),
            15_000.0
        );
        assert_eq!(b.next_delay_at_least(0.5, crowd_window_ms(10)), 500.0);
    }

    #[test]
    fn window_doubles_up_to_the_cap() {
        let mut b = Backoff::new(500.0, 30_000.0);
        let windows: Vec<f64> = (0..9)
            .map(|_| {
                let w = b.window_ms();
                b.next_delay_ms(0.0);
                w
            })
            .collect();
        assert_eq!(
            windows,
            [500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16000.0, 30000.0, 30000.0, 30000.0]
        );
    }

    #[test]
    fn delay_is_uniform_within_the_window() {
        let mut b = Backoff::default();
        for _ in 0..3 {
            b.next_delay_ms(0.0);
        }
        // attempt 3: window 4000 ms.
        assert_eq!(b.clone().next_delay_ms(0.25), 1000.0);
        assert_eq!(b.clone().next_delay_ms(0.0), 0.0);
        assert_eq!(b.clone().next_delay_ms(f64::NAN), 2000.0);
        b.reset();
        assert_eq!(b.next_delay_ms(0.999), 499.5);
    }

    #[test]
    fn many_attempts_never_overflow() {
        let mut b = Backoff::default();
        for _ in 0..100_000 {
            assert!(b.next_delay_ms(0.9) <= 30_000.0);
        }
    }
}
