//! Randomness for client ids and reconnect jitter.

/// Client ids and jitter from `crypto.getRandomValues` (every browser that
/// runs WebAssembly has it).
pub fn entropy() -> protocol::session::Entropy {
    let crypto = crate::global::window().and_then(|w| w.crypto().ok());
    Box::new(move |buf: &mut [u8; 16]| {
        if let Some(c) = &crypto {
            let _ = c.get_random_values_with_u8_array(buf);
        }
    })
}
