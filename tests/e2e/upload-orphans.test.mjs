// Uploads the room refuses to commit leave nothing in R2. A file can finish
// streaming into the bucket after its room stopped wanting it: the room was
// erased meanwhile, or it gave the upload up as abandoned (here: its author
// was erased). The room then refuses the commit and will never delete that
// object itself, so the Worker must (worker/src/files/upload.rs, step 5).
//
// What is in the bucket is read from the local R2 emulation under the
// server's state directory (HELLO_CHAT_STATE, wrangler's --persist-to):
// miniflare keeps one row per object in the `_mf_objects` table of the
// bucket's SQLite database (read with the sqlite3 command-line tool), and
// writes a put's bytes to `blobs/.kj-tmp.*.partial` while they stream in,
// which tells that the room has claimed the upload and the bytes are on
// their way into R2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { BASE, join, mintToken, siteApi, siteWithKey, sleep, uniqueRoom } from './helpers.mjs';

const STATE = process.env.HELLO_CHAT_STATE;
const R2 = STATE && path.join(STATE, 'v3', 'r2');
const skip = !STATE && 'needs the server\'s state directory (HELLO_CHAT_STATE, set by scripts/test.mjs)';

const SECRET = 'upload-orphans-secret-0123456789abcdef';
// A PNG by its magic number, with random bytes after it: every file differs.
const SIZE = 4096;
const png = () => Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(SIZE - 8)]);
// Sent first: more than the Worker reads to tell the type (512 bytes).
const HEAD = 1000;

let n = 0;
const nextId = () => `o${Date.now().toString(36)}${n++}`;

/** The bucket's SQLite databases (one per bucket; metadata.sqlite is workerd's own). */
function r2Databases() {
  const dir = path.join(R2, 'miniflare-R2BucketObject');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite').map((f) => path.join(dir, f));
}

/** Whether R2 holds an object under `key` right now. */
function stored(key) {
  const dbs = r2Databases();
  assert.ok(dbs.length > 0, `no R2 database under ${R2}`);
  const sql = `SELECT count(*) FROM _mf_objects WHERE key = '${key.replaceAll("'", "''")}';`;
  return dbs.some((db) => execFileSync('sqlite3', ['-readonly', '-cmd', '.timeout 5000', db, sql], { encoding: 'utf8' }).trim() !== '0');
}

/** Puts still streaming into the local R2 (their bytes so far, under a temporary name). */
function partialBlobs() {
  if (!fs.existsSync(R2)) return [];
  return fs.readdirSync(R2).flatMap((bucket) => {
    const blobs = path.join(R2, bucket, 'blobs');
    return fs.existsSync(blobs) ? fs.readdirSync(blobs).filter((f) => f.endsWith('.partial')) : [];
  });
}

/** Poll `check` until it holds; fail with `what` after `ms`. */
async function until(check, what, ms = 10000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

/** Ask the room for a ticket for `bytes` (a PNG) as file 0 of message `id`; resolves to the `upload` frame. */
async function ticket(client, bytes, id = nextId()) {
  client.send({ type: 'upload', id, file: 0, name: 'shot.png', size: bytes.length, mime: 'image/png' });
  const answer = await client.next((f) => (f.type === 'upload' || f.type === 'error') && f.id === id);
  assert.equal(answer.type, 'upload', JSON.stringify(answer));
  return answer;
}

async function put(url, bytes) {
  const res = await fetch(`${BASE}${url}`, { method: 'PUT', body: bytes, headers: { 'content-type': 'image/png' } });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/**
 * Start a PUT of `bytes` that sends its first HEAD bytes only, and resolve
 * once they are streaming into R2 (the room has claimed the upload). The
 * rest goes with `finish()`, which resolves to the answer.
 */
async function startSlowPut(url, bytes) {
  const req = http.request(new URL(url, BASE), {
    method: 'PUT', headers: { 'content-type': 'image/png', 'content-length': String(bytes.length) },
  });
  const outcome = {};
  const answered = new Promise((resolve) => {
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let body = null;
        try { body = JSON.parse(text); } catch { /* not JSON */ }
        outcome.answer = { status: res.statusCode, body, text };
        resolve();
      });
    });
    req.on('error', (error) => { outcome.error = error; resolve(); });
  });
  const before = new Set(partialBlobs());
  req.write(bytes.subarray(0, HEAD));
  try {
    // Answered before the rest was sent: the upload never reached R2.
    await until(() => {
      if (outcome.answer || outcome.error) assert.fail(`the upload ended early: ${outcome.answer?.text ?? outcome.error}`);
      return partialBlobs().some((f) => !before.has(f));
    }, 'the upload streams into R2');
  } catch (e) {
    req.destroy();
    throw e;
  }
  return {
    finish: async () => {
      req.end(bytes.subarray(HEAD));
      await answered;
      if (outcome.error) throw outcome.error;
      return outcome.answer;
    },
    /** Give up (a test that failed half-way must not hang on it). */
    abort: () => { if (!outcome.answer) req.destroy(); },
  };
}

/** The room's refusal, passed on by the Worker: a 4xx with a JSON error. */
function assertRefused(answer) {
  assert.ok(answer.status >= 400 && answer.status < 500, `expected a refusal, got ${answer.status} ${answer.text}`);
  assert.equal(answer.body?.error, 'ticket_used', answer.text);
  assert.equal(typeof answer.body.message, 'string');
}

test('a file stored after its room was erased is deleted, not left in R2', { skip }, async () => {
  const { site, key } = await siteWithKey({ origins: [], allowNoOrigin: true }, 'orphans');
  const room = uniqueRoom('orphans');
  const ada = await join(room, 'Ada', { site });
  let upload;
  try {
    // An upload that goes through leaves its object: what is stored shows.
    const kept = png();
    const first = await ticket(ada, kept);
    assert.equal((await put(first.url, kept)).status, 201);
    assert.ok(stored(first.key), 'a stored upload is in R2');

    const late = png();
    const second = await ticket(ada, late);
    upload = await startSlowPut(second.url, late);
    // While its bytes stream in, the site erases the room (and its files).
    assert.equal((await siteApi(key, 'DELETE', `/${site}/rooms/${room}`)).status, 200);
    assert.ok(!stored(first.key), 'erasing the room deleted its stored file');

    // The rest arrives and is stored, but the room no longer knows the upload.
    assertRefused(await upload.finish());
    assert.ok(!stored(second.key), 'the refused upload\'s object was left in R2');
  } finally {
    upload?.abort();
    await ada.close();
  }
});

test('a file still streaming when its upload is given up is deleted once stored', { skip }, async () => {
  const { site, key } = await siteWithKey({ origins: [], allowNoOrigin: true, secret: SECRET }, 'orphans');
  const token = mintToken(SECRET, { sub: 'ada-1', name: 'Ada', exp: Math.floor(Date.now() / 1000) + 3600 });
  const room = uniqueRoom('orphans');
  const ada = await join(room, 'Ada', { site, token });
  let upload;
  try {
    // Erasing a user reaches the rooms on the site's room list: be on it.
    ada.send({ type: 'send', id: nextId(), message: 'hello' });
    await ada.next('ack');
    await until(async () => (await siteApi(key, 'GET', `/${site}/rooms`)).body?.rooms?.some((r) => r.room === room),
      'the room is on the site\'s room list');
    // Stored and never sent: abandoned together with the one below.
    const kept = png();
    const first = await ticket(ada, kept);
    assert.equal((await put(first.url, kept)).status, 201);
    assert.ok(stored(first.key), 'a stored upload is in R2');

    const late = png();
    const second = await ticket(ada, late);
    upload = await startSlowPut(second.url, late);
    // Erasing Ada gives up her unsent uploads: the room deletes their objects
    // (one batch, in the background) and forgets them. Once the stored one is
    // gone, so is whatever the room could delete of the one still streaming.
    const erased = await siteApi(key, 'DELETE', `/${site}/users/ada-1`);
    assert.deepEqual([erased.status, erased.body?.rooms], [200, 1], erased.text);
    await until(() => !stored(first.key), 'the room deleted the abandoned stored file');

    assertRefused(await upload.finish());
    assert.ok(!stored(second.key), 'the refused upload\'s object was left in R2');
  } finally {
    upload?.abort();
    await ada.close();
  }
});

test('attack: an old ticket\'s upload finishing late cannot replace or delete the file sent under a newer ticket', { skip }, async () => {
  const room = uniqueRoom('orphans');
  const mallory = await join(room, 'Mallory');
  const bo = await join(room, 'Bo');
  let upload;
  try {
    const id = nextId();
    const [sent, swapped] = [png(), png()];
    // The first ticket's upload starts (the ticket claimed, its bytes
    // streaming into R2) and stalls.
    const first = await ticket(mallory, swapped, id);
    upload = await startSlowPut(first.url, swapped);
    // A new ticket for the same file: its upload is stored, sent and seen.
    const again = await ticket(mallory, sent, id);
    const done = await put(again.url, sent);
    assert.equal(done.status, 201, JSON.stringify(done.body));
    mallory.send({ type: 'send', id, message: 'the real one', attachments: [{ key: done.body.key }] });
    const [file] = (await bo.next((f) => f.type === 'message' && f.id === id)).attachments;
    const seen = await fetch(`${BASE}${file.url}`);
    assert.deepEqual(Buffer.from(await seen.arrayBuffer()), sent);

    // The stale upload ends: refused, and what everyone saw stays as it was.
    assertRefused(await upload.finish());
    await sleep(500);
    const after = await fetch(`${BASE}${file.url}`);
    assert.equal(after.status, 200, 'the sent file is still there');
    assert.deepEqual(Buffer.from(await after.arrayBuffer()), sent, 'and still the bytes everyone saw');
    assert.ok(first.key === file.key || !stored(first.key), 'the stale upload\'s bytes were left in R2');
  } finally {
    upload?.abort();
    await Promise.all([mallory.close(), bo.close()]);
  }
});
