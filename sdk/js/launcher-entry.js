// hello-chat-launcher.js: the light loader. It defines `HelloChat.launcher`
// (and nothing else) and fetches the full widget, hello-chat.js from the
// same place, only when the visitor opens the chat. Elements marked
// `data-hello-chat-launcher` (with data-room, data-site, … as for
// `data-hello-chat`) get a launcher without any script of the page's own.
import { createLauncher } from './launcher.js';
import { autoOptions } from './api.js';

const script = document.currentScript instanceof HTMLScriptElement ? document.currentScript : null;
const src = script?.src || `${location.origin}/hello-chat-launcher.js`;
const server = (() => {
  try { return new URL(script.getAttribute('data-server') || src).origin; } catch { return location.origin; }
})();
const launcher = createLauncher(new URL('hello-chat.js', src).href, server);
// The site this page's <script> names, if it does: elements take no other,
// nor do those the full embed mounts once the bubble has loaded it.
launcher.site = script?.getAttribute('data-site') || '';

// As the full embed does: never trust a global that page markup could shadow
// (an own property is ours). The headless client's (no launcher) gets one;
// the full embed's has its own.
const own = Object.getOwnPropertyDescriptor(window, 'HelloChat')?.value;
if (!own) window.HelloChat = { launcher };
else if (typeof own.launcher !== 'function') own.launcher = launcher;

// Marked elements get their bubble whichever script came first, once each
// (`helloChat` is set, null for one whose options were refused).
const start = () => {
  for (const el of Document.prototype.querySelectorAll.call(document, '[data-hello-chat-launcher]')) {
    if (el.helloChat !== undefined) continue;
    el.helloChat = null;
    try { el.helloChat = launcher(autoOptions(el, launcher.site)); } catch (err) { setTimeout(() => { throw err; }); }
  }
};
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
