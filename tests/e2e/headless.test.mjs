// HelloChat.connect in real Chromium: the widget's session with no UI. The
// same guarantees as the widget (resume, outbox, nothing lost or doubled),
// told as events: message, pending, sent, status, unread, older, ...
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, act, createSite, join, launchBrowser, mintToken, post, proxy, siteApi, siteWithKey, uniqueRoom } from './helpers.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** A page with the embed loaded and a headless client connected to `room`. */
async function headlessPage(context, options, base = BASE) {
  const page = await context.newPage();
  await page.goto(`${base}/health`);
  await page.setContent('<!doctype html><html><head><title>headless</title></head><body><p id="app">my own UI</p><script src="/hello-chat-headless.js"></script></body></html>');
  await page.waitForFunction(() => window.HelloChat);
  await page.evaluate((o) => {
    window.seen = [];
    window.client = HelloChat.connect(o);
    // (Listened to as the client is made: an event may come before another evaluate could add a listener.)
    for (const e of ['message', 'update', 'status', 'error', 'pending', 'sent', 'failed', 'unread', 'older', 'presence', 'typing', 'welcome', 'room', 'reports']) {
      window.client.on(e, (d) => window.seen.push([e, d]));
    }
  }, options);
  return page;
}

const events = (page, kind) => page.evaluate((k) => window.seen.filter(([e]) => e === k).map(([, d]) => d), kind);
const waitFor = (page, fn, arg) => page.waitForFunction(fn, arg, { timeout: 15000 });
const texts = async (page) => (await events(page, 'message')).map((m) => m.message);

test('a headless client joins, sends and receives once each, and adds nothing to the page', async () => {
  const room = uniqueRoom('headless');
  const bo = await join(room, 'Bo');
  bo.send({ type: 'send', id: 'b0', message: 'before Ada came' });
  await bo.next('ack');
  const context = await browser.newContext();
  try {
    const page = await headlessPage(context, { room, name: 'Ada' });
    await waitFor(page, () => window.seen.some(([e, d]) => e === 'status' && d.status === 'connected'));
    await waitFor(page, () => window.seen.some(([e, d]) => e === 'message' && d.message === 'before Ada came'));

    const id = await page.evaluate(() => window.client.send('hello from my own UI'));
    assert.match(id, /^[0-9a-f]{32}$/);
    await waitFor(page, (i) => window.seen.some(([e, d]) => e === 'sent' && d.id === i), id);
    assert.deepEqual((await events(page, 'pending')).map((p) => p.text), ['hello from my own UI']);
    const own = (await events(page, 'message')).filter((m) => m.id === id);
    assert.equal(own.length, 1);
    assert.equal(own[0].own, true);
    assert.equal((await bo.next((f) => f.type === 'message')).message, 'hello from my own UI');

    // What it may do, from the start: a UI draws its reactions and counter.
    const [rules] = await events(page, 'room');
    assert.deepEqual([rules.locked, rules.slowMode, rules.maxMessageChars, rules.emoji.length > 0, rules.mutedUntil],
      [false, 0, 2000, true, undefined]);
    // Who it is and who is here, from the start: a UI draws its member list at once.
    const [welcome] = await events(page, 'welcome');
    assert.equal(welcome.name, 'Ada');
    assert.equal(welcome.sender, own[0].sender);
    const [joined] = await events(page, 'presence');
    assert.deepEqual([joined.online, joined.members.map((m) => m.name).sort()], [2, ['Ada', 'Bo']]);
    const cy = await join(room, 'Cy');
    await waitFor(page, () => window.seen.some(([e, d]) => e === 'presence' && d.joined === 'Cy'));
    assert.deepEqual((await events(page, 'presence')).at(-1).members.map((m) => m.name).sort(), ['Ada', 'Bo', 'Cy']);
    await cy.close();

    bo.send({ type: 'send', id: 'b1', message: 'hi @ada' });
    await waitFor(page, () => window.seen.some(([e, d]) => e === 'message' && d.message === 'hi @ada'));
    const theirs = (await events(page, 'message')).find((m) => m.message === 'hi @ada');
    assert.equal(theirs.own, false);
    assert.equal(theirs.mentionsMe, true, 'a mention of the client, as the widget tells it');
    assert.equal(own[0].mentionsMe, false);
    // Unread until the page says the visitor saw it.
    await waitFor(page, () => window.client.unread === 1);
    await page.evaluate((seq) => window.client.markRead(seq), theirs.seq);
    await waitFor(page, () => window.client.unread === 0);

    assert.equal(await page.evaluate(() => document.body.children.length), 2, 'no nodes added: the page has its <p> and <script>');
    assert.equal(await page.evaluate(() => document.querySelectorAll('[class^="hc-"], hello-chat').length), 0);
    await page.evaluate(() => window.client.close());
    assert.deepEqual((await events(page, 'status')).at(-1), { status: 'closed' });
  } finally {
    await bo.close();
    await context.close();
  }
});

test('offline: sent once on reconnect; what others said meanwhile arrives once, in order', async () => {
  const room = uniqueRoom('headless');
  const bo = await join(room, 'Bo');
  const context = await browser.newContext();
  try {
    const page = await headlessPage(context, { room, name: 'Ada' });
    await waitFor(page, () => window.seen.some(([e, d]) => e === 'status' && d.status === 'connected'));
    await context.setOffline(true);
    await page.evaluate(() => window.dispatchEvent(new Event('offline')));
    // A custom UI can tell "offline" from a retry.
    await waitFor(page, () => window.seen.some(([e, d]) => e === 'status' && d.status === 'reconnecting' && d.offline === true));
    const id = await page.evaluate(() => window.client.send('typed on the train'));
    for (let i = 1; i <= 3; i++) {
      bo.send({ type: 'send', id: `m${i}`, message: `while away ${i}` });
      await bo.next((f) => f.type === 'ack' && f.id === `m${i}`);
    }
    await context.setOffline(false);
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    await waitFor(page, (i) => window.seen.some(([e, d]) => e === 'sent' && d.id === i), id);
    await waitFor(page, () => window.seen.filter(([e]) => e === 'message').length >= 4);
    assert.deepEqual(await texts(page), ['while away 1', 'while away 2', 'while away 3', 'typed on the train']);
    const delivered = [];
    for (;;) {
      const f = await bo.next((x) => x.type === 'message', 3000).catch(() => null);
      if (!f) break;
      delivered.push(f.message);
    }
    assert.deepEqual(delivered, ['typed on the train'], 'stored once');
  } finally {
    await bo.close();
    await context.close();
  }
});

test('older messages page in on request; a bad room throws at once, as mount does', async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, limits: { rateBurst: 1000, ratePerSec: 1000, addressBurst: 1000, addressPerSec: 1000 } }, 'headless');
  const room = uniqueRoom('headless');
  const bo = await join(room, 'Bo', { site });
  const context = await browser.newContext();
  try {
    for (let i = 1; i <= 60; i++) bo.send({ type: 'send', id: `h${i}`, message: `history ${i}` });
    for (let i = 1; i <= 60; i++) await bo.next((f) => f.type === 'ack' && f.id === `h${i}`);
    const page = await headlessPage(context, { room, site, name: 'Ada' });
    await waitFor(page, () => window.seen.filter(([e]) => e === 'message').length === 50);
    assert.equal((await texts(page))[0], 'history 11', 'the join page is the latest 50');
    assert.equal(await page.evaluate(() => window.client.loadEarlier()), true);
    await waitFor(page, () => window.seen.some(([e]) => e === 'older'));
    const [older] = await events(page, 'older');
    assert.deepEqual(older.messages.map((m) => m.message), Array.from({ length: 10 }, (_, i) => `history ${i + 1}`));
    assert.equal(older.more, false);

    // Thrown at once, as mount throws (it was a load_failed later, which
    // sent developers to their CSP).
    const thrown = await page.evaluate(() => {
      try { HelloChat.connect({ room: 'no spaces allowed' }); return null; } catch (err) { return `${err.constructor.name}: ${err.message}`; }
    });
    assert.match(thrown, /^TypeError: HelloChat\.connect: room "no spaces allowed" must be/);
  } finally {
    await bo.close();
    await context.close();
  }
});

test('the embed and the headless script share one HelloChat, in either order; the headless file is a fraction of the widget', async () => {
  const context = await browser.newContext();
  try {
    for (const order of [['/hello-chat.js', '/hello-chat-headless.js'], ['/hello-chat-headless.js', '/hello-chat.js']]) {
      const page = await context.newPage();
      await page.goto(`${BASE}/health`);
      await page.setContent(`<!doctype html><body>${order.map((src) => `<script src="${src}"></script>`).join('')}</body>`);
      await page.waitForFunction(() => window.HelloChat?.mount && window.HelloChat?.connect);
      await page.close();
    }
    // The chat bubble and the headless client (an unread badge of the page's own), either order.
    for (const order of [['/hello-chat-launcher.js', '/hello-chat-headless.js'], ['/hello-chat-headless.js', '/hello-chat-launcher.js']]) {
      const page = await context.newPage();
      await page.goto(`${BASE}/health`);
      await page.setContent(`<!doctype html><body><div data-hello-chat-launcher data-room="lobby"></div>${order.map((src) => `<script src="${src}"></script>`).join('')}</body>`);
      await page.waitForFunction(() => typeof window.HelloChat?.connect === 'function', null, { timeout: 5000 });
      assert.equal(await page.evaluate(() => typeof window.HelloChat.launcher), 'function', order.join(' then '));
      await page.waitForFunction(() => document.querySelector('[data-hello-chat-launcher]').helloChat, null, { timeout: 5000 });
      await page.close();
    }
  } finally {
    await context.close();
  }
  // Each script may be loaded with crossorigin (Subresource Integrity needs it).
  for (const path of ['/hello-chat.js', '/hello-chat-headless.js', '/hello-chat-launcher.js']) {
    const res = await fetch(`${BASE}${path}`, { headers: { origin: 'https://shop.example' } });
    assert.equal(res.headers.get('access-control-allow-origin'), '*', path);
  }
  const size = async (path) => (await (await fetch(`${BASE}${path}`, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer()).byteLength;
  const [widget, headless] = [await size('/hello-chat.js'), await size('/hello-chat-headless.js')];
  assert.ok(headless < widget * 0.6, `headless ${headless} bytes against the widget's ${widget}: the UI is left out`);
});

test('the React example draws its own chat on HelloChat.connect', async () => {
  const room = uniqueRoom('react');
  const bo = await join(room, 'Bo');
  bo.send({ type: 'send', id: 'r0', message: 'welcome to React' });
  await bo.next('ack');
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${BASE}/npm/react.html?room=${room}&name=Ada`);
    await page.locator('#react-status', { hasText: 'connected' }).waitFor();
    await page.locator('#react-messages li', { hasText: 'welcome to React' }).waitFor();
    await page.locator('#react-input').fill('hello from a hook');
    await page.locator('#react-input').press('Enter');
    await page.locator('#react-messages li.own', { hasText: 'hello from a hook' }).waitFor();
    assert.equal((await bo.next((f) => f.type === 'message')).message, 'hello from a hook');
    assert.equal(await page.locator('#react-messages li', { hasText: 'hello from a hook' }).count(), 1, 'shown once');
    // A room connect refuses: the app says so, and stays.
    await page.goto(`${BASE}/npm/react.html?room=${encodeURIComponent('bad room')}&name=Ada`);
    await page.locator('#react-status', { hasText: 'failed' }).waitFor({ timeout: 10_000 });
  } finally {
    await bo.close();
    await context.close();
  }
});

test('the React example says when a message is refused for good, and moving to another room leaves nothing of the last one on screen', async () => {
  const { site, key } = await siteWithKey({ origins: [BASE] }, 'react');
  const [locked, open] = [uniqueRoom('locked'), uniqueRoom('open')];
  assert.equal((await siteApi(key, 'POST', `/${site}/rooms/${locked}/moderation`, { action: 'lock' })).status, 200);
  assert.equal((await siteApi(key, 'POST', `/${site}/rooms/${open}/messages`, { name: 'Bo', message: 'hello in the open room' })).status, 201);
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${BASE}/npm/react.html?site=${site}&room=${locked}&name=Ada`);
    await page.locator('#react-status', { hasText: 'connected' }).waitFor();
    await page.locator('#react-input').fill('into a locked room');
    await page.locator('#react-input').press('Enter');
    // (It stayed "sending…" for good before.)
    await page.locator('#react-messages li.failed', { hasText: 'not sent: locked' }).waitFor();
    // Retry: the same one entry, sending, then refused again.
    await page.locator('#react-messages li.failed button', { hasText: 'Retry' }).click();
    await page.locator('#react-messages li.failed', { hasText: 'not sent: locked' }).waitFor();
    assert.equal(await page.locator('#react-messages li', { hasText: 'into a locked room' }).count(), 1, 'shown once after Retry');
    await page.locator('#react-room').fill(open);
    await page.locator('#react-room').press('Enter');
    await page.locator('#react-messages li', { hasText: 'hello in the open room' }).waitFor();
    assert.deepEqual(await page.locator('#react-messages li').allTextContents(), ['Bo hello in the open room'],
      'the locked room\'s unsent message is not shown in the open room');
  } finally {
    await context.close();
  }
});

test('a headless client sends a file; its upload reports progress and the others get it; a file the site would refuse is refused at once', async () => {
  const room = uniqueRoom('headless');
  const bo = await join(room, 'Bo');
  const context = await browser.newContext();
  try {
    const page = await headlessPage(context, { room, name: 'Ada' });
    await waitFor(page, () => window.seen.some(([e, d]) => e === 'status' && d.status === 'connected'));
    await page.evaluate(() => window.client.on('progress', (d) => window.seen.push(['progress', d])));
    const [rules] = await events(page, 'room');
    assert.equal(rules.maxFileBytes, 10 * 1024 * 1024, 'the default site limit');
    // Refused before any upload, in the room's words.
    const refused = await page.evaluate(() => {
      const id = window.client.sendFile(new File(['PK'], 'a.zip', { type: 'application/zip' }));
      return { id: id ?? null, error: window.seen.filter(([e]) => e === 'error').map(([, d]) => d).pop() };
    });
    assert.equal(refused.id, null);
    assert.equal(refused.error.code, 'unsupported_type');
    assert.match(refused.error.message, /^files of this type are not accepted \(allowed: image\/png, /);
    assert.equal((await events(page, 'pending')).length, 0, 'nothing queued');
    const id = await page.evaluate(() => {
      const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Array(300).fill(7)]);
      return window.client.sendFile(new File([png], 'chart.png', { type: 'image/png' }), 'the chart');
    });
    await waitFor(page, (i) => window.seen.some(([e, d]) => e === 'sent' && d.id === i), id);
    const seen = await bo.next((f) => f.type === 'message');
    assert.equal(seen.message, 'the chart');
    assert.deepEqual([seen.attachments[0].name, seen.attachments[0].alt, seen.attachments[0].size], ['chart.png', 'chart', 308]);
    assert.equal((await fetch(`${BASE}${seen.attachments[0].url}`)).status, 200);
    const progress = await events(page, 'progress');
    assert.ok(progress.length >= 1 && progress.every((p) => p.id === id && p.total === 308), JSON.stringify(progress));
  } finally {
    await bo.close();
    await context.close();
  }
});

test('loadEarlier() in an empty room is answered at once: an empty `older`, so a "Load earlier" spinner stops', async () => {
  // An empty room: a UI's "Load earlier" spinner stops (there was no answer at all).
  const context = await browser.newContext();
  try {
    const page = await headlessPage(context, { room: uniqueRoom('headless'), name: 'Ada' });
    await waitFor(page, () => window.seen.some(([e]) => e === 'welcome'));
    // Before the join page, nothing to page back from: it says so.
    await waitFor(page, () => window.client.loadEarlier() === true);
    await waitFor(page, () => window.seen.some(([e]) => e === 'older'));
    assert.deepEqual(await events(page, 'older'), [{ messages: [], more: false }]);
  } finally {
    await context.close();
  }
});

test('a loadEarlier() whose answer the lost connection took is asked again on reconnecting; the start reached, answered at once', async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, limits: { rateBurst: 1000, ratePerSec: 1000, addressBurst: 1000, addressPerSec: 1000 } }, 'headless');
  const p = await proxy();
  const room = uniqueRoom('headless');
  const bo = await join(room, 'Bo', { site });
  const context2 = await browser.newContext();
  try {
    for (let i = 1; i <= 55; i++) bo.send({ type: 'send', id: `o${i}`, message: `old ${i}` });
    for (let i = 1; i <= 55; i++) await bo.next((f) => f.type === 'ack' && f.id === `o${i}`);
    const page = await headlessPage(context2, { room, site, name: 'Ada' }, p.url);
    await waitFor(page, () => window.seen.filter(([e]) => e === 'message').length === 50);
    p.silence();
    assert.equal(await page.evaluate(() => window.client.loadEarlier()), true);
    p.drop();
    p.restore();
    await waitFor(page, () => window.seen.filter(([e, d]) => e === 'status' && d.status === 'connected').length === 2);
    await waitFor(page, () => window.seen.some(([e]) => e === 'older'));
    const [older] = await events(page, 'older');
    assert.deepEqual([older.messages.map((m) => m.message), older.more], [['old 1', 'old 2', 'old 3', 'old 4', 'old 5'], false]);
    // The start reached: asking again is answered at once, with nothing.
    assert.equal(await page.evaluate(() => window.client.loadEarlier()), true);
    assert.deepEqual((await events(page, 'older')).at(-1), { messages: [], more: false });
    assert.deepEqual((await texts(page)).length, 50, 'no message twice');
  } finally {
    await bo.close();
    await context2.close();
    p.close();
  }
});

test('wrong arguments throw a TypeError at once, before anything is queued; destroy() ends it as close() does', async () => {
  const room = uniqueRoom('headless');
  const context = await browser.newContext();
  try {
    const page = await headlessPage(context, { room, name: 'Ada' });
    await waitFor(page, () => window.seen.some(([e, d]) => e === 'status' && d.status === 'connected'));
    const thrown = await page.evaluate(() => {
      const c = window.client;
      const calls = {
        'send()': () => c.send(),
        'send(null)': () => c.send(null),
        'send({})': () => c.send({ text: 'hi' }),
        'reply("x")': () => c.reply('x', 'hi'),
        'reply(-1)': () => c.reply(-1, 'hi'),
        'edit(1.5)': () => c.edit(1.5, 'hi'),
        'edit(1)': () => c.edit(1),
        'remove()': () => c.remove(),
        'react(1)': () => c.react(1),
        'react(NaN)': () => c.react(NaN, '👍'),
        'markRead("x")': () => c.markRead('x'),
        'on("message")': () => c.on('message'),
      };
      return Object.fromEntries(Object.entries(calls).map(([k, f]) => {
        try { return [k, `returned ${f()}`]; } catch (err) { return [k, `${err.constructor.name}: ${err.message}`]; }
      }));
    });
    for (const [call, outcome] of Object.entries(thrown)) assert.match(outcome, /^TypeError: HelloChat: /, call);
    assert.match(thrown['edit(1.5)'], /edit\(seq\) needs a message's seq, an integer from 1, not 1\.5/);
    assert.match(thrown['send()'], /send\(text\) needs its text as a string, not undefined/);
    // Nothing reached the room ("undefined" was sent; 1.5 edited message 1).
    const id = await page.evaluate(() => window.client.send('the only one'));
    await waitFor(page, (i) => window.seen.some(([e, d]) => e === 'sent' && d.id === i), id);
    assert.deepEqual((await events(page, 'pending')).map((p) => p.text), ['the only one']);
    // A seq as a digit string (a data- attribute) is still a seq.
    const [mine] = await events(page, 'message');
    await page.evaluate((s) => window.client.edit(String(s), 'edited'), mine.seq);
    await waitFor(page, () => window.seen.some(([e, d]) => e === 'update' && d.message === 'edited'));

    // The widget's handle ends with destroy(): so does the client.
    await page.evaluate(() => window.client.destroy());
    assert.deepEqual((await events(page, 'status')).at(-1), { status: 'closed' });
    assert.equal(await page.evaluate(() => [window.client.send('after'), window.client.loadEarlier()].join()), ',');
    await page.evaluate(() => window.client.close());
    assert.equal((await events(page, 'status')).filter((s) => s.status === 'closed').length, 1);
  } finally {
    await context.close();
  }
});

test('a moderator pins, mutes and locks from a headless client, and hears of reports; a bad action is refused before it is sent, a member\'s by the room', async () => {
  const SECRET = 'headless-moderation-secret-0123456789';
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET }, 'hmod');
  const room = uniqueRoom('hmod');
  const token = mintToken(SECRET, { sub: 'mod-1', name: 'Mo', role: 'moderator', exp: Math.floor(Date.now() / 1000) + 3600 });
  const eve = await join(room, 'Eve', { site });
  const context = await browser.newContext();
  try {
    const mo = await headlessPage(context, { room, site, token });
    // The report counts a moderator's own UI shows (README, `report`): heard from the start (headlessPage).
    const member = await headlessPage(context, { room, site, name: 'Ada' });
    for (const page of [mo, member]) {
      await page.evaluate(() => window.client.on('moderation', (d) => window.seen.push(['moderation', d])));
      await waitFor(page, () => window.seen.some(([e, d]) => e === 'status' && d.status === 'connected'));
    }
    const seq = await post(eve, 'doors open at 6');
    await waitFor(mo, (s) => window.seen.some(([e, d]) => e === 'message' && d.seq === s), seq);
    assert.deepEqual(await events(mo, 'reports'), [{ reports: [], all: true }], 'none open on joining');
    await waitFor(member, (s) => window.seen.some(([e, d]) => e === 'message' && d.seq === s), seq);
    await member.evaluate((s) => window.client.report(s, 'spam'), seq);
    await waitFor(mo, () => window.seen.some(([e, d]) => e === 'reports' && !d.all));
    const [counted] = (await events(mo, 'reports')).find((d) => !d.all).reports;
    assert.deepEqual([counted.target, counted.reports, counted.reasons], [seq, 1, { spam: 1 }]);
    // Before, a custom UI's moderator could only edit or remove.
    await mo.evaluate((s) => window.client.moderate('pin', { target: s }), seq);
    const pinned = await eve.next((f) => f.type === 'pinned');
    assert.equal(pinned.message?.seq, seq);
    await mo.evaluate((k) => window.client.moderate('mute', { sender: k, seconds: 600, reason: 'spam' }), eve.welcome.sender);
    await waitFor(mo, () => window.seen.some(([e, d]) => e === 'moderation' && d.action === 'mute' && d.reason === 'spam'));
    const refused = await act(eve, { type: 'send', message: 'still here?' });
    assert.equal(refused.code, 'muted');
    await mo.evaluate(() => window.client.moderate('lock'));
    await waitFor(member, () => window.seen.some(([e, d]) => e === 'room' && d.locked === true));
    // Fields the room would refuse: an error event at once, nothing sent.
    await mo.evaluate(() => window.client.moderate('pin', {}));
    await waitFor(mo, () => window.seen.some(([e, d]) => e === 'error' && d.code === 'bad_frame'));
    assert.match(await mo.evaluate(() => { try { window.client.moderate(42); return 'returned'; } catch (err) { return `${err.constructor.name}: ${err.message}`; } }),
      /^TypeError: HelloChat: moderate\(action\)/);
    // For good is leaving seconds out: null is no duration.
    assert.match(await mo.evaluate((k) => { try { window.client.moderate('ban', { sender: k, seconds: null }); return 'returned'; } catch (err) { return `${err.constructor.name}: ${err.message}`; } }, eve.welcome.sender),
      /^TypeError: HelloChat: moderate\(action, \{ seconds \}\) needs whole seconds; leave it out for good/);
    // A member's moderate is the room's to refuse.
    await member.evaluate((s) => window.client.moderate('delete', { target: s }), seq);
    await waitFor(member, () => window.seen.some(([e, d]) => e === 'error' && d.code === 'not_allowed'));
    const audit = await join(room, 'Audit', { site });
    assert.deepEqual(audit.history.messages.map((m) => [m.message, m.deleted ?? false]), [['doors open at 6', false]]);
    await audit.close();
  } finally {
    await eve.close();
    await context.close();
  }
});
