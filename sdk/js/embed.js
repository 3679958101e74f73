// The single-file <script> embed: wasm-bindgen glue + the wasm (gzipped and
// base64-encoded by scripts/lib/build.mjs) + the API. Defines window.HelloChat
// and nothing else; the wasm is only inflated and compiled on the first mount.
// The wasm first: esbuild lays modules out in import order, and the file
// gzips about 1 KB smaller with the base64 at its start than between the
// glue and the API (measured; brotli the same within 50 bytes). A string:
// evaluating it first changes nothing.
import wasmGzBase64 from '../../dist/pkg/wasm-inline.js';
import { initSync, Widget } from '../../dist/pkg/hello_chat.js';
import { createHelloChat, autoOptions } from './api.js';
import { createLauncher } from './launcher.js';

async function wasmBytes() {
  const gz = Uint8Array.from(atob(wasmGzBase64), (c) => c.charCodeAt(0));
  const stream = new Blob([gz]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Response(stream).arrayBuffer();
}

// The host page may contain hostile markup (user-generated HTML): named
// elements can shadow `window.X` and `document.X` ("DOM clobbering"), so
// nothing here trusts a global that markup could replace.
const script = document.currentScript instanceof HTMLScriptElement ? document.currentScript : null;

// The server: the origin this script came from, unless the page's own
// <script> tag names another with data-server. Elements that auto-mount
// cannot choose it: markup that keeps data-* attributes must not be able to
// wire a real-looking chat to someone else's server.
const server = (() => {
  try { return new URL(script.getAttribute('data-server') || script.src).origin; } catch { return location.origin; }
})();

// The site, when the page's own <script> names it: the one of this script,
// or, loaded by the bubble when it opened, the launcher's.
const light = Object.getOwnPropertyDescriptor(window, 'HelloChat')?.value;
const site = script?.getAttribute('data-site') || light?.launcher?.site || '';

const HelloChat = createHelloChat(async () => {
  initSync({ module: await WebAssembly.compile(await wasmBytes()) });
  return { Widget };
}, () => server);
HelloChat.launcher = createLauncher(script?.src || `${server}/hello-chat.js`, server);

const select = (selector) => Document.prototype.querySelectorAll.call(document, selector);

function autoMount() {
  for (const el of select('[data-hello-chat]')) {
    if (mounted.has(el)) continue;
    mounted.add(el);
    // Bad options (mount throws: a data-room with a space, another site)
    // are reported and leave the other elements their widgets.
    try { el.helloChat = HelloChat.mount(el, autoOptions(el, site)); } catch (err) { setTimeout(() => { throw err; }); }
  }
}
const mounted = new WeakSet();

// An own property that is really ours: a named element only appears on
// window's prototype chain, never as an own property. One without `mount`
// is the launcher's light loader: the full API replaces it.
const own = Object.getOwnPropertyDescriptor(window, 'HelloChat');
if (typeof own?.value?.mount !== 'function') {
  // hello-chat-headless.js, loaded first, keeps its `connect`.
  if (typeof own?.value?.connect === 'function') HelloChat.connect = own.value.connect;
  window.HelloChat = HelloChat;
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', autoMount, { once: true });
  else autoMount();
}
