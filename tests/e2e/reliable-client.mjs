// A raw WebSocket client with the widget's delivery guarantees, for chaos
// tests: it reconnects with since=<last contiguous seq> and its sender key,
// fills gaps, and resends unacknowledged messages with their original ids.
import WebSocket from 'ws';
import { BASE, wsBase } from './helpers.mjs';

export class ReliableClient {
  constructor({ room, name, base = BASE, site }) {
    Object.assign(this, { room, name, base, site });
    this.messages = new Map(); // seq -> message
    this.pending = new Map(); // id -> text, in send order
    this.acked = new Map(); // id -> seq
    this.connected = false;
    this.stopped = false;
    this.connections = 0;
    this.counter = 0;
  }

  /** Highest seq such that every message up to it is known. */
  contiguous() {
    let s = 0;
    while (this.messages.has(s + 1)) s++;
    return s;
  }

  start() {
    if (this.stopped) return;
    const q = new URLSearchParams({ room: this.room, name: this.name, v: '1', since: String(this.contiguous()) });
    if (this.site) q.set('site', this.site);
    // Come back as the same sender, as the widget does: the room recognises
    // a resent id only within its sender's scope.
    if (this.senderKey) q.set('senderKey', this.senderKey);
    const ws = new WebSocket(`${wsBase(this.base)}/ws?${q}`);
    this.ws = ws;
    ws.on('message', (data) => this.onFrame(JSON.parse(data.toString())));
    ws.on('error', () => {});
    ws.on('close', () => {
      if (this.ws !== ws) return;
      this.connected = false;
      if (!this.stopped) setTimeout(() => this.start(), 200 + Math.random() * 300);
    });
  }

  onFrame(f) {
    if (f.type === 'welcome') {
      this.senderKey ??= f.senderKey;
      this.connected = true;
      this.connections++;
      this.connectedAt = Date.now();
      for (const [id, text] of this.pending) this.ws.send(JSON.stringify({ type: 'send', id, message: text }));
    } else if (f.type === 'history') {
      for (const m of f.messages) this.messages.set(m.seq, m);
      if (f.more || this.contiguous() < Math.max(0, ...this.messages.keys())) {
        this.ws.send(JSON.stringify({ type: 'history', after: this.contiguous(), limit: 100 }));
      }
    } else if (f.type === 'message') {
      this.messages.set(f.seq, f);
      if (this.contiguous() < f.seq) this.ws.send(JSON.stringify({ type: 'history', after: this.contiguous(), limit: 100 }));
    } else if (f.type === 'ack') {
      const text = this.pending.get(f.id);
      if (text !== undefined) {
        this.pending.delete(f.id);
        this.acked.set(f.id, f.seq);
        this.messages.set(f.seq, { seq: f.seq, id: f.id, name: this.name, message: text, timestamp: f.timestamp });
      }
    } else if (f.type === 'error' && f.code === 'rate_limited' && this.pending.has(f.id)) {
      setTimeout(() => this.connected && this.ws.send(JSON.stringify({ type: 'send', id: f.id, message: this.pending.get(f.id) })), 1000);
    }
  }

  send(text) {
    const id = `${this.name}-${++this.counter}-${Math.random().toString(36).slice(2)}`;
    this.pending.set(id, text);
    if (this.connected) this.ws.send(JSON.stringify({ type: 'send', id, message: text }));
  }

  /** Drop the socket abruptly, as a network failure would. */
  drop() {
    this.ws?.terminate();
  }

  /** Texts in seq order. */
  texts() {
    return [...this.messages.keys()].sort((a, b) => a - b).map((s) => this.messages.get(s).message);
  }

  stop() {
    this.stopped = true;
    this.ws?.close();
  }
}

/** Every stored message of a room, read from the start with a fresh client. */
export async function storedHistory(room, { base = BASE, site } = {}) {
  const c = new ReliableClient({ room, name: 'Auditor', base, site });
  c.start();
  const deadline = Date.now() + 15000;
  let last = -1;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 300));
    if (c.connected && c.messages.size === last) break;
    last = c.messages.size;
  }
  c.stop();
  return [...c.messages.keys()].sort((a, b) => a - b).map((s) => c.messages.get(s));
}
