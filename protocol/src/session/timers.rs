//! The session's deadlines, in one table keyed by what each is for (as
//! quinn-proto keeps its `TimerTable`): `poll_timeout` is the earliest
//! entry, a clock set back moves them all, and a new deadline cannot be
//! forgotten in either place.

/// What a deadline is for. Times are the device's clock (`Date.now()`, ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// The socket must be welcomed by then, or it is abandoned.
    Connect,
    /// Open a new socket (the backoff's wait).
    Retry,
    /// Send the heartbeat ping.
    Ping,
    /// The ping out must be answered by then, or the socket is dead.
    Pong,
    /// The connection stayed up long enough to reset the backoff.
    Healthy,
    /// Something we sent still waits for an answer: probe the socket.
    AnswerProbe,
    /// A read position held back in a live event goes out (only while up).
    Read,
    /// Taken out of the page: look again whether it is back. Put back into
    /// a container with no size (a closed panel), no resize tells it.
    Detached,
    /// A timed ban ends: join again.
    BanEnds,
}

const ALL: [Timer; 9] = [
    Timer::Connect,
    Timer::Retry,
    Timer::Ping,
    Timer::Pong,
    Timer::Healthy,
    Timer::AnswerProbe,
    Timer::Read,
    Timer::Detached,
    Timer::BanEnds,
];

#[derive(Debug, Default)]
pub(crate) struct Timers([Option<f64>; ALL.len()]);

impl Timers {
    pub fn get(&self, timer: Timer) -> Option<f64> {
        self.0[timer as usize]
    }

    pub fn is_set(&self, timer: Timer) -> bool {
        self.get(timer).is_some()
    }

    pub fn set(&mut self, timer: Timer, at: f64) {
        self.0[timer as usize] = Some(at);
    }

    pub fn stop(&mut self, timer: Timer) {
        self.0[timer as usize] = None;
    }

    /// Whether `timer` is due at `now`; if it is, it is stopped, so that
    /// it fires once.
    pub fn expire(&mut self, timer: Timer, now: f64) -> bool {
        let due = self.get(timer).is_some_and(|at| at <= now);
        if due {
            self.stop(timer);
        }
        due
    }

    /// The earliest deadline among those `counts` keeps.
    pub fn earliest(&self, counts: impl Fn(Timer) -> bool) -> Option<f64> {
        ALL.into_iter()
            .filter(|&t| counts(t))
            .filter_map(|t| self.get(t))
            .reduce(f64::min)
    }

    /// The clock went back by `by` ms: every deadline goes back with it.
    pub fn shift_back(&mut self, by: f64) {
        for at in self.0.iter_mut().flatten() {
            *at -= by;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_due_timer_fires_once_and_the_earliest_counted_one_is_next() {
        let mut timers = Timers::default();
        timers.set(Timer::Ping, 300.0);
        timers.set(Timer::Read, 100.0);
        timers.set(Timer::Retry, 200.0);
        assert_eq!(timers.earliest(|_| true), Some(100.0));
        assert_eq!(timers.earliest(|t| t != Timer::Read), Some(200.0));
        assert!(!timers.expire(Timer::Retry, 199.0));
        assert!(timers.expire(Timer::Retry, 200.0));
        assert!(!timers.expire(Timer::Retry, 500.0));
        timers.shift_back(50.0);
        assert_eq!(timers.get(Timer::Ping), Some(250.0));
        timers.stop(Timer::Ping);
        timers.stop(Timer::Read);
        assert_eq!(timers.earliest(|_| true), None);
    }
}
