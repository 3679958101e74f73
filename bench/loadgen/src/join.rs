//! Join cost: time from opening the connection (TCP connect, upgrade, the
//! Worker's checks, the room's history query) to the first history frame, and
//! every byte the server sends on join (until it has been quiet for a while).

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use crate::stats::{percentile, Report};
use crate::wire::{classify, Dialect, Received};

pub async fn run(
    url: &str,
    dialect: Dialect,
    room: &str,
    repeat: usize,
    quiet_ms: u64,
) -> Result<Report, String> {
    let mut first = Vec::new();
    let mut all = Vec::new();
    let mut bytes = Vec::new();
    for i in 0..repeat {
        let opened = Instant::now();
        let (ws, _) =
            tokio_tungstenite::connect_async(format!("{url}&room={room}&name=joiner{i}").as_str())
                .await
                .map_err(|e| e.to_string())?;
        let (mut sink, mut stream) = ws.split();
        let (mut got_first, mut total, mut last_at) = (None, 0usize, opened);
        loop {
            match tokio::time::timeout(Duration::from_millis(quiet_ms), stream.next()).await {
                Ok(Some(Ok(Message::Text(t)))) => {
                    total += t.len();
                    last_at = Instant::now();
                    let is_history = match classify(dialect, &t) {
                        Received::History => true,
                        Received::Message => dialect == Dialect::Legacy,
                        _ => false,
                    };
                    if is_history && got_first.is_none() {
                        got_first = Some(opened.elapsed());
                    }
                }
                Ok(Some(Ok(_))) => {}
                _ => break,
            }
        }
        first.push(got_first.unwrap_or_default().as_micros() as u64);
        all.push((last_at - opened).as_micros() as u64);
        bytes.push(total as u64);
        let _ = sink.close().await;
    }
    first.sort_unstable();
    all.sort_unstable();
    bytes.sort_unstable();
    Ok(Report::new("join")
        .num("first_history_ms", percentile(&first, 50.0) as f64 / 1000.0)
        .num("all_history_ms", percentile(&all, 50.0) as f64 / 1000.0)
        .num("bytes", percentile(&bytes, 50.0) as f64))
}
