// The single-file <script> embed: wasm-bindgen glue + the wasm (gzipped and
// base64-encoded by scripts/lib/build.mjs) + the API. Defines window.HelloChat
// and nothing else; the wasm is only inflated and compiled on the first mount.
import init, { Widget } from '../../dist/pkg/hello_chat.js';
import wasmGzBase64 from '../../dist/pkg/wasm-inline.js';
import { createHelloChat, optionsFromDataset } from './api.js';

async function wasmBytes() {
  const gz = Uint8Array.from(atob(wasmGzBase64), (c) => c.charCodeAt(0));
  const stream = new Blob([gz]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Response(stream).arrayBuffer();
}

// The origin this script was served from is the default server.
const scriptOrigin = (() => {
  try { return new URL(document.currentScript.src).origin; } catch { return location.origin; }
})();

const HelloChat = createHelloChat(async () => {
  await init({ module_or_path: await wasmBytes() });
  return { Widget };
}, () => scriptOrigin);

function autoMount() {
  for (const el of document.querySelectorAll('[data-hello-chat]')) {
    if (el.helloChat) continue;
    el.helloChat = HelloChat.mount(el, optionsFromDataset(el));
  }
}

if (!window.HelloChat) {
  window.HelloChat = HelloChat;
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', autoMount, { once: true });
  else autoMount();
}
