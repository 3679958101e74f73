// HelloChat.connect: the chat without any UI (see sdk/src/headless.rs). Kept
// apart from api.js so that the widget's embed does not carry it, and built
// on its own wasm, so that a page that only connects never loads the widget.
import { EVENTS, check, emojiOf, listenerSet, seqOf, textOf, wrong } from './api.js';

/** A headless client's events: the widget's, plus what its view would show. */
const CLIENT_EVENTS = [...EVENTS, 'welcome', 'pending', 'sent', 'renamed', 'failed', 'typing', 'older', 'receipt', 'progress', 'room'];

/**
 * @param {() => Promise<{ Client: any }>} loadHeadless  loads (once) the headless client's wasm
 * @param {() => string} defaultServer  origin used when options.server is absent
 */
export function createConnect(loadHeadless, defaultServer) {
  let loading = null;
  const headless = () => (loading ??= loadHeadless());

  /**
   * A connection to a room without any UI, for sites that draw their own:
   * the widget's session (reconnect, resume, outbox, no duplicates), its
   * methods and events, and the events its view would have shown.
   */
  function connect(options) {
    // Bad options throw at once, as for `mount`; the wasm checks again.
    check(options, 'connect');
    const events = listenerSet(CLIENT_EVENTS);
    const queue = [];
    let client = null;
    let closed = false;
    let unread = 0;
    const emit = (name, detail) => {
      if (name === 'unread') unread = detail.count;
      events.emit(name, detail);
    };
    // `load_failed`: the wasm could not load; `mount_failed`: it refused
    // options `check` passed (a getter that changed its mind).
    const fail = (err, code = 'load_failed') => {
      // Nothing will run them: later calls do nothing, as after close().
      closed = true;
      queue.length = 0;
      emit('status', { status: 'failed', reason: String(err?.message ?? err) });
      emit('error', { code, message: String(err?.message ?? err) });
    };
    const call = (method, ...args) => {
      if (closed) return undefined;
      if (client) return client[method](...args);
      queue.push([method, args]);
      return undefined;
    };
    const handle = {
      send(text) { return call('send', textOf('send(text)', text)); },
      /** Send a File or Blob as it is (with optional text); `progress` events follow its upload. */
      sendFile(file, text = '') {
        if (typeof Blob === 'undefined' || !(file instanceof Blob)) throw new TypeError('HelloChat: sendFile(file) needs a File or Blob');
        return call('sendFile', file, text == null ? '' : textOf('sendFile(file, text)', text));
      },
      /** Drop a queued message, even while its file uploads. */
      cancel(id) { return call('cancel', String(id)); },
      reply(seq, text) { return call('reply', seqOf('reply', seq), textOf('reply(seq, text)', text)); },
      edit(seq, text) { return call('edit', seqOf('edit', seq), textOf('edit(seq, text)', text)); },
      remove(seq) { return call('remove', seqOf('remove', seq)); },
      react(seq, emoji, on = true) { return call('react', seqOf('react', seq), emojiOf(emoji), Boolean(on)); },
      /** Report someone else's message to the moderators: `spam`, `harassment` or `other`. */
      report(seq, reason, note) {
        if (typeof reason !== 'string' || !reason) throw wrong('report(seq, reason) needs a reason', reason);
        return call('report', seqOf('report', seq), reason, note == null ? undefined : String(note));
      },
      /**
       * A moderator's action, as the protocol's `moderate` frame and the site API take it:
       * `moderate('pin', { target: 42 })`, `moderate('mute', { sender, seconds: 600, reason })`.
       */
      moderate(action, fields = {}) {
        if (typeof action !== 'string' || !action) throw wrong('moderate(action) needs an action such as "pin"', action);
        if (fields === null || typeof fields !== 'object') throw wrong('moderate(action, fields) needs its fields as an object', fields);
        const { target, sender, seconds, reason } = fields;
        const text = (k, v) => { if (v != null && typeof v !== 'string') throw wrong(`moderate(action, { ${k} }) needs a string`, v); return v ?? undefined; };
        // As seqOf takes them (digits too), but not called a message's seq.
        const secs = typeof seconds === 'string' && seconds.trim() ? Number(seconds) : seconds;
        if (secs != null && !(Number.isSafeInteger(secs) && secs >= 0)) throw wrong('moderate(action, { seconds }) needs whole seconds', seconds);
        // For good is leaving it out: null, an unset field to many callers, is not taken as that.
        if (seconds === null && (action === 'mute' || action === 'ban')) throw wrong('moderate(action, { seconds }) needs whole seconds; leave it out for good', seconds);
        return call('moderate', action, target == null ? undefined : seqOf('moderate', target),
          text('sender', sender), secs ?? undefined, text('reason', reason));
      },
      /** Send a failed message again / drop it (after a `failed` event). */
      retry(id) { return call('retry', String(id)); },
      discard(id) { return call('discard', String(id)); },
      /** Ask for the messages before the oldest received: an `older` event answers. */
      loadEarlier() { return call('loadEarlier'); },
      /** The visitor has seen everything up to `seq`. */
      markRead(seq) { return call('markRead', seqOf('markRead', seq, 0)); },
      typing() { return call('typing'); },
      get unread() { return unread; },
      on(event, fn) { events.on(event, fn); return handle; },
      off(event, fn) { events.off(event, fn); return handle; },
      close() {
        if (closed) return;
        closed = true;
        if (client) { client.destroy(); client.free?.(); client = null; }
        emit('status', { status: 'closed' });
        events.clear();
        queue.length = 0;
      },
    };
    // The widget's handle says destroy(): either ends the client.
    handle.destroy = handle.close;
    headless().then((wasm) => {
      if (closed) return;
      try {
        // Own properties only, as for mount (a polluted Object.prototype).
        client = new wasm.Client(Object.assign(Object.create(null), options), emit, defaultServer());
      } catch (err) {
        fail(err, 'mount_failed');
        return;
      }
      for (const [method, args] of queue.splice(0)) client[method](...args);
    }, fail);
    return handle;
  }

  return connect;
}
