// The npm package: built into a minimal Vite app by `npm test` (see
// scripts/lib/build.mjs), loaded in Chromium; and safe to import on a server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BASE, join, launchBrowser, uniqueRoom } from './helpers.mjs';

const pkg = path.resolve('dist/npm');

test('the Vite-built app mounts the widget from the npm package and chats', async () => {
  const room = uniqueRoom('npm');
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${BASE}/npm/?room=${room}&name=Bundled`);
    await page.locator('#status', { hasText: 'connected' }).waitFor();
    const peer = await join(room, 'Peer');
    await page.locator('.hc-input').fill('hello from a bundle');
    await page.locator('.hc-input').press('Enter');
    assert.equal((await peer.next('message')).message, 'hello from a bundle');
    peer.send({ type: 'send', id: 'p1', message: 'hello back' });
    await page.locator('.hc-list .hc-text', { hasText: 'hello back' }).waitFor();
    assert.deepEqual(errors, []);
    await peer.close();
  } finally {
    await browser.close();
  }
});

test('the package\'s types name what the widget really takes and emits: every strings key, every field of `room`', () => {
  const types = fs.readFileSync(path.join(pkg, 'index.d.ts'), 'utf8');
  // What follows `start`, up to `end`.
  const between = (text, start, end) => {
    const from = text.indexOf(start) + start.length;
    return text.slice(from, text.indexOf(end, from));
  };
  const quoted = (text, re) => new Set([...text.matchAll(re)].map((m) => m[1]));
  // The English texts, one per key (sdk/src/strings.rs), against the union of keys.
  const strings = fs.readFileSync('sdk/src/strings.rs', 'utf8');
  const keys = quoted(between(strings, 'const DEFAULTS:', '];'), /\(\s*"([A-Za-z0-9]+)",/g);
  const typed = quoted(between(types, 'export type HelloChatStringKey', ';'), /'([A-Za-z0-9]+)'/g);
  assert.ok(keys.size > 100, `${keys.size} keys read`);
  assert.deepEqual([...typed].sort(), [...keys].sort());
  // The headless client's `room` event (sdk/src/headless.rs), against its type.
  const headless = fs.readFileSync('sdk/src/headless.rs', 'utf8');
  const fields = quoted(between(headless, 'Effect::Room(room) => {', 'self.emit("room"'), /\(\s*"([A-Za-z]+)",/g);
  const typedRoom = quoted(between(types, '  room: {', '\n  };'), /^\s+([A-Za-z]+)\??:/gm);
  assert.ok(fields.has('maxFileBytes'), [...fields].join());
  assert.deepEqual([...typedRoom].sort(), [...fields].sort());
});

test('importing the package touches no browser global (safe for server-side rendering)', async () => {
  assert.equal(typeof globalThis.window, 'undefined');
  const mod = await import(pathToFileURL(path.join(pkg, 'index.js')).href);
  assert.equal(typeof mod.HelloChat.mount, 'function');
  assert.equal(mod.default, mod.HelloChat);
  assert.throws(() => mod.HelloChat.mount(null, { room: 'x' }), /DOM element/);
});

test('the package ships its types, wasm and an exports map', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8'));
  assert.equal(manifest.name, 'hello-chat');
  assert.equal(manifest.types, './index.d.ts');
  for (const file of manifest.files) assert.ok(fs.existsSync(path.join(pkg, file)), `${file} is in the package`);
  const types = fs.readFileSync(path.join(pkg, 'index.d.ts'), 'utf8');
  for (const name of ['HelloChatOptions', 'HelloChatHandle', 'HelloChatEvents', 'HelloChatStatus']) assert.match(types, new RegExp(`\\b${name}\\b`));
});
