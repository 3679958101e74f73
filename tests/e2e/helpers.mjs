// Shared helpers for the end-to-end tests: raw WebSocket clients, a browser,
// unique room names. The server is started by scripts/test.mjs (HELLO_CHAT_URL)
// unless a test starts its own.
import WebSocket from 'ws';
import { chromium } from 'playwright-core';
import { createHmac, randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { after } from 'node:test';
import assert from 'node:assert/strict';

export const BASE = process.env.HELLO_CHAT_URL || 'http://127.0.0.1:8787';
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const wsBase = (base = BASE) => base.replace(/^http/, 'ws');

/** A room name no other test uses. */
export const uniqueRoom = (prefix = 'r') => `${prefix}-${randomBytes(5).toString('hex')}`;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Every raw socket and browser a test file opens, closed when the file's
// tests are over: one left open by a failed test (its own close never
// reached) would keep the file's process alive until its 180 s timeout.
// Only under `node --test`: elsewhere (the benchmarks) a hook would start a
// test run of its own and print its report.
const sockets = new Set();
const browsers = new Set();
if (process.env.NODE_TEST_CONTEXT) {
  after(async () => {
    for (const ws of sockets) ws.terminate();
    await Promise.all([...browsers].map((b) => b.close().catch(() => {})));
  });
}

/**
 * A raw WebSocket client that records every frame. `next(pred)` waits for the
 * next unread frame matching `pred` (a type string or a function).
 */
export class Client {
  static connect(query, { base = BASE, headers = {}, origin, protocols, handshakeTimeout = 30_000 } = {}) {
    const qs = typeof query === 'string' ? query : new URLSearchParams(query).toString();
    // A handshake the server never answers fails with its own error, not the test's timeout.
    const ws = new WebSocket(`${wsBase(base)}/ws?${qs}`, protocols ?? [], { headers, origin, handshakeTimeout });
    const client = new Client(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          const err = new Error(`HTTP ${res.statusCode}: ${body}`);
          err.status = res.statusCode;
          err.body = body;
          reject(err);
        });
      });
    });
  }

  constructor(ws) {
    this.ws = ws;
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    this.frames = [];
    this.read = 0;
    this.waiters = [];
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data, isBinary) => {
      const text = data.toString();
      let frame;
      try { frame = isBinary ? { binary: text } : JSON.parse(text); } catch { frame = { raw: text }; }
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => !w());
    });
  }

  send(frame) {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Wait for the next frame (after those already consumed) matching `pred`. */
  next(pred = () => true, timeoutMs = 5000) {
    const match = typeof pred === 'string' ? (f) => f.type === pred : pred;
    return new Promise((resolve, reject) => {
      const check = () => {
        while (this.read < this.frames.length) {
          const f = this.frames[this.read++];
          if (match(f)) { clearTimeout(timer); resolve(f); return true; }
        }
        return false;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`timed out waiting for a frame; got ${JSON.stringify(this.frames.slice(-5))}`));
      }, timeoutMs);
      if (!check()) this.waiters.push(check);
    });
  }

  /** Frames of a type received so far (consumed or not). */
  all(type) {
    return this.frames.filter((f) => f.type === type);
  }

  close() {
    this.ws.close();
    return this.closed;
  }
}

/** Connect with protocol v1 and read the welcome and the history frames. */
export async function join(room, name, extra = {}, opts = {}) {
  const c = await Client.connect({ room, name, v: '1', ...extra }, opts);
  c.welcome = await c.next('welcome');
  c.history = await c.next('history');
  return c;
}

let frameIds = 0;
/** A fresh client id for a raw client's frame. */
export const nextId = () => `e${++frameIds}`;

/** The room's answer (`ack` or `error`) to the frame `id` that `c` sent. */
export const answer = (c, id, ms = 20000) => c.next((f) => (f.type === 'ack' || f.type === 'error') && f.id === id, ms);

/** Send `frame` from `c` under a fresh id; the room's answer. */
export async function act(c, frame) {
  const id = nextId();
  c.send({ id, ...frame });
  return answer(c, id);
}

/** Post `message` from `c`; its seq (the room must accept it). */
export async function post(c, message, extra = {}) {
  const a = await act(c, { type: 'send', message, ...extra });
  assert.equal(a.type, 'ack', JSON.stringify(a));
  return a.seq;
}

export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  browsers.add(browser);
  browser.on('disconnected', () => browsers.delete(browser));
  return browser;
}

/** The development admin token (from .dev.vars.example). */
export const ADMIN_TOKEN = process.env.ADMIN_TOKEN || 'dev-admin-token';

/** A JSON call with a bearer token; `body` may be a string (sent as is). */
async function callJson(url, method, token, body) {
  const res = await fetch(url, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, body: json, text };
}

/** Call the admin API. */
export const admin = (method, path, body, { token = ADMIN_TOKEN, base = BASE } = {}) =>
  callJson(`${base}/admin${path}`, method, token, body);

/** Call the site owners' API (`/v1/sites<path>`) with a site key. */
export const siteApi = (key, method, path, body) => callJson(`${BASE}/v1/sites${path}`, method, key, body);

/** A site created with `config`, and a key of its own: `{ site, key, keyId }`. */
export async function siteWithKey(config, prefix = 'api') {
  const site = await createSite(config, prefix);
  const res = await admin('POST', `/sites/${site}/keys`);
  if (res.status !== 201) throw new Error(`creating a key for ${site}: ${res.status} ${res.text}`);
  return { site, key: res.body.key, keyId: res.body.id };
}

/** Create (or replace) a site with a fresh id; returns the id. */
export async function createSite(config = {}, prefix = 's') {
  const id = `${prefix}-${randomBytes(4).toString('hex')}`;
  const res = await admin('PUT', `/sites/${id}`, config);
  if (res.status !== 201) throw new Error(`creating site ${id}: ${res.status} ${res.text}`);
  return id;
}

/** An HS256 JWT, as a site's backend would mint it (see README). */
export function mintToken(secret, claims, header = { alg: 'HS256', typ: 'JWT' }) {
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const body = `${b64(header)}.${b64(claims)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/** Connect expecting a refusal after the upgrade: the error frame and the close. */
export async function refused(query, opts = {}) {
  const c = await Client.connect(query, opts);
  const closed = await c.closed;
  const error = c.frames.find((f) => f.type === 'error');
  return { code: closed.code, error };
}

/**
 * A page on the server's origin (so the widget's default server is `base`)
 * that mounts one widget with `options`. Events are recorded in
 * `window.events`; the handle is `window.chat`.
 */
export async function widgetPage(context, options, { base = BASE, body = '<div id="chat"></div>', hidden = false } = {}) {
  const page = await context.newPage();
  await page.goto(`${base}/health`);
  await page.setContent(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>widget test</title></head>
    <body>${body}<script src="/hello-chat.js"></script></body></html>`);
  await page.waitForFunction(() => window.HelloChat);
  // A page that is hidden from the start, as a background tab is: set before
  // mounting, so nothing the widget shows in between counts as read.
  if (hidden) {
    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
      Object.defineProperty(document, 'hidden', { value: true, configurable: true });
    });
  }
  if (options) {
    await page.evaluate((o) => {
      window.events = [];
      window.chat = HelloChat.mount(document.getElementById('chat'), o);
      for (const e of ['message', 'status', 'error', 'presence', 'unread', 'reports']) window.chat.on(e, (d) => window.events.push([e, d]));
    }, options);
  }
  return page;
}

/** Statuses the page's widget reported so far. */
export const statuses = (page) => page.evaluate(() => window.events.filter(([e]) => e === 'status').map(([, d]) => d.status));

/** Wait until the widget reports `status`. */
export const waitForStatus = (page, status, timeout = 15000) =>
  page.waitForFunction((s) => window.events.some(([e, d]) => e === 'status' && d.status === s), status, { timeout });

/**
 * A TCP proxy in front of the server. `silence()` stops passing bytes on
 * every connection, open or new, without closing any (a machine asleep, a
 * dead NAT: the page's socket still looks open); `restore()` lets new ones
 * through again (the silenced ones stay dead, as after a long sleep);
 * `drop()` closes every connection.
 */
export function proxy() {
  const port = Number(new URL(BASE).port);
  let silent = false;
  const conns = new Set();
  const server = net.createServer((c) => {
    const up = net.connect(port, '127.0.0.1');
    const conn = { c, up, dead: silent };
    conns.add(conn);
    c.on('data', (d) => { if (!conn.dead) up.write(d); });
    up.on('data', (d) => { if (!conn.dead) c.write(d); });
    const end = () => { conns.delete(conn); c.destroy(); up.destroy(); };
    for (const s of [c, up]) { s.on('close', end); s.on('error', end); }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`,
    silence() { silent = true; for (const k of conns) k.dead = true; },
    restore() { silent = false; },
    drop() { for (const k of [...conns]) { k.c.destroy(); k.up.destroy(); } },
    close() { this.drop(); server.close(); },
  })));
}

/** The `<li>` of the message whose text contains `text`, in a widget page's list. */
export const messageItem = (page, text) =>
  page.locator('.hc-list .hc-msg[data-seq]', { has: page.locator('.hc-text', { hasText: text }) });

/** Serious and critical axe-core violations on the page (shadow roots included): `id: targets`. */
export async function seriousViolations(page) {
  await page.addScriptTag({ path: path.resolve('node_modules/axe-core/axe.min.js') });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
