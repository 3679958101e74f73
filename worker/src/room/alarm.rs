//! The room's one alarm serves several duties: retention, webhook retries,
//! sweeping abandoned uploads, the room list's trailing report. Each asks
//! for it by a time; none may postpone another's, and the alarm handler
//! works out what is due from the stored state, so an early call is harmless.

use worker::console_error;

use crate::clock::now_ms;

/// Make sure the room's alarm runs by `at` (ms since the epoch), without
/// postponing one that is due sooner.
pub(super) async fn alarm_by(storage: &worker::Storage, at: u64) {
    let sooner = match storage.get_alarm().await {
        // One in the past is the alarm now running (or about to): it does
        // not stand for the next.
        Ok(Some(current)) if current > now_ms() as i64 => (at as i64) < current,
        _ => true,
    };
    if sooner {
        let wait = (at as i64 - now_ms() as i64).max(1_000);
        if let Err(e) = storage.set_alarm(wait).await {
            console_error!("room: cannot set its alarm: {e}");
        }
    }
}
