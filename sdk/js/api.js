// The public HelloChat API, shared by the <script> embed and the npm package.
//
// `mount` returns a handle at once; calls on it are queued until the
// WebAssembly module has loaded, so a page never has to await anything.
// Event listeners live here in JavaScript; the wasm widget reports events
// through one `emit(name, detail)` callback.

export const EVENTS = ['message', 'update', 'moderation', 'status', 'error', 'presence', 'unread', 'reports'];

/** Listeners by event name, each called safely (a throwing one cannot break the chat). */
export function listenerSet(names) {
  const listeners = new Map(names.map((e) => [e, new Set()]));
  return {
    emit(name, detail) {
      for (const fn of [...(listeners.get(name) ?? [])]) {
        try { fn(detail); } catch (err) { setTimeout(() => { throw err; }); }
      }
    },
    on(event, fn) {
      if (!listeners.has(event)) throw new TypeError(`HelloChat: unknown event "${event}" (use ${names.join(', ')})`);
      // Else the first event would throw from inside the chat, far from the mistake.
      if (typeof fn !== 'function') throw new TypeError(`HelloChat: on("${event}", fn) needs a function`);
      listeners.get(event).add(fn);
    },
    off(event, fn) { listeners.get(event)?.delete(fn); },
    clear() { for (const set of listeners.values()) set.clear(); },
  };
}

// A page's mistakes in arguments throw at once, as `mount` does for its
// options: `Number('x')` or `1.5` reached the room as another message's seq
// or none, and `String(undefined)` was sent as the text "undefined".
export const wrong = (what, v) => new TypeError(`HelloChat: ${what}, not ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
/** A message's seq (a digit string too, e.g. from a data- attribute). */
export function seqOf(method, seq, min = 1) {
  const n = typeof seq === 'string' && seq.trim() ? Number(seq) : seq;
  if (!Number.isSafeInteger(n) || n < min) throw wrong(`${method}(seq) needs a message's seq, an integer from ${min}`, seq);
  return n;
}
/** Text to send: a string (a number counts as its digits). */
export function textOf(method, text) {
  if (typeof text !== 'string' && typeof text !== 'number') throw wrong(`${method} needs its text as a string`, text);
  return String(text);
}
/** A reaction's emoji. */
export function emojiOf(emoji) {
  if (typeof emoji !== 'string' || !emoji) throw wrong('react(seq, emoji) needs an emoji', emoji);
  return emoji;
}

/** Languages with a strings file on the server (`/locales/<lang>.json`); English is built in. */
const LOCALES = new Set(['de', 'fr', 'es', 'pt', 'it', 'nl', 'pl', 'tr', 'ru', 'uk', 'ar', 'he', 'ja', 'ko', 'zh']);
/** Languages written right to left. */
const RTL = new Set(['ar', 'he', 'fa', 'ur']);

/** The language part of the widget's locale: the `locale` option, else the browser's. */
/**
 * The page's option `key`, from the options object itself only: a polluted
 * Object.prototype (`server`, `notify`, `strings`...) must not configure a widget.
 */
const own = (options, key) => (options != null && Object.hasOwn(options, key) ? options[key] : undefined);

function languageOf(options) {
  const locale = own(options, 'locale') ?? (typeof navigator !== 'undefined' ? navigator.language : 'en');
  return String(locale || 'en').split(/[-_]/)[0].toLowerCase();
}

/**
 * "(3) Page title" while messages wait unread (the `notify: { title: true }`
 * option); the page's own title comes back when they are read or the widget
 * is destroyed. A title the page sets meanwhile becomes the new base. One
 * badge per page: its count is the sum of the widgets' unread.
 */
const unreadBy = new Map();
let base = null;
let shown = null;
// Through Document.prototype: a named element in the page's markup can
// shadow `document.title` (an <iframe name=title> throws when read as text).
const title = (value) => {
  const { get, set } = Object.getOwnPropertyDescriptor(Document.prototype, 'title');
  return value === undefined ? get.call(document) : set.call(document, value);
};
function titleBadge() {
  const key = {};
  const set = (count) => {
    if (typeof document === 'undefined') return;
    unreadBy.set(key, count);
    let total = 0;
    for (const n of unreadBy.values()) total += n;
    if (title() !== shown) base = title();
    if (total > 0) {
      shown = `(${total > 99 ? '99+' : total}) ${base}`;
      title(shown);
    } else if (shown !== null) {
      if (title() === shown) title(base);
      shown = null;
    }
  };
  return { set, clear: () => { set(0); unreadBy.delete(key); } };
}

/**
 * The options the wasm refuses (sdk/src/options.rs `Options::read`, with
 * protocol/src/validate.rs for room and site ids), checked here with the same
 * rules and words so that `mount` throws at once; the wasm checks them again.
 * A string is trimmed as Rust trims (Unicode White_Space: U+0085 is, U+FEFF
 * is not, unlike String.prototype.trim); a number >= 0 reads as its digits,
 * which make a valid room and site, so '0' stands for any.
 */
// A loop, not a regex: `\s+$` backtracks over every run of blanks inside the
// string (quadratic: a page frozen by a long `data-room` in markup).
const blank = (c) => c === '\x85' || (c !== '\ufeff' && /\s/.test(c));
function trim(v) {
  let start = 0;
  let end = v.length;
  while (start < end && blank(v[start])) start++;
  while (end > start && blank(v[end - 1])) end--;
  return v.slice(start, end);
}
const option = (v) => (typeof v === 'string' ? trim(v) : typeof v === 'number' && v >= 0 ? '0' : '');
// An untrusted value in a message, cut short past any valid one's length:
// markup can hold a megabyte.
const cut = (v) => (v.length > 80 ? `${v.slice(0, 80)}…` : v);
export function check(options, method = 'mount') {
  const bad = (why) => { throw new TypeError(`HelloChat.${method}: ${why}`); };
  if (typeof options !== 'object' || !options) bad('options must be an object with at least { room }');
  const room = option(own(options, 'room'));
  if (!room) bad('the `room` option is required');
  if (!/^[\w-]{1,64}$/.test(room)) bad(`room "${cut(room)}" must be 1-64 characters of A-Z a-z 0-9 _ -`);
  const site = option(own(options, 'site'));
  if (site && !/^[a-z\d-]{1,32}$/.test(site)) bad(`site "${cut(site)}" must be 1-32 characters of a-z 0-9 -`);
  // Without a scheme it would look like an outage, retried for ever.
  const given = own(options, 'server');
  if (given !== undefined && typeof given !== 'string') bad('server must be a string, e.g. "https://chat.example.com"');
  const server = trim(given ?? '');
  if (server && !/^https?:\/\//i.test(server)) bad(`server "${cut(server)}" must start with https:// or http://`);
}

/** Where a visitor's choices for sound and notifications are kept. */
const CHOICE = 'hello-chat:notify:';
const remembered = (key) => { try { return localStorage.getItem(CHOICE + key); } catch { return null; } };
const remember = (key, on) => { try { localStorage.setItem(CHOICE + key, on ? 'on' : 'off'); } catch { /* private mode */ } };

/**
 * Sound and desktop notifications (`notify: { sound: true, desktop: true | 'mentions' }`).
 * Both are off until the visitor turns them on with the widget's toggles: the
 * permission prompt only ever follows a click on the bell. A message from
 * someone else then plays a short tone (Web Audio: nothing to download) while
 * the page is hidden or unfocused, and shows a notification while it is
 * hidden: for every message (`desktop: true`) or only those mentioning the
 * visitor (`'mentions'`); mentions always notify.
 */
function notifier(options, show) {
  const want = own(options, 'notify') ?? {};
  const supported = typeof Notification !== 'undefined';
  let sound = Boolean(want.sound) && remembered('sound') === 'on';
  let desktop = Boolean(want.desktop) && supported && Notification.permission === 'granted' && remembered('desktop') === 'on';
  let audio = null;
  const beep = () => {
    try {
      audio ??= new AudioContext();
      const t = audio.currentTime;
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.08, t);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.18);
      tone.connect(gain).connect(audio.destination);
      tone.start(t);
      tone.stop(t + 0.18);
    } catch { /* no audio here */ }
  };
  return {
    sync: () => show(desktop, sound),
    toggle(kind) {
      if (kind === 'sound') {
        sound = !sound;
        remember('sound', sound);
        if (sound) beep(); // what it will sound like (and audio is unlocked by this click)
      } else if (kind === 'desktop' && supported) {
        if (desktop) {
          desktop = false;
          remember('desktop', false);
        } else {
          Notification.requestPermission().then((p) => {
            desktop = p === 'granted';
            remember('desktop', desktop);
            show(desktop, sound);
          }, () => {});
        }
      }
      show(desktop, sound);
    },
    message(m) {
      // (Nor for a member the visitor hid.)
      if (m.own || m.hidden || typeof document === 'undefined') return;
      const hidden = document.visibilityState === 'hidden';
      // (A named element can shadow `hasFocus` too.)
      const focused = (typeof document.hasFocus === 'function' ? document.hasFocus : Document.prototype.hasFocus).call(document);
      if (sound && (hidden || !focused)) beep();
      if (desktop && hidden && (want.desktop !== 'mentions' || m.mentionsMe)) {
        try {
          const n = new Notification(`${m.name} · #${options.room}`, {
            body: m.message || m.attachments?.map((a) => a.name).join(', ') || '',
            tag: `hello-chat:${options.room}`,
          });
          n.onclick = () => { window.focus(); n.close(); };
        } catch { /* some browsers only notify from a service worker */ }
      }
    },
    close() { audio?.close?.().catch?.(() => {}); audio = null; },
  };
}

/**
 * @param {() => Promise<{ Widget: any }>} loadWasm  loads (once) and returns the wasm exports
 * @param {() => string} defaultServer  origin used when options.server is absent
 */
export function createHelloChat(loadWasm, defaultServer) {
  let loading = null;
  const load = () => (loading ??= loadWasm());
  // One fetch per server and language, however many widgets; a failure means English.
  const strings = new Map();
  // One widget per element: mounting again (a page's script run twice)
  // replaces the first, as rendering into a root again does.
  const mounted = new WeakMap();
  const localeStrings = (server, lang) => {
    if (lang === 'en' || !LOCALES.has(lang)) return Promise.resolve(null);
    const url = `${String(server).replace(/\/$/, '')}/locales/${lang}.json`;
    if (!strings.has(url)) {
      strings.set(url, fetch(url).then((r) => (r.ok ? r.json() : null)).catch(() => null));
    }
    return strings.get(url);
  };

  function mount(el, options) {
    if (!el || typeof el.appendChild !== 'function') throw new TypeError('HelloChat.mount: first argument must be a DOM element');
    check(options);
    mounted.get(el)?.destroy();
    const events = listenerSet(EVENTS);
    const queue = [];
    let unread = 0;
    const badge = own(options, 'notify')?.title ? titleBadge() : null;
    let widget = null;
    let destroyed = false;
    // The wasm never came: later calls settle at once, like after destroy().
    let failed = false;
    const notify = own(options, 'notify')?.sound || own(options, 'notify')?.desktop
      ? notifier(options, (desktop, sound) => widget?.setToggles(desktop, sound))
      : null;

    const emit = (name, detail) => {
      if (name === 'unread') {
        unread = detail.count;
        badge?.set(unread);
      }
      if (name === 'toggle') return notify?.toggle(detail.kind);
      if (name === 'message') notify?.message(detail);
      events.emit(name, detail);
    };
    // `load_failed`: the wasm could not be fetched or compiled; `mount_failed`:
    // it loaded but refused to mount (options mount could not check, such as
    // a getter that changed its mind, or the DOM refused).
    const fail = (err, code = 'load_failed') => {
      failed = true;
      drop();
      emit('status', { status: 'failed', reason: String(err?.message ?? err) });
      emit('error', { code, message: String(err?.message ?? err) });
    };

    // Calls made before the wasm is ready are queued and replayed in order;
    // dropped (destroyed, failed), a queued sendFile's promise still settles.
    const drop = () => { for (const [m, a] of queue.splice(0)) if (m === 'sendFile') a[2](undefined); };
    const call = (method, ...args) => {
      if (destroyed || failed) return undefined;
      if (widget) return widget[method](...args);
      queue.push([method, args]);
      return undefined;
    };
    const handle = {
      /** Send a message; returns its client id once the widget is ready, else undefined (queued). */
      send(text) { return call('send', textOf('send(text)', text)); },
      /**
       * Send a file (a File or Blob), with optional text. Images are downscaled first, so the
       * client id comes later: the promise resolves to it, or to undefined if it was refused
       * (an `error` event says why) or the widget was destroyed.
       */
      sendFile(file, text = '') {
        if (typeof Blob === 'undefined' || !(file instanceof Blob)) throw new TypeError('HelloChat: sendFile(file) needs a File or Blob');
        return new Promise((resolve) => {
          if (destroyed || failed) resolve(undefined);
          else call('sendFile', file, text == null ? '' : textOf('sendFile(file, text)', text), resolve);
        });
      },
      /** Reply to message `seq`. */
      reply(seq, text) { return call('reply', seqOf('reply', seq), textOf('reply(seq, text)', text)); },
      /** Change the text of your message `seq` (moderators: of any message). */
      edit(seq, text) { return call('edit', seqOf('edit', seq), textOf('edit(seq, text)', text)); },
      /** Delete your message `seq` (moderators: any message). */
      remove(seq) { return call('remove', seqOf('remove', seq)); },
      /** Messages from others not seen yet (the `unread` event says when it changes). */
      get unread() { return unread; },
      /** Add (`on`, default) or take back a reaction. */
      react(seq, emoji, on = true) { return call('react', seqOf('react', seq), emojiOf(emoji), Boolean(on)); },
      on(event, fn) { events.on(event, fn); return handle; },
      off(event, fn) { events.off(event, fn); return handle; },
      destroy() {
        if (destroyed) return;
        destroyed = true;
        unread = 0;
        try {
          if (widget) { widget.destroy(); widget.free?.(); widget = null; }
          badge?.clear();
          notify?.close();
        } finally {
          emit('status', { status: 'closed' });
          events.clear();
          drop();
        }
      },
    };

    const lang = languageOf(options);
    const text = localeStrings(trim(own(options, 'server') ?? '') || defaultServer(), lang);
    Promise.all([load(), text]).then(([wasm, translated]) => {
      if (destroyed) return;
      // The page's options are read here again, getters and proxies
      // included: what throws is a failure to mount, told as one.
      try {
        // Own properties only: a polluted Object.prototype (`server`, `token`)
        // must not configure the widget.
        const resolved = Object.assign(Object.create(null), options);
        if (translated) {
          // The page's text wins, and so over the language file's plural forms of it.
          const page = own(options, 'strings') ?? {};
          const forms = Object.keys(translated).filter((k) => Object.hasOwn(page, k.split('.')[0]));
          resolved.strings = { ...translated, ...Object.fromEntries(forms.map((k) => [k, undefined])), ...page };
        }
        if (own(options, 'dir') === undefined && RTL.has(lang)) resolved.dir = 'rtl';
        // Translated for the browser's language: the widget says which
        // (its `lang`), so a screen reader reads it with the right voice.
        if (translated && own(options, 'locale') == null) resolved.locale = navigator.language;
        widget = new wasm.Widget(el, resolved, emit, defaultServer());
      } catch (err) {
        fail(err, 'mount_failed');
        return;
      }
      notify?.sync();
      for (const [method, args] of queue.splice(0)) widget[method](...args);
    }, fail);
    mounted.set(el, handle);
    return handle;
  }

  return { mount, version: '0.1.0' };
}

/**
 * Options for an element that mounts by itself. Never its `data-server`, and
 * when the page's own <script> names the `site`, no other: markup from users
 * that keeps data-* attributes must not wire a chat on this page to another
 * server or another tenant, who would read what visitors type into it.
 */
export function autoOptions(el, site) {
  const options = optionsFromDataset(el);
  delete options.server;
  if (site) {
    if (options.site && options.site.toLowerCase() !== site.toLowerCase()) {
      throw new Error(`HelloChat: data-site="${options.site}" is not this page's site (${site}): not mounted`);
    }
    options.site = site;
  }
  return options;
}

/** Options from an element's data-* attributes (data-room, data-name, ...). */
function optionsFromDataset(el) {
  const d = el.dataset;
  // Only the element's own attributes: a missing one is looked up on
  // Object.prototype, which a page's bug may have polluted.
  const attr = (key) => (Object.hasOwn(d, key) ? d[key] : '');
  const options = {};
  for (const key of ['room', 'name', 'site', 'server', 'token', 'theme', 'locale', 'placeholder', 'height', 'dir']) {
    if (attr(key) !== '') options[key] = d[key];
  }
  if (attr('rememberVisitor') === 'false') options.rememberVisitor = false;
  return options;
}
