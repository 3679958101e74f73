// The launcher: a chat bubble in the page's corner that opens a panel with
// the widget. It is the only thing a page pays for on load (this file, a few
// kilobytes); the widget itself (hello-chat.js, the WebAssembly inside) is
// fetched on the first open, or when the browser is idle if the page asks
// for `prefetch`. Shared by the light loader (hello-chat-launcher.js) and the
// full embed, so `HelloChat.launcher` exists with either.

import { check } from './api.js';

// Minified by hand (it is in every page's loader): one rule per line.
const CSS = `
:host{all:initial}
.b{position:fixed;inset-inline-end:20px;bottom:20px;z-index:2147483000;width:60px;height:60px;border-radius:50%;border:0;cursor:pointer;background:var(--hc-accent,#0b57d0);color:#fff;font:600 14px/1 system-ui,sans-serif;box-shadow:0 4px 16px rgba(0,0,0,.25)}
.b:focus-visible,.x:focus-visible{outline:3px solid #fbbc04;outline-offset:2px}
.u{position:absolute;top:-4px;inset-inline-end:-4px;min-width:22px;height:22px;padding:0 6px;box-sizing:border-box;border-radius:11px;background:#d93025;color:#fff;font:700 12px/22px system-ui,sans-serif}
.u[hidden],.p[hidden]{display:none}
.p{position:fixed;inset-inline-end:20px;bottom:92px;z-index:2147483647;width:min(380px,calc(100vw - 40px));background:var(--hc-bg,#fff);color:var(--hc-fg,#1f1f1f);border-radius:16px;box-shadow:0 8px 32px rgba(0,0,0,.3);overflow:hidden}
.d{background:var(--hc-bg,#1b1b1f);color:var(--hc-fg,#e6e6ea)}
@media (prefers-color-scheme:dark){.a{background:var(--hc-bg,#1b1b1f);color:var(--hc-fg,#e6e6ea)}}
.c{height:420px;min-height:240px}
.c>div{height:100%}
.h{display:flex;justify-content:flex-end;padding:4px}
.x{width:44px;height:44px;border:0;border-radius:8px;background:transparent;color:inherit;font-size:24px;cursor:pointer}
@media (max-width:480px),(max-height:600px){
.p{inset:0;width:auto;height:100dvh;border-radius:0;display:flex;flex-direction:column}
.p[hidden]{display:none}
.c{flex:1;min-height:0}
.p:not([hidden])+.b{display:none}}
`;

// Where the panel covers the page (phones, and short screens such as a
// laptop at 200% zoom, where a floating panel would leave its top off screen).
const COVERS = '(max-width:480px),(max-height:600px)';

const TEXT = { open: 'Open chat', openUnread: 'Open chat, {n} unread', close: 'Close chat', label: 'Chat' };

/** Load the full embed once (a <script> next to this one); resolves with its HelloChat. */
function loader(src) {
  let loading = null;
  return () => (loading ??= new Promise((resolve, reject) => {
    const full = () => { const h = Object.getOwnPropertyDescriptor(window, 'HelloChat')?.value; return typeof h?.mount === 'function' ? h : null; };
    if (full()) { resolve(full()); return; }
    const s = document.createElement('script');
    s.onload = () => (full() ? resolve(full()) : reject(new Error('hello-chat.js did not define HelloChat')));
    s.onerror = () => reject(new Error(`cannot load ${src}`));
    try {
      s.src = src;
    } catch {
      // A page that enforces Trusted Types refuses a script's URL as a
      // string; an import() is no such sink (the file is an IIFE: it runs
      // as a module too, and the launcher gives the widget its server).
      import(src).then(s.onload, s.onerror);
      return;
    }
    s.async = true;
    document.head.appendChild(s);
  }));
}

/**
 * `HelloChat.launcher(options)`: the bubble and its panel. `options` are the
 * widget's (room, name, site, token, …) plus `prefetch` (load the widget when
 * the browser is idle) and `text` (the bubble's labels). Returns
 * `{ open(), close(), destroy(), get unread() }`.
 */
export function createLauncher(fullScript, server) {
  const load = loader(fullScript);
  return function launcher(options = {}) {
    // Options mount would refuse throw now, not in an empty panel later.
    check(options, 'launcher');
    const text = { ...TEXT, ...(options.text ?? {}) };
    const host = document.createElement('div');
    host.setAttribute('data-hello-chat-launcher-host', '');
    const root = host.attachShadow({ mode: 'open' });
    // The panel's colours follow the widget's theme (as mount reads it): d(ark), a(uto) or light.
    const theme = String(options.theme ?? '').trim();
    // Built node by node, not with innerHTML: a page that enforces Trusted
    // Types blocks markup assigned as a string.
    const el = (tag, className, parent, attrs = {}) => {
      const e = document.createElement(tag);
      e.className = className;
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
      parent.append(e);
      return e;
    };
    // A constructed stylesheet, not a <style>: allowed under a CSP without
    // 'unsafe-inline' styles (as the widget's own).
    if (root.adoptedStyleSheets && typeof CSSStyleSheet.prototype.replaceSync === 'function') {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } else {
      el('style', '', root).textContent = CSS;
    }
    const panel = el('div', `p ${theme === 'dark' ? 'd' : theme === 'light' ? '' : 'a'}`, root, { id: 'p', role: 'dialog', hidden: '', 'aria-label': text.label });
    const close = el('button', 'x', el('div', 'h', panel), { type: 'button', 'aria-label': text.close });
    close.textContent = '×';
    const slot = el('div', 'c', panel);
    const bubble = el('button', 'b', root, { type: 'button', 'aria-controls': 'p', 'aria-expanded': 'false' });
    const label = el('span', 'l', bubble);
    const badge = el('span', 'u', bubble, { hidden: '' });
    label.textContent = text.label;
    // On <html>, after <body>: position:fixed follows the screen even where
    // the page transforms, contains or zooms its body (it would follow the body).
    document.documentElement.appendChild(host);

    let chat = null;
    let unread = 0;
    let destroyed = false;
    const render = () => {
      badge.hidden = unread === 0;
      badge.textContent = unread > 99 ? '99+' : String(unread);
      // Open, the bubble closes it (as the panel's ×), and says so.
      const label = !panel.hidden ? text.close : unread ? text.openUnread.replace('{n}', String(unread)) : text.open;
      bubble.setAttribute('aria-label', label);
    };
    const widgetOptions = { ...options };
    delete widgetOptions.prefetch;
    delete widgetOptions.text;
    if (!widgetOptions.server && server) widgetOptions.server = server;
    // The widget fills the panel's slot: the slot has the widget's height
    // (420 px or the option, a number meaning pixels as for mount), except on
    // small screens, where it takes what the full-screen panel leaves.
    const height = String(options.height ?? '').trim();
    slot.style.height = /^[\d.]+$/.test(height) ? `${height}px` : height;
    widgetOptions.height = '100%';
    let refused = false;
    const start = () => load().then((HelloChat) => {
      if (destroyed || chat || refused) return;
      try {
        chat = HelloChat.mount(slot, widgetOptions);
      } catch (err) {
        // Bad options (a data-room with a space): told to the page's error
        // reporting once, not retried at every open.
        refused = true;
        setTimeout(() => { throw err; });
        return;
      }
      chat.on('unread', (d) => { unread = d.count; render(); });
    });

    // A panel that covers the page is modal: the page under it is inert
    // (not focusable, not read) until it closes.
    let madeInert = [];
    const setModal = (on) => {
      for (const el of madeInert) el.inert = false;
      madeInert = on ? [...document.body.children].filter((el) => el !== host && !el.inert) : [];
      for (const el of madeInert) el.inert = true;
      panel.setAttribute('aria-modal', String(on));
    };
    const covers = matchMedia(COVERS);
    // Zoomed back, or the window grown: a floating panel lets the page be.
    const relayout = () => { if (!panel.hidden) setModal(covers.matches); };
    covers.addEventListener?.('change', relayout);
    const setOpen = (open) => {
      panel.hidden = !open;
      setModal(open && covers.matches);
      bubble.setAttribute('aria-expanded', String(open));
      render();
      if (open) {
        start().then(() => close.focus(), () => {});
        close.focus();
      } else {
        bubble.focus();
      }
    };
    bubble.addEventListener('click', () => setOpen(panel.hidden));
    close.addEventListener('click', () => setOpen(false));
    // Escape closes the panel, unless the chat used it (a menu, the image
    // viewer, the mention list, a reply being written).
    root.addEventListener('keydown', (e) => { if (e.key === 'Escape' && !e.defaultPrevented && !panel.hidden) setOpen(false); });
    if (options.prefetch) (window.requestIdleCallback ?? setTimeout)(() => { if (!destroyed) start().catch(() => {}); });
    render();

    return {
      open: () => setOpen(true),
      close: () => setOpen(false),
      get unread() { return unread; },
      destroy() {
        destroyed = true;
        covers.removeEventListener?.('change', relayout);
        setModal(false);
        chat?.destroy();
        host.remove();
      },
    };
  };
}
