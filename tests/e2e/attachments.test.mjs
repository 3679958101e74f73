// Attachments against the real worker and its R2 emulation: tickets from the
// room, uploads checked by the Worker (size while streaming, type by
// content, single use, expiry), signed URLs that stay inside their site,
// inert serving, and every path that deletes the objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, admin, createSite, join, mintToken, siteApi, siteWithKey, sleep, uniqueRoom } from './helpers.mjs';

const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(200, 7)]);
const EXE = Buffer.concat([Buffer.from('4d5a900003000000', 'hex'), Buffer.alloc(200, 1)]);
const TEXT = Buffer.from('notes from the call\nline two\n');
// The test server's tickets last 4 s (UPLOAD_TICKET_MS), and uploads never
// sent are swept 3 s after that (UPLOAD_ABANDON_MS).
const TICKET_MS = 4000;

let n = 0;
const nextId = () => `f${Date.now().toString(36)}${n++}`;

/** Ask the room for a ticket; resolves to the `upload` frame or the `error`. */
async function ticket(client, { id = nextId(), file = 0, name = 'shot.png', size = PNG.length, mime = 'image/png', width, height } = {}) {
  client.send({ type: 'upload', id, file, name, size, mime, width, height });
  const answer = await client.next((f) => (f.type === 'upload' || f.type === 'error') && f.id === id);
  return { ...answer, id };
}

const put = (url, body, mime = 'image/png', headers = {}) =>
  fetch(`${BASE}${url}`, { method: 'PUT', body, headers: { 'content-type': mime, ...headers } })
    .then(async (r) => ({ status: r.status, body: await r.json().catch(() => null), headers: r.headers }));

/** Upload `bytes` and send them as a message; returns the ack'd message as the sender saw it. */
async function sendFile(client, bytes, opts = {}) {
  const t = await ticket(client, { size: bytes.length, ...opts });
  assert.equal(t.type, 'upload', JSON.stringify(t));
  const stored = await put(t.url, bytes, opts.mime ?? 'image/png');
  assert.equal(stored.status, 201, JSON.stringify(stored.body));
  client.send({ type: 'send', id: t.id, message: opts.text ?? '', attachments: [{ key: t.key, alt: opts.alt ?? '' }] });
  const message = await client.next((f) => f.type === 'message' && f.id === t.id);
  await client.next((f) => f.type === 'ack' && f.id === t.id);
  return message;
}

/** Wait until fetching `url` answers `status` (deletions run in the background). */
async function eventually(url, status, ms = 8000) {
  const until = Date.now() + ms;
  let last;
  while (Date.now() < until) {
    last = (await fetch(`${BASE}${url}`)).status;
    if (last === status) return;
    await sleep(200);
  }
  assert.fail(`${url} answered ${last}, not ${status}`);
}

test('a pasted screenshot goes up with a ticket, and everyone gets it inline from a signed URL', async () => {
  const room = uniqueRoom('files');
  const ada = await join(room, 'Ada');
  const bo = await join(room, 'Bo');
  try {
    const t = await ticket(ada, { width: 640, height: 480 });
    assert.equal(t.type, 'upload');
    assert.ok(t.url.startsWith('/uploads/'), t.url);
    assert.ok(t.expires > Date.now());
    assert.equal((await put(t.url, PNG)).status, 201);
    ada.send({ type: 'send', id: t.id, message: '', attachments: [{ key: t.key, alt: 'the error dialog' }] });
    await ada.next((f) => f.type === 'ack' && f.id === t.id);
    const seen = await bo.next('message');
    assert.equal(seen.message, '', 'a message may be files only');
    const [a] = seen.attachments;
    assert.deepEqual({ name: a.name, mime: a.mime, size: a.size, width: a.width, height: a.height, alt: a.alt },
      { name: 'shot.png', mime: 'image/png', size: PNG.length, width: 640, height: 480, alt: 'the error dialog' });

    const res = await fetch(`${BASE}${a.url}`);
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), PNG);
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.match(res.headers.get('content-security-policy'), /^sandbox/);
    assert.match(res.headers.get('content-disposition'), /^inline; filename="shot.png"/);
    assert.match(res.headers.get('cache-control'), /immutable/);

    const part = await fetch(`${BASE}${a.url}`, { headers: { range: 'bytes=0-7' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 0-7/${PNG.length}`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), PNG.subarray(0, 8));
    assert.equal((await fetch(`${BASE}${a.url}`, { headers: { range: 'bytes=9999-' } })).status, 416);
    const tail = await fetch(`${BASE}${a.url}`, { headers: { range: 'bytes=-5000' } });
    assert.equal(tail.status, 206, 'a suffix longer than the file is the whole file');
    assert.equal(tail.headers.get('content-range'), `bytes 0-${PNG.length - 1}/${PNG.length}`);
    assert.equal(Buffer.from(await tail.arrayBuffer()).length, PNG.length);

    // Joining later: the history carries the file, with a URL that works.
    const cy = await join(room, 'Cy');
    const [again] = cy.history.messages.at(-1).attachments;
    assert.equal((await fetch(`${BASE}${again.url}`)).status, 200);
    await cy.close();

    // Anything but an image is downloaded, never shown.
    const notes = await sendFile(ada, TEXT, { name: 'notes.txt', mime: 'text/plain', text: 'minutes attached' });
    const txt = await fetch(`${BASE}${notes.attachments[0].url}`);
    assert.match(txt.headers.get('content-disposition'), /^attachment; filename="notes.txt"/);
    assert.equal(txt.headers.get('content-type'), 'text/plain');
  } finally {
    await Promise.all([ada.close(), bo.close()]);
  }
});

test('a renamed executable is refused by its bytes; sizes and types are the site\'s', async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true,
    limits: { maxFileBytes: 1000, fileTypes: ['image/png', 'image/jpeg'] } }, 'files');
  const ada = await join(uniqueRoom('files'), 'Ada', { site });
  try {
    const exe = await ticket(ada, { name: 'cute-cat.png', size: EXE.length });
    const refused = await put(exe.url, EXE);
    assert.equal(refused.status, 415);
    assert.equal(refused.body.error, 'unsupported_type');
    ada.send({ type: 'send', id: exe.id, message: 'look', attachments: [{ key: exe.key }] });
    const err = await ada.next((f) => f.type === 'error' && f.id === exe.id);
    assert.equal(err.code, 'not_found', 'a refused upload cannot be sent');

    assert.equal((await ticket(ada, { size: 5000 })).code, 'too_large');
    assert.equal((await ticket(ada, { name: 'a.pdf', mime: 'application/pdf' })).code, 'unsupported_type');

    // Over the ticket's size: refused before anything is stored.
    const small = await ticket(ada, { size: 300 });
    const big = await put(small.url, Buffer.concat([PNG, Buffer.alloc(800)]));
    assert.equal(big.status, 413);
    assert.equal(big.body.error, 'too_large');
    ada.send({ type: 'send', id: small.id, message: 'x', attachments: [{ key: small.key }] });
    assert.equal((await ada.next((f) => f.type === 'error' && f.id === small.id)).code, 'not_found');
    // No length, no upload (a body cannot stream in unannounced).
    const chunked = await fetch(`${BASE}${(await ticket(ada)).url}`, {
      method: 'PUT', body: new Blob([PNG]).stream(), duplex: 'half', headers: { 'content-type': 'image/png' },
    });
    assert.equal(chunked.status, 411);
  } finally {
    await ada.close();
  }
});

test('a text head cannot carry a binary tail, and downloads are named for what they are', async () => {
  const ada = await join(uniqueRoom('files'), 'Ada');
  try {
    // 512 bytes of text, then a ZIP archive: refused as it streams in, nothing stored.
    const polyglot = Buffer.concat([Buffer.alloc(600, 'a'), Buffer.from('504b0304140000000800', 'hex'), Buffer.alloc(100, 0)]);
    const t = await ticket(ada, { name: 'invoice.zip', size: polyglot.length, mime: 'text/plain' });
    const refused = await put(t.url, polyglot, 'text/plain');
    assert.equal(refused.status, 415, JSON.stringify(refused.body));
    ada.send({ type: 'send', id: t.id, message: 'x', attachments: [{ key: t.key }] });
    assert.equal((await ada.next((f) => f.type === 'error' && f.id === t.id)).code, 'not_found');
    // Text named like a program downloads as text.
    const script = await sendFile(ada, Buffer.from('MsgBox "hi"\n'), { name: 'run.hta', mime: 'text/plain' });
    const res = await fetch(`${BASE}${script.attachments[0].url}`);
    assert.match(res.headers.get('content-disposition'), /^attachment; filename="run\.hta\.txt"/);
  } finally {
    await ada.close();
  }
});

test('uploads racing with one ticket: one is stored, the others are refused', async () => {
  const ada = await join(uniqueRoom('files'), 'Ada');
  try {
    const t = await ticket(ada);
    const answers = await Promise.all([put(t.url, PNG), put(t.url, PNG), put(t.url, PNG)]);
    assert.deepEqual(answers.map((a) => a.status).sort(), [201, 409, 409]);
  } finally {
    await ada.close();
  }
});

test('a ticket is used once, expires, and cannot be altered; a file is attached by its uploader only', async () => {
  const room = uniqueRoom('files');
  const ada = await join(room, 'Ada');
  const eve = await join(room, 'Eve');
  try {
    const t = await ticket(ada);
    assert.equal((await put(t.url, PNG)).status, 201);
    const replay = await put(t.url, PNG);
    assert.equal(replay.status, 409);
    assert.equal(replay.body.error, 'ticket_used');

    const [payload, mac] = t.url.slice('/uploads/'.length).split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url'));
    const forged = Buffer.from(JSON.stringify({ ...claims, size: 1e9 })).toString('base64url');
    assert.equal((await put(`/uploads/${forged}.${mac}`, PNG)).status, 403);

    // Eve cannot send Ada's upload as hers.
    eve.send({ type: 'send', id: 'steal-1', message: 'mine now', attachments: [{ key: t.key }] });
    assert.equal((await eve.next((f) => f.type === 'error' && f.id === 'steal-1')).code, 'not_found');
    // Ada can, once; the same key cannot go in a second message.
    ada.send({ type: 'send', id: t.id, message: '', attachments: [{ key: t.key }] });
    await ada.next((f) => f.type === 'ack' && f.id === t.id);
    ada.send({ type: 'send', id: 'again-1', message: 'twice', attachments: [{ key: t.key }] });
    assert.equal((await ada.next((f) => f.type === 'error' && f.id === 'again-1')).code, 'not_found');

    const late = await ticket(ada);
    await sleep(TICKET_MS + 300);
    const expired = await put(late.url, PNG);
    assert.equal(expired.status, 410);
    assert.equal(expired.body.error, 'ticket_expired');
  } finally {
    await Promise.all([ada.close(), eve.close()]);
  }
});

test('a file URL serves its own object only, and only while it is valid', async () => {
  const room = uniqueRoom('files');
  const ada = await join(room, 'Ada');
  const other = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true }, 'other');
  try {
    const { attachments: [a] } = await sendFile(ada, PNG);
    const url = new URL(a.url, BASE);
    assert.equal((await fetch(url)).status, 200);
    const elsewhere = new URL(url);
    elsewhere.pathname = url.pathname.replace(/^\/files\/[^/]+\//, `/files/${other}/`);
    assert.equal((await fetch(elsewhere)).status, 403, 'the same object path under another site');
    const later = new URL(url);
    later.searchParams.set('exp', String(Number(url.searchParams.get('exp')) + 86400000));
    assert.equal((await fetch(later)).status, 403, 'a longer life is not granted by editing it');
    const unsigned = new URL(url);
    unsigned.search = '';
    assert.equal((await fetch(unsigned)).status, 403);
    assert.equal((await fetch(`${BASE}/files/../../etc/passwd`)).status, 404);
  } finally {
    await ada.close();
  }
});

test('deleting a message, erasing its author, the room or the site deletes the files; unsent uploads are swept', async () => {
  const secret = 'files-site-secret-0123456789abcdef';
  const { site, key } = await siteWithKey({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret,
    limits: { addressBurst: 1000, maxConnectionsPerAddress: 100 } }, 'files');
  const room = uniqueRoom('files');
  const token = mintToken(secret, { sub: 'ada-1', name: 'Ada', exp: Math.floor(Date.now() / 1000) + 3600 });
  const ada = await join(room, 'Ada', { site, token });
  const bo = await join(room, 'Bo', { site });
  try {
    const deleted = await sendFile(ada, PNG);
    ada.send({ type: 'delete', id: nextId(), target: deleted.seq });
    const gone = await bo.next((f) => f.type === 'update' && f.target === deleted.seq);
    assert.equal(gone.deleted, true);
    assert.equal(gone.attachments, undefined, 'a tombstone has no files');
    await eventually(deleted.attachments[0].url, 404);

    const erased = await sendFile(ada, PNG);
    assert.equal((await siteApi(key, 'DELETE', `/${site}/users/ada-1`)).status, 200);
    await eventually(erased.attachments[0].url, 404);

    const byBo = await sendFile(bo, PNG);
    const unsent = await ticket(bo);
    assert.equal((await put(unsent.url, PNG)).status, 201);
    // Swept once its ticket has expired and the grace has passed: then it cannot be sent.
    await sleep(TICKET_MS + 3000 + 1500);
    bo.send({ type: 'send', id: unsent.id, message: 'late', attachments: [{ key: unsent.key }] });
    assert.equal((await bo.next((f) => f.type === 'error' && f.id === unsent.id)).code, 'not_found');
    assert.equal((await fetch(`${BASE}${byBo.attachments[0].url}`)).status, 200, 'sent files stay');

    assert.equal((await siteApi(key, 'DELETE', `/${site}/rooms/${room}`)).status, 200);
    await eventually(byBo.attachments[0].url, 404);
  } finally {
    await Promise.all([ada.close(), bo.close()]);
  }

  const second = await join(uniqueRoom('files'), 'Cy', { site });
  const kept = await sendFile(second, PNG);
  const pending = await ticket(second);
  await second.close();
  assert.equal((await admin('DELETE', `/sites/${site}`)).status, 200);
  await eventually(kept.attachments[0].url, 404);
  const late = await put(pending.url, PNG);
  assert.equal(late.status, 410, 'a deleted site\'s tickets die with it');
});

/** Ask for tickets until the room answers `code` (what other rooms hold reaches it within moments). */
async function ticketUntil(client, code, opts = {}, ms = 8000) {
  const until = Date.now() + ms;
  let t;
  do {
    t = await ticket(client, opts);
    if ((t.code ?? t.type) === code) return t;
    await sleep(250);
  } while (Date.now() < until);
  assert.fail(`tickets answered ${JSON.stringify(t)}, never ${code}`);
}

test('attack: one visitor filling the site\'s file storage room after room is stopped at maxStorageBytes, and deletions free it', async () => {
  // Each file costs a message from the rate limit, but rooms are free to
  // make: without a cap per site, one script fills the bucket without end.
  const { site, key } = await siteWithKey({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true,
    limits: { maxFileBytes: 1000, maxStorageBytes: 1000 } }, 'quota');
  const [roomA, roomB] = [uniqueRoom('quota'), uniqueRoom('quota')];
  const mallory = await join(roomA, 'Mallory', { site });
  let elsewhere;
  try {
    const sent = [];
    for (let i = 0; i < 4; i++) sent.push(await sendFile(mallory, PNG));
    // 4 × 208 bytes held: a fifth would pass the site's 1,000.
    const fifth = await ticket(mallory);
    assert.equal(fifth.code, 'storage_full', JSON.stringify(fifth));
    assert.match(fifth.message, /storage/);

    // Another room of the same site knows what this one holds.
    elsewhere = await join(roomB, 'Mallory', { site });
    const full = await ticketUntil(elsewhere, 'storage_full');
    assert.equal(full.code, 'storage_full');
    assert.equal((await ticket(elsewhere, { size: 100 })).type, 'upload', 'what still fits is taken');

    // The owner sees where the bytes are.
    const list = await siteApi(key, 'GET', `/${site}/rooms`);
    assert.equal(list.status, 200);
    const a = list.body.rooms.find((r) => r.room === roomA);
    assert.equal(a.fileBytes, 4 * PNG.length, JSON.stringify(list.body));
    assert.ok(list.body.fileBytes >= 4 * PNG.length, JSON.stringify(list.body));
    assert.equal(list.body.maxStorageBytes, 1000);

    // Deleting two of the messages frees their files' bytes, site-wide.
    for (const m of sent.slice(0, 2)) {
      mallory.send({ type: 'delete', id: nextId(), target: m.seq });
      await eventually(m.attachments[0].url, 404);
    }
    assert.equal((await ticketUntil(elsewhere, 'upload')).type, 'upload');
  } finally {
    await Promise.all([mallory.close(), elsewhere?.close()]);
  }
});

test('attack: uploads that fail on the way, or asked for again, cannot empty or fill the site\'s storage count', async () => {
  const { site, key } = await siteWithKey({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true,
    limits: { maxFileBytes: 1000, maxStorageBytes: 1000, addressBurst: 1000, rateBurst: 1000 } }, 'quota');
  const room = uniqueRoom('quota');
  const mallory = await join(room, 'Mallory', { site });
  const ada = await join(uniqueRoom('quota'), 'Ada', { site });
  try {
    // Declared 1,000 bytes of text, claimed, then refused on the way (a
    // binary tail): nothing is stored, and nothing stays counted.
    for (let i = 0; i < 3; i++) {
      const t = await ticket(mallory, { name: 'notes.txt', mime: 'text/plain', size: 1000 });
      const body = Buffer.concat([Buffer.from('x'.repeat(600)), Buffer.alloc(400, 0)]);
      assert.equal((await put(t.url, body, 'text/plain')).status, 415);
    }
    const fine = await ticket(ada, { size: 900 });
    assert.equal(fine.type, 'upload', JSON.stringify(fine));

    // Stored, then a new ticket asked for the same file of the same
    // message: the stored object is deleted, and its bytes freed, so that
    // asking again cannot keep the site full.
    const id = nextId();
    const first = await ticket(mallory, { id, size: 800 });
    assert.equal((await put(first.url, Buffer.concat([PNG, Buffer.alloc(592, 1)]))).status, 201);
    const list = await siteApi(key, 'GET', `/${site}/rooms`);
    assert.equal(list.body.fileBytes, 800, JSON.stringify(list.body));
    // Nothing was sent there, but the owner finds where the bytes are.
    assert.deepEqual(list.body.rooms.map((r) => [r.room, r.fileBytes]), [[room, 800]]);
    assert.equal((await ticketUntil(ada, 'storage_full', { size: 900 })).code, 'storage_full');
    const again = await ticket(mallory, { id, size: 800 });
    assert.equal(again.type, 'upload');
    assert.notEqual(again.key, first.key, 'one object per ticket');
    mallory.send({ type: 'send', id, message: '', attachments: [{ key: first.key }] });
    assert.equal((await mallory.next((f) => f.type === 'error' && f.id === id)).code, 'not_found',
      'the object of an older ticket cannot be sent');
    // The new upload counts alone.
    assert.equal((await put(again.url, PNG)).status, 201);
    let bytes;
    for (let i = 0; i < 20 && bytes !== PNG.length; i++) {
      bytes = (await siteApi(key, 'GET', `/${site}/rooms`)).body.fileBytes;
      if (bytes !== PNG.length) await sleep(200);
    }
    assert.equal(bytes, PNG.length);
  } finally {
    await Promise.all([mallory.close(), ada.close()]);
  }
});

test('attack: uploads fired at once in many rooms of a site never hold more than its maxStorageBytes', async () => {
  const { site, key } = await siteWithKey({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true,
    limits: { maxFileBytes: 1000, maxStorageBytes: 1000 } }, 'quota');
  const clients = await Promise.all(Array.from({ length: 8 }, () => join(uniqueRoom('quota'), 'Mallory', { site })));
  try {
    // Every ticket first (each room has heard of no files elsewhere), then
    // every upload at once: 8 × 300 bytes for a cap of 1,000.
    const tickets = await Promise.all(clients.map((c) => ticket(c, { size: 300 })));
    for (const t of tickets) assert.equal(t.type, 'upload', JSON.stringify(t));
    const body = Buffer.concat([PNG, Buffer.alloc(92, 3)]);
    const answers = await Promise.all(tickets.map((t) => put(t.url, body)));
    const stored = answers.filter((a) => a.status === 201).length;
    assert.equal(stored, 3, JSON.stringify(answers.map((a) => a.status)));
    for (const a of answers.filter((a) => a.status !== 201)) {
      assert.deepEqual([a.status, a.body.error], [507, 'storage_full']);
    }
    const list = await siteApi(key, 'GET', `/${site}/rooms`);
    assert.ok(list.body.fileBytes <= 1000, JSON.stringify(list.body));
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
});

test('uploads never sent are swept each when due, not a minute late, and free the site\'s storage', async () => {
  const { site, key } = await siteWithKey({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true }, 'sweep');
  const ada = await join(uniqueRoom('sweep'), 'Ada', { site });
  try {
    const first = await ticket(ada);
    assert.equal((await put(first.url, PNG)).status, 201);
    await sleep(2500);
    const second = await ticket(ada);
    assert.equal((await put(second.url, PNG)).status, 201);
    const held = async () => (await siteApi(key, 'GET', `/${site}/rooms`)).body.fileBytes;
    assert.equal(await held(), 2 * PNG.length);
    // The second is due 2.5 s after the first (tickets of 4 s, then 3 s):
    // swept then, not when a failed delete would be tried again (60 s).
    const until = Date.now() + TICKET_MS + 3000 + 2500 + 6000;
    let bytes;
    const seen = [];
    while ((bytes = await held()) > 0 && Date.now() < until) { seen.push(bytes); await sleep(300); }
    assert.equal(bytes, 0, `both swept, and the site's count freed: ${[...new Set(seen)]}`);
  } finally {
    await ada.close();
  }
});
