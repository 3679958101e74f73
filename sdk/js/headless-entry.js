// hello-chat-headless.js: HelloChat.connect without the widget. The
// headless client's glue and its own (smaller) wasm, inlined; defines
// window.HelloChat.connect and nothing else. With hello-chat.js or the
// launcher on the same page, it adds `connect` to that HelloChat (and they,
// loaded after it, keep it).
// The wasm first: the file gzips smaller so (see embed.js).
import wasmGzBase64 from '../../dist/pkg-headless/wasm-inline.js';
import { initSync, Client } from '../../dist/pkg-headless/hello_chat_headless.js';
import { createConnect } from './connect.js';

async function wasmBytes() {
  const gz = Uint8Array.from(atob(wasmGzBase64), (c) => c.charCodeAt(0));
  const stream = new Blob([gz]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Response(stream).arrayBuffer();
}

const script = document.currentScript instanceof HTMLScriptElement ? document.currentScript : null;
const server = (() => {
  try { return new URL(script.getAttribute('data-server') || script.src).origin; } catch { return location.origin; }
})();

const connect = createConnect(async () => {
  initSync({ module: await WebAssembly.compile(await wasmBytes()) });
  return { Client };
}, () => server);
const HelloChat = { connect, version: '0.1.0' };

// As in embed.js: only an own property is ours (markup can shadow globals).
// The widget's or the launcher's HelloChat gets `connect`.
const own = Object.getOwnPropertyDescriptor(window, 'HelloChat')?.value;
if (typeof own?.mount === 'function' || typeof own?.launcher === 'function') own.connect = HelloChat.connect;
else window.HelloChat = HelloChat;
