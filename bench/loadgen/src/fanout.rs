//! Fan-out: N clients in one room, S of them sending M messages in total,
//! every receiver timing each delivery against the send time carried in the
//! message text.
//!
//! Offered load is either a fixed rate (open loop: messages leave on schedule
//! whatever the server does) or the fastest the server sustains (closed loop:
//! each sender keeps at most `window` messages that the monitor client has
//! not received yet).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{Notify, Semaphore};
use tokio_tungstenite::tungstenite::Message;

use crate::stats::{percentile, Report};
use crate::wire::{classify, send_frame, Dialect, Received};

pub struct Config {
    /// `ws://host:port/path?fixed=params` without room and name.
    pub url: String,
    pub dialect: Dialect,
    pub room: String,
    pub clients: usize,
    pub senders: usize,
    pub messages: usize,
    /// Messages per second offered in total; 0 = as fast as sustained.
    pub rate: f64,
    pub window: u64,
}

struct Shared {
    epoch: Instant,
    delivered: AtomicU64,
    last_delivery_us: AtomicU64,
    /// Per sender: its messages received by the monitor (the last client).
    monitor_seen: Vec<AtomicU64>,
    monitor_notify: Vec<Notify>,
    tag: String,
}

impl Shared {
    fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }
}

/// Every `<tag>:<sender>:<n>:<sent_us>` in a message, as (sender, sent_us):
/// one per frame, several in a batch (`batch=1`).
fn bench_payloads<'a>(text: &'a str, prefix: &'a str) -> impl Iterator<Item = (usize, u64)> + 'a {
    text.match_indices(prefix).filter_map(move |(at, _)| {
        let rest = &text[at + prefix.len()..];
        let end = rest.find('"')?;
        let mut parts = rest[..end].split(':');
        let sender = parts.next()?.parse().ok()?;
        let _n = parts.next()?;
        let sent = parts.next()?.parse().ok()?;
        Some((sender, sent))
    })
}

type Sink = futures_util::stream::SplitSink<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    Message,
>;

/// Connect one client; returns its sink, the time to join (ms) and the reader task.
async fn connect(
    cfg: &Config,
    index: usize,
    shared: Arc<Shared>,
    latencies: Arc<Mutex<Vec<u64>>>,
) -> Result<(Sink, f64, tokio::task::JoinHandle<()>), String> {
    let url = format!("{}&room={}&name=c{index}", cfg.url, cfg.room);
    let started = Instant::now();
    let (ws, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .map_err(|e| format!("connect {url}: {e}"))?;
    let (sink, mut stream) = ws.split();
    // v1 joins are complete with the history frame; legacy rooms send no marker.
    if cfg.dialect == Dialect::V1 {
        loop {
            match stream.next().await {
                Some(Ok(Message::Text(t)))
                    if matches!(classify(cfg.dialect, &t), Received::History) =>
                {
                    break
                }
                Some(Ok(_)) => {}
                _ => return Err("closed while joining".into()),
            }
        }
    }
    let join_ms = started.elapsed().as_secs_f64() * 1000.0;
    let is_monitor = index == cfg.clients - 1;
    let reader = tokio::spawn(async move {
        let prefix = format!("{}:", shared.tag);
        while let Some(Ok(frame)) = stream.next().await {
            let Message::Text(text) = frame else { continue };
            // Found by substring, not by parsing JSON: the same cost for both
            // dialects, so the load generator does not favour either server.
            for (sender, sent) in bench_payloads(&text, &prefix) {
                let now = shared.now_us();
                if let Ok(mut l) = latencies.lock() {
                    l.push(now.saturating_sub(sent));
                }
                shared.delivered.fetch_add(1, Ordering::Relaxed);
                shared.last_delivery_us.fetch_max(now, Ordering::Relaxed);
                if is_monitor {
                    if let Some(seen) = shared.monitor_seen.get(sender) {
                        seen.fetch_add(1, Ordering::Relaxed);
                        shared.monitor_notify[sender].notify_one();
                    }
                }
            }
        }
    });
    Ok((sink, join_ms, reader))
}

pub async fn run(cfg: Config) -> Result<Report, String> {
    let clients = cfg.clients.max(2);
    let senders = cfg.senders.clamp(1, clients - 1);
    let shared = Arc::new(Shared {
        epoch: Instant::now(),
        delivered: AtomicU64::new(0),
        last_delivery_us: AtomicU64::new(0),
        monitor_seen: (0..senders).map(|_| AtomicU64::new(0)).collect(),
        monitor_notify: (0..senders).map(|_| Notify::new()).collect(),
        tag: format!("bench{}", std::process::id()),
    });

    // Connect everyone (64 at a time, as a crowd arriving would).
    let gate = Arc::new(Semaphore::new(64));
    let connect_started = Instant::now();
    let cfg = Arc::new(cfg);
    let mut joins = Vec::new();
    for i in 0..clients {
        let (cfg, shared, gate) = (cfg.clone(), shared.clone(), gate.clone());
        joins.push(tokio::spawn(async move {
            let _permit = gate.acquire().await;
            let latencies = Arc::new(Mutex::new(Vec::new()));
            let r = connect(&cfg, i, shared, latencies.clone()).await;
            r.map(|(sink, ms, reader)| (sink, ms, reader, latencies))
        }));
    }
    let mut sinks = Vec::new();
    let mut join_ms = Vec::new();
    let mut readers = Vec::new();
    let mut all_latencies = Vec::new();
    for j in joins {
        let (sink, ms, reader, lat) = j.await.map_err(|e| e.to_string())??;
        sinks.push(sink);
        join_ms.push((ms * 1000.0) as u64);
        readers.push(reader);
        all_latencies.push(lat);
    }
    let connect_total_ms = connect_started.elapsed().as_secs_f64() * 1000.0;

    // Send.
    let per_sender = cfg.messages / senders;
    let expected = (per_sender * senders * (clients - 1)) as u64;
    let send_started_us = shared.now_us();
    let mut send_tasks = Vec::new();
    for (s, mut sink) in sinks.drain(..senders).enumerate() {
        let (cfg, shared) = (cfg.clone(), shared.clone());
        send_tasks.push(tokio::spawn(async move {
            let interval = if cfg.rate > 0.0 {
                Some(Duration::from_secs_f64(senders as f64 / cfg.rate))
            } else {
                None
            };
            let start = Instant::now();
            for n in 0..per_sender {
                match interval {
                    Some(iv) => tokio::time::sleep_until((start + iv * n as u32).into()).await,
                    None => {
                        while n as u64 - shared.monitor_seen[s].load(Ordering::Relaxed)
                            >= cfg.window
                        {
                            let _ = tokio::time::timeout(
                                Duration::from_millis(200),
                                shared.monitor_notify[s].notified(),
                            )
                            .await;
                        }
                    }
                }
                let text = format!("{}:{s}:{n}:{}", shared.tag, shared.now_us());
                let frame = send_frame(cfg.dialect, &format!("{}-{s}-{n}", shared.tag), &text);
                if sink.send(Message::Text(frame.into())).await.is_err() {
                    break;
                }
            }
            sink
        }));
    }
    let mut sender_sinks = Vec::new();
    for t in send_tasks {
        sender_sinks.push(t.await.map_err(|e| e.to_string())?);
    }

    // Wait for every delivery, or for 10 s without progress.
    let mut last = 0;
    let mut idle_since = Instant::now();
    loop {
        let d = shared.delivered.load(Ordering::Relaxed);
        if d >= expected {
            break;
        }
        if d != last {
            last = d;
            idle_since = Instant::now();
        } else if idle_since.elapsed() > Duration::from_secs(10) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let delivered = shared.delivered.load(Ordering::Relaxed);
    let elapsed_s = (shared
        .last_delivery_us
        .load(Ordering::Relaxed)
        .saturating_sub(send_started_us)) as f64
        / 1e6;

    for r in &readers {
        r.abort();
    }
    for mut sink in sender_sinks.into_iter().chain(sinks) {
        let _ = sink.close().await;
    }
    let mut lat: Vec<u64> = all_latencies
        .iter()
        .flat_map(|l| l.lock().map(|v| v.clone()).unwrap_or_default())
        .collect();
    lat.sort_unstable();
    join_ms.sort_unstable();
    let ms = |us: u64| us as f64 / 1000.0;
    Ok(Report::new("fanout")
        .num("clients", clients as f64)
        .num("senders", senders as f64)
        .num("messages", (per_sender * senders) as f64)
        .num("rate", cfg.rate)
        .num("expected", expected as f64)
        .num("delivered", delivered as f64)
        .num(
            "delivered_pct",
            100.0 * delivered as f64 / expected.max(1) as f64,
        )
        .num("p50_ms", ms(percentile(&lat, 50.0)))
        .num("p95_ms", ms(percentile(&lat, 95.0)))
        .num("p99_ms", ms(percentile(&lat, 99.0)))
        .num("deliveries_per_s", delivered as f64 / elapsed_s.max(1e-9))
        .num(
            "messages_per_s",
            (per_sender * senders) as f64 / elapsed_s.max(1e-9),
        )
        .num("join_p50_ms", ms(percentile(&join_ms, 50.0)))
        .num("connect_all_ms", connect_total_ms))
}

#[cfg(test)]
mod tests {
    use super::bench_payloads;

    fn bench_payload(text: &str, prefix: &str) -> Option<(usize, u64)> {
        bench_payloads(text, prefix).next()
    }

    #[test]
    fn finds_every_payload_in_a_batch() {
        let batch = r#"[{"type":"message","message":"bench7:2:5:10"},{"type":"message","message":"bench7:3:1:20"}]"#;
        assert_eq!(
            bench_payloads(batch, "bench7:").collect::<Vec<_>>(),
            [(2, 10), (3, 20)]
        );
    }

    #[test]
    fn finds_the_payload_in_both_dialects() {
        let v1 = r#"{"type":"message","seq":3,"id":"x","name":"c1","message":"bench7:2:5:123456","timestamp":1}"#;
        let legacy = r#"{"name":"c1","message":"bench7:2:5:123456","timestamp":1}"#;
        assert_eq!(bench_payload(v1, "bench7:"), Some((2, 123456)));
        assert_eq!(bench_payload(legacy, "bench7:"), Some((2, 123456)));
        assert_eq!(
            bench_payload(r#"{"message":"joined the chat"}"#, "bench7:"),
            None
        );
    }
}
