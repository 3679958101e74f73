//! The time, from the runtime (`std::time` panics on wasm32).

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    worker::Date::now().as_millis()
}
