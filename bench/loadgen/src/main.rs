//! `loadgen`: the load generator behind `npm run bench`. Prints one JSON line.
//!
//!   loadgen fanout --url 'ws://127.0.0.1:8787/ws?v=1&site=bench' --dialect v1 --room R
//!                  --clients 100 --senders 10 --messages 1000 [--rate 500] [--window 16]
//!   loadgen join   --url '...' --dialect v1|legacy --room R [--repeat 5] [--quiet-ms 300]
//!
//! `--rate 0` (default) offers load as fast as the server sustains.

mod fanout;
mod join;
mod stats;
mod wire;

use std::collections::HashMap;

use wire::Dialect;

fn args() -> (String, HashMap<String, String>) {
    let mut it = std::env::args().skip(1);
    let command = it.next().unwrap_or_default();
    let mut map = HashMap::new();
    while let Some(key) = it.next() {
        if let Some(k) = key.strip_prefix("--") {
            map.insert(k.to_owned(), it.next().unwrap_or_default());
        }
    }
    (command, map)
}

fn get<T: std::str::FromStr>(map: &HashMap<String, String>, key: &str, default: T) -> T {
    map.get(key).and_then(|v| v.parse().ok()).unwrap_or(default)
}

// One thread: the load generator shares the machine with the servers it
// measures and must not take more than one core from them.
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (command, a) = args();
    let dialect = if a.get("dialect").map(String::as_str) == Some("legacy") {
        Dialect::Legacy
    } else {
        Dialect::V1
    };
    let url = a
        .get("url")
        .cloned()
        .unwrap_or_else(|| "ws://127.0.0.1:8787/ws?v=1".into());
    let room = a.get("room").cloned().unwrap_or_else(|| "bench".into());
    let result = match command.as_str() {
        "fanout" => {
            fanout::run(fanout::Config {
                url,
                dialect,
                room,
                clients: get(&a, "clients", 10),
                senders: get(&a, "senders", 1),
                messages: get(&a, "messages", 100),
                rate: get(&a, "rate", 0.0),
                window: get(&a, "window", 16),
            })
            .await
        }
        "join" => {
            join::run(
                &url,
                dialect,
                &room,
                get(&a, "repeat", 5),
                get(&a, "quiet-ms", 300),
            )
            .await
        }
        _ => Err("usage: loadgen fanout|join --url URL [...] (see the source header)".into()),
    };
    match result {
        Ok(report) => println!("{}", report.line()),
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(1);
        }
    }
}
