//! One webhook delivery: a POST with the event's headers and signature, given
//! up after a timeout (a receiver that hangs must not stall the queue).

use wasm_bindgen::prelude::*;
use worker::wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(inline_js = "
export async function deliver(url, type, id, signature, body, ms) {
  try {
    const res = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/json',
        'hello-chat-event': type,
        'hello-chat-delivery': id,
        'hello-chat-signature': signature,
        'user-agent': 'HelloChat-Webhooks/1',
      },
      body,
      signal: AbortSignal.timeout(ms),
    });
    await res.arrayBuffer().catch(() => {});
    return [res.status, ''];
  } catch (e) {
    // Two words, not the runtime's message: that would tell a site owner
    // more about what a host answers than whether their receiver works.
    const late = e && (e.name === 'TimeoutError' || e.name === 'AbortError');
    return [0, late ? `no answer within ${ms / 1000} s` : 'could not connect'];
  }
}
")]
extern "C" {
    #[wasm_bindgen(js_name = deliver)]
    fn deliver_js(
        url: &str,
        kind: &str,
        id: &str,
        signature: &str,
        body: &str,
        ms: u32,
    ) -> js_sys::Promise;
}

/// How long a receiver has to answer.
const TIMEOUT_MS: u32 = 10_000;

/// POST `body`; the receiver's status (0 if it could not be reached) and
/// why not, if it could not.
pub async fn deliver(
    url: &str,
    kind: &str,
    id: &str,
    signature: &str,
    body: &str,
) -> (u16, String) {
    let Ok(result) = JsFuture::from(deliver_js(url, kind, id, signature, body, TIMEOUT_MS)).await
    else {
        return (0, "delivery failed".into());
    };
    let pair = js_sys::Array::from(&result);
    let status = pair.get(0).as_f64().unwrap_or(0.0) as u16;
    (status, pair.get(1).as_string().unwrap_or_default())
}
