// The single-file <script> embed: wasm-bindgen glue + the wasm (inlined by
// esbuild as base64) + the API. Defines window.HelloChat and nothing else.
import init, { Widget } from '../../dist/pkg/hello_chat.js';
import wasmBytes from '../../dist/pkg/hello_chat_bg.wasm';
import { createHelloChat, optionsFromDataset } from './api.js';

// The origin this script was served from is the default server.
const scriptOrigin = (() => {
  try { return new URL(document.currentScript.src).origin; } catch { return location.origin; }
})();

const HelloChat = createHelloChat(async () => {
  await init({ module_or_path: wasmBytes });
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
