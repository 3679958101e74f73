// The widget in real Chromium against the real worker: reconnection without
// loss, terminal failures, clean-up, hostile text, auto-mount, keyboard use.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, admin, createSite, join, launchBrowser, mintToken, seriousViolations, sleep, statuses, uniqueRoom, waitForStatus, widgetPage } from './helpers.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const listTexts = (page) => page.locator('.hc-list .hc-text').allTextContents();

test('a message typed while offline is shown pending and delivered once when back online', async () => {
  const room = uniqueRoom('offline');
  const context = await browser.newContext();
  const page = await widgetPage(context, { room, name: 'Ada' });
  await waitForStatus(page, 'connected');
  const watcher = await join(room, 'Watcher');

  await context.setOffline(true);
  await page.locator('.hc-banner', { hasText: 'Offline' }).waitFor({ timeout: 15000 });
  await page.locator('.hc-input').fill('typed while offline');
  await page.locator('.hc-input').press('Enter');
  const pending = page.locator('.hc-outbox .hc-msg[data-state="pending"]', { hasText: 'typed while offline' });
  await pending.waitFor();
  assert.equal(await page.locator('.hc-input').inputValue(), '', 'the composer is cleared at once');

  await context.setOffline(false);
  await page.locator('.hc-list .hc-msg.hc-own', { hasText: 'typed while offline' }).waitFor({ timeout: 15000 });
  await pending.waitFor({ state: 'detached' });
  const got = await watcher.next('message', 15000);
  assert.equal(got.message, 'typed while offline');
  await sleep(500);
  assert.equal(watcher.all('message').length, 1, 'delivered exactly once');
  const history = await join(room, 'Audit');
  assert.deepEqual(history.history.messages.map((m) => m.message), ['typed while offline']);
  assert.ok((await statuses(page)).includes('reconnecting'));
  await Promise.all([watcher.close(), history.close(), context.close()]);
});

test('a rejected token makes the widget fail for good, with a clear message and no retries', async () => {
  const site = await createSite({ origins: [BASE], secret: 'the-right-secret-0123456789abcdef', allowAnonymous: false });
  const context = await browser.newContext();
  const attempts = [];
  context.on('page', (p) => p.on('websocket', (ws) => attempts.push(ws.url())));
  const token = mintToken('a-forged-secret-0123456789abcdef', { sub: 'x', exp: Math.floor(Date.now() / 1000) + 600 });
  const page = await widgetPage(context, { room: uniqueRoom(), site, token });
  await waitForStatus(page, 'failed');
  const failed = await page.evaluate(() => window.events.find(([e, d]) => e === 'status' && d.status === 'failed')[1]);
  assert.equal(failed.code, 4001);
  assert.match(failed.reason, /signature/);
  await page.locator('.hc-banner[data-kind="failed"]', { hasText: "Can't connect" }).waitFor();
  await sleep(4000);
  assert.equal(attempts.length, 1, 'no reconnection after a terminal refusal');
  // Going online or showing the tab does not revive it either.
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await sleep(500);
  assert.equal(attempts.length, 1);
  await context.close();
});

test('destroy() removes every node, socket, timer and listener the widget added', async () => {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    // Count live timers and listeners on window/document, to see what is left behind.
    const live = new Set();
    const st = window.setTimeout, ct = window.clearTimeout;
    window.setTimeout = (fn, ms, ...a) => { const id = st((...x) => { live.delete(id); typeof fn === 'function' && fn(...x); }, ms, ...a); live.add(id); return id; };
    window.clearTimeout = (id) => { live.delete(id); ct(id); };
    window.liveTimers = () => live.size;
    const counts = new Map();
    for (const target of [window, document]) {
      const add = target.addEventListener.bind(target), remove = target.removeEventListener.bind(target);
      target.addEventListener = (type, fn, o) => { counts.set(type, (counts.get(type) || 0) + 1); add(type, fn, o); };
      target.removeEventListener = (type, fn, o) => { counts.set(type, (counts.get(type) || 0) - 1); remove(type, fn, o); };
    }
    window.liveListeners = () => Object.fromEntries([...counts].filter(([, n]) => n > 0));
  });
  const sockets = [];
  context.on('page', (p) => p.on('websocket', (ws) => {
    const s = { closed: false };
    ws.on('close', () => (s.closed = true));
    sockets.push(s);
  }));
  const page = await widgetPage(context, null);
  const baseline = await page.evaluate(() => ({ timers: window.liveTimers(), listeners: window.liveListeners() }));
  await page.evaluate((room) => {
    window.events = [];
    window.chat = HelloChat.mount(document.getElementById('chat'), { room, name: 'Temp' });
    window.chat.on('status', (d) => window.events.push(['status', d]));
  }, uniqueRoom('destroy'));
  await waitForStatus(page, 'connected');
  assert.deepEqual((await statuses(page)).slice(0, 2), ['connecting', 'connected'], 'the page hears the first attempt too');
  await page.locator('.hc-input').fill('bye');
  await page.locator('.hc-input').press('Enter');
  await page.locator('.hc-list .hc-own').waitFor();
  const listenersBefore = await page.evaluate(() => window.liveListeners());
  assert.ok(Object.keys(listenersBefore).includes('online'), 'the widget listens to online/offline while mounted');

  await page.evaluate(() => window.chat.destroy());
  await sleep(300);
  const left = await page.evaluate(() => ({
    nodes: document.getElementById('chat').childNodes.length,
    hosts: document.querySelectorAll('[data-hello-chat-host]').length,
    timers: window.liveTimers(),
    listeners: window.liveListeners(),
  }));
  assert.deepEqual(left, { nodes: 0, hosts: 0, timers: baseline.timers, listeners: baseline.listeners });
  // The browser tells of a close once the server has answered it: later on a busy machine.
  for (let i = 0; i < 100 && !sockets.every((s) => s.closed); i++) await sleep(100);
  assert.ok(sockets.length >= 1 && sockets.every((s) => s.closed), 'every socket is closed');
  assert.deepEqual((await statuses(page)).at(-1), 'closed');
  await context.close();
});

test('hostile text from the network is rendered inert, as text', async () => {
  const room = uniqueRoom('xss');
  const context = await browser.newContext();
  const page = await widgetPage(context, { room, name: 'Victim' });
  let dialogs = 0;
  page.on('dialog', (d) => { dialogs++; d.dismiss(); });
  await waitForStatus(page, 'connected');
  const attacker = await join(room, '<img src=x onerror=alert(1)>');
  const payloads = ['<img src=x onerror=alert(2)>', '<script>alert(3)</script>', '"><svg onload=alert(4)>', '\u202Eevil\u202C <b>bold</b>'];
  for (const [i, p] of payloads.entries()) {
    attacker.send({ type: 'send', id: `x${i}`, message: p });
    await attacker.next('ack');
  }
  await page.locator('.hc-list .hc-msg').nth(payloads.length - 1).waitFor();
  assert.deepEqual(await listTexts(page), payloads);
  assert.equal(await page.locator('.hc-list .hc-name').first().textContent(), '<img src=x onerror=alert(1)>');
  const injected = await page.evaluate(() => {
    const root = document.querySelector('[data-hello-chat-host]').shadowRoot;
    return root.querySelectorAll('img, script:not([src]), svg, b').length + document.querySelectorAll('img, svg').length;
  });
  assert.equal(injected, 0);
  await sleep(300);
  assert.equal(dialogs, 0);
  await attacker.close();
  await context.close();
});

test('web links in messages open in a new tab; nothing else becomes a link', async () => {
  const room = uniqueRoom('links');
  const context = await browser.newContext();
  const page = await widgetPage(context, { room, name: 'Reader' });
  let dialogs = 0;
  page.on('dialog', (d) => { dialogs++; d.dismiss(); });
  await waitForStatus(page, 'connected');
  const writer = await join(room, 'Writer');
  const text = 'See https://example.com/Rust_(language). Not javascript:alert(1) nor "https://x.example/"onmouseover=alert(2) <a href=//evil.example>x</a>';
  writer.send({ type: 'send', id: 'l1', message: text });
  await writer.next('ack');
  const bubble = page.locator('.hc-list .hc-text').first();
  await bubble.waitFor();
  assert.equal(await bubble.textContent(), text, 'the text is unchanged');
  const links = await bubble.locator('a').evaluateAll((as) => as.map((a) => [a.getAttribute('href'), a.textContent, a.target, a.rel, [...a.attributes].length]));
  const rel = 'noopener noreferrer nofollow ugc';
  assert.deepEqual(links, [
    ['https://example.com/Rust_(language)', 'https://example.com/Rust_(language)', '_blank', rel, 4],
    ['https://x.example/', 'https://x.example/', '_blank', rel, 4],
  ]);
  // From the keyboard: the message, then its links, by Tab.
  await page.locator('.hc-log').focus();
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement?.getAttribute('href')), 'https://example.com/Rust_(language)');
  await bubble.locator('a').first().hover();
  await sleep(200);
  assert.equal(dialogs, 0);
  await writer.close();
  await context.close();
});

test('a link in right-to-left text reads in its own order: its host stays first, where a path of Hebrew letters would have put another', async () => {
  const room = uniqueRoom('rtl-link');
  const context = await browser.newContext();
  const page = await widgetPage(context, { room, name: 'Reader' });
  await waitForStatus(page, 'connected');
  const writer = await join(room, 'Writer');
  const url = 'https://evil.example/א/paypal.com/login';
  writer.send({ type: 'send', id: 'r1', message: `שלום ${url}` });
  await writer.next('ack');
  const link = page.locator('.hc-list .hc-text a').first();
  await link.waitFor();
  assert.equal(await link.evaluate((a) => a.href), 'https://evil.example/%D7%90/paypal.com/login');
  // Where "https" and "paypal" are drawn: left to right, as the link goes.
  const [https, paypal] = await link.evaluate((a, u) => {
    const text = a.firstChild;
    const left = (i) => { const r = document.createRange(); r.setStart(text, i); r.setEnd(text, i + 1); return r.getBoundingClientRect().left; };
    return [left(0), left(u.indexOf('paypal'))];
  }, url);
  assert.ok(https < paypal, `the link reads as ${url}, not from paypal.com: https at ${https}, paypal at ${paypal}`);
  await writer.close();
  await context.close();
});

test('a message on another day than the one above it is labelled with its day', async () => {
  const room = uniqueRoom('days');
  const writer = await join(room, 'Writer');
  for (const [i, text] of ['[-400d] last year', '[-2d] two days ago', '[-2d] same day', '[-1d] yesterday', 'today'].entries()) {
    writer.send({ type: 'send', id: `d${i}`, message: text });
    await writer.next('ack');
  }
  const context = await browser.newContext();
  // The room stamps messages now: move some back in time on their way to
  // this page, as if they had been written days ago.
  const DAY = 86_400_000;
  const shift = (v) => {
    if (Array.isArray(v)) return v.map(shift);
    if (v && typeof v === 'object') {
      const o = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shift(x)]));
      const back = /^\[-(\d+)d\]/.exec(typeof o.message === 'string' ? o.message : '');
      if (back && typeof o.timestamp === 'number') o.timestamp -= Number(back[1]) * DAY;
      return o;
    }
    return v;
  };
  await context.routeWebSocket(/\/ws/, (ws) => {
    const server = ws.connectToServer();
    server.onMessage((m) => {
      try { ws.send(JSON.stringify(shift(JSON.parse(m)))); } catch { ws.send(m); }
    });
  });
  const page = await widgetPage(context, { room, name: 'Reader' });
  await page.locator('.hc-list .hc-msg', { hasText: 'today' }).waitFor();
  const shown = await page.locator('.hc-list .hc-msg').evaluateAll((lis) => lis.map((li) => [
    li.querySelector('.hc-text').textContent, li.dataset.day ?? null,
    new Date(Number(li.dataset.ts)).toLocaleDateString(undefined, { weekday: 'long', day: 'numeric', month: 'long' }),
    getComputedStyle(li, '::before').content, li.classList.contains('hc-grouped')]));
  const [old, a, b, c, d] = shown;
  const year = String(new Date(Date.now() - 400 * DAY).getFullYear());
  assert.ok(old[1].includes(year), `a day over ten months ago shows its year: ${old[1]}`);
  assert.doesNotMatch(a[1], /\d{4}/, 'a recent one does not');
  assert.deepEqual([a[1], b[1], c[1], d[1]], [a[2], null, c[2], d[2]], 'a label where the day changes, not under it');
  assert.ok(new Set([a[2], c[2], d[2]]).size === 3, 'three different days');
  assert.equal(a[3], `"${a[2]}"`, 'the label is shown');
  assert.deepEqual(shown.map((s) => s[4]), [false, false, true, false, false], 'a new day starts a new group');
  await writer.close();
  await context.close();
});

test('a signed-in member typing on another tab is not shown typing to themselves', async () => {
  const secret = 'typing-self-secret-0123456789ab';
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret }, 'wtype');
  const room = uniqueRoom('typing-self');
  const token = mintToken(secret, { sub: 'ada-1', name: 'Ada', exp: Math.floor(Date.now() / 1000) + 3600 });
  const context = await browser.newContext();
  const page = await widgetPage(context, { room, site, token });
  await waitForStatus(page, 'connected');
  const [otherTab, bo] = [await join(room, 'x', { site, token }), await join(room, 'Bo', { site })];
  // In this order, so that Ada's own notice (if shown) arrives before Bo's.
  otherTab.send({ type: 'typing' });
  bo.send({ type: 'typing' });
  await page.waitForFunction(() => /Bo/.test(document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-typing').textContent), null, { timeout: 6000 });
  assert.equal(await page.locator('.hc-typing').textContent(), 'Bo is typing…');
  await Promise.all([otherTab.close(), bo.close()]);
  await context.close();
});

test('several people typing at once all show, until they send or stop', async () => {
  const room = uniqueRoom('typing');
  const context = await browser.newContext();
  const page = await widgetPage(context, { room, name: 'Reader' });
  await waitForStatus(page, 'connected');
  const [ada, bo, cy] = await Promise.all(['Ada', 'Bo', 'Cy'].map((n) => join(room, n)));
  const typing = page.locator('.hc-typing');
  const shows = (text) => page.waitForFunction((t) => document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-typing').textContent === t, text, { timeout: 6000 });
  ada.send({ type: 'typing' });
  await shows('Ada is typing…');
  bo.send({ type: 'typing' });
  await shows('Ada and Bo are typing…');
  cy.send({ type: 'typing' });
  await shows('Several people are typing…');
  bo.send({ type: 'send', id: 'b1', message: 'done typing' });
  await shows('Ada and Cy are typing…');
  // Nobody types on: the notices run out (4 s).
  await shows('');
  assert.equal(await typing.textContent(), '');

  // Two people of one name are two typists: one's message does not end the other's typing.
  const [anon1, anon2] = await Promise.all([join(room, 'Anonymous'), join(room, 'Anonymous')]);
  anon1.send({ type: 'typing' });
  await shows('Anonymous is typing…');
  anon2.send({ type: 'send', id: 'a2', message: 'the other Anonymous' });
  await page.locator('.hc-list .hc-msg', { hasText: 'the other Anonymous' }).waitFor();
  assert.equal(await typing.textContent(), 'Anonymous is typing…');
  await Promise.all([ada, bo, cy, anon1, anon2].map((c) => c.close()));
  await context.close();
});

test('at 320 px, long names in the typing line and the @mention list wrap inside the widget, not past its edge', async () => {
  const room = uniqueRoom('longnames');
  const context = await browser.newContext({ viewport: { width: 320, height: 640 } });
  const page = await widgetPage(context, { room, name: 'Reader' });
  await waitForStatus(page, 'connected');
  // Names without a space (user names, addresses): 32 characters, the most a name has.
  const names = ['ALEXANDRA.KONSTANTINOPOULOU.1987', 'MAXIMILIAN_VON_HOHENBERG_SCHMIDT'];
  const [ada, bo] = await Promise.all(names.map((n) => join(room, n)));
  ada.send({ type: 'typing' });
  bo.send({ type: 'typing' });
  await page.locator('.hc-typing', { hasText: 'are typing' }).waitFor();
  await page.locator('.hc-input').fill('@');
  await page.locator('.hc-option').first().waitFor();
  const overflow = await page.evaluate(() => [...document.querySelector('[data-hello-chat-host]').shadowRoot
    .querySelectorAll('.hc-typing, .hc-suggest')].map((e) => `${e.className}: ${e.scrollWidth} > ${e.clientWidth}`)
    .filter((s) => { const [, a, b] = s.match(/(\d+) > (\d+)/); return Number(a) > Number(b); }));
  assert.deepEqual(overflow, [], 'nothing runs past the edge (or needs scrolling sideways)');
  await Promise.all([ada.close(), bo.close(), context.close()]);
});

test('at 320 px a message\'s time stays on one line beside a long name (the name gives way)', async () => {
  const room = uniqueRoom('metaline');
  const bo = await join(room, 'Bartholomew Longname-Smith');
  bo.send({ type: 'send', id: 'b1', message: 'hello' });
  await bo.next('ack');
  const context = await browser.newContext({ viewport: { width: 320, height: 640 } });
  const page = await widgetPage(context, { room, name: 'Reader' });
  await waitForStatus(page, 'connected');
  const time = page.locator('.hc-list .hc-msg[data-seq] .hc-meta time');
  await time.waitFor();
  // "12:59 AM" on one line (13 px text), not "12:59" above "AM".
  const height = await time.evaluate((t) => t.getBoundingClientRect().height);
  assert.ok(height < 24, `the time is ${height} px high`);
  await Promise.all([bo.close(), context.close()]);
});

test('auto-mount from data attributes, and several widgets on one page stay independent', async () => {
  const [r1, r2] = [uniqueRoom('auto'), uniqueRoom('auto')];
  const context = await browser.newContext();
  const page = await widgetPage(context, null, {
    body: `<div data-hello-chat data-room="${r1}" data-name="Ann" data-theme="dark"></div>
           <div data-hello-chat data-room="${r2}" data-name="Ben" data-height="300"></div>`,
  });
  const widgets = page.locator('[data-hello-chat-host]');
  await widgets.nth(1).waitFor();
  await page.locator('.hc-online').nth(1).waitFor();
  assert.equal(await page.locator('.hc').first().getAttribute('data-theme'), 'dark');
  await page.locator('.hc-input').first().fill('only in room one');
  await page.locator('.hc-input').first().press('Enter');
  // Delivered (the room has sent it to whoever is in room one), not pending
  // in the outbox: only then does the second widget's silence say anything.
  await page.locator('.hc-list:not(.hc-outbox) .hc-text', { hasText: 'only in room one' }).first().waitFor();
  await sleep(300);
  assert.equal(await page.locator('.hc-list .hc-text').count(), 1, 'the second widget did not get it');
  assert.deepEqual(await page.locator('.hc-title').allTextContents(), [`#${r1}`, `#${r2}`]);
  await context.close();
});

test('keyboard: Enter sends, Shift+Enter adds a line; a counter appears near the limit', async () => {
  const room = uniqueRoom('keys');
  const context = await browser.newContext();
  const page = await widgetPage(context, { room, name: 'Kim' });
  await waitForStatus(page, 'connected');
  const input = page.locator('.hc-input');
  await input.focus();
  await page.keyboard.type('line one');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('line two');
  await page.keyboard.press('Enter');
  await page.locator('.hc-list .hc-own').waitFor();
  assert.equal(await page.locator('.hc-list .hc-text').textContent(), 'line one\nline two');

  assert.equal(await page.locator('.hc-counter').isVisible(), false);
  await input.fill('x'.repeat(1900));
  assert.equal(await page.locator('.hc-counter').textContent(), '100');
  await page.keyboard.type('abcde');
  assert.equal(await page.locator('.hc-counter').textContent(), '95');
  const said = await page.evaluate(() => [...document.querySelector('[data-hello-chat-host]').shadowRoot.querySelectorAll('.hc-sr p')]
    .map((p) => p.textContent).filter((t) => t.includes('characters left')));
  assert.deepEqual(said, ['100 characters left'], 'read out once per hundred, not at every key');
  assert.equal(await page.locator('.hc-counter').getAttribute('title'), '95 characters left');
  await input.fill('x'.repeat(1999));
  assert.equal(await page.locator('.hc-counter').getAttribute('title'), '1 character left', 'English has a singular');
  await input.fill('x'.repeat(2010));
  assert.equal(await page.locator('.hc-counter').textContent(), '-10');
  // Said as what it is, not "-10 characters left"; "-10" in either direction.
  assert.equal(await page.locator('.hc-counter').getAttribute('title'), 'Over the limit: 10');
  assert.equal(await page.locator('.hc-counter').getAttribute('dir'), 'ltr');
  assert.equal(await page.locator('.hc-send').isDisabled(), true);
  // The log is one Tab stop: Shift+Tab from the composer lands on it, not on
  // the last message's buttons; arrows go from message to message; Tab walks
  // the focused message's buttons, then leaves for the composer.
  await input.fill('line three');
  await input.press('Enter');
  // Delivered, not just shown pending in the outbox (an .hc-list too): a
  // pending message has no ⋯ yet, so Tab would skip past it.
  await page.locator('.hc-list:not(.hc-outbox) .hc-own', { hasText: 'line three' }).waitFor();
  const focused = () => page.evaluate(() => {
    const el = document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement;
    return { cls: el?.className ?? 'the page', text: el?.querySelector('.hc-text')?.textContent ?? '', composer: !!el?.closest('.hc-composer') };
  });
  await input.focus();
  for (let i = 0; i < 4 && (await focused()).composer; i++) await page.keyboard.press('Shift+Tab');
  assert.equal((await focused()).cls, 'hc-log', 'Shift+Tab from the composer reaches the log');
  await page.keyboard.press('ArrowUp');
  assert.match((await focused()).cls, /hc-msg/);
  assert.equal((await focused()).text, 'line three');
  await page.keyboard.press('ArrowUp');
  assert.equal((await focused()).text, 'line one\nline two');
  await page.keyboard.press('ArrowDown');
  assert.equal((await focused()).text, 'line three');
  await page.keyboard.press('Tab');
  assert.equal((await focused()).cls, 'hc-more', 'Tab enters the focused message');
  await page.keyboard.press('Tab');
  assert.equal((await focused()).composer, true, 'then leaves the log for the composer');
  await page.keyboard.press('Shift+Tab');
  assert.equal((await focused()).cls, 'hc-log', 'no other message\'s buttons in between');
  // Typing in the list goes to the composer.
  await page.keyboard.press('ArrowUp');
  await page.keyboard.type('Hi!');
  assert.equal((await focused()).composer, true);
  assert.equal(await input.inputValue(), 'Hi!');
  await context.close();
});

test('long rooms: earlier messages load on demand; new messages while scrolled up show a pill', async () => {
  const room = uniqueRoom('long');
  const writers = await Promise.all([0, 1, 2, 3].map((i) => join(room, `W${i}`)));
  for (let i = 1; i <= 80; i++) {
    const w = writers[Math.floor((i - 1) / 20)];
    w.send({ type: 'send', id: `l${i}`, message: `line ${i}` });
    await w.next('ack');
  }
  const context = await browser.newContext();
  const page = await widgetPage(context, { room, name: 'Reader', height: 360 });
  await page.locator('.hc-list .hc-text', { hasText: 'line 80' }).waitFor();
  assert.equal(await page.locator('.hc-list .hc-msg').count(), 50);
  // From "Load earlier", ↓ goes to the first message shown; Alt+↓ is left alone.
  await page.locator('.hc-earlier').focus();
  const focusedText = () => page.evaluate(() => document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement?.querySelector('.hc-text')?.textContent ?? null);
  await page.keyboard.press('Alt+ArrowDown');
  assert.equal(await focusedText(), null);
  await page.keyboard.press('ArrowDown');
  assert.equal(await focusedText(), 'line 31');
  await page.locator('.hc-earlier').focus();
  await page.keyboard.press('Enter');
  await page.locator('.hc-list .hc-text', { hasText: /^line 1$/ }).waitFor();
  assert.equal(await page.locator('.hc-list .hc-msg').count(), 80);
  assert.equal(await page.locator('.hc-earlier').isVisible(), false, 'nothing older');
  assert.equal(await focusedText(), 'line 30', 'the vanished button hands focus to the newest message loaded');
  const texts = await listTexts(page);
  assert.deepEqual(texts, Array.from({ length: 80 }, (_, i) => `line ${i + 1}`));
  assert.equal(await page.locator('.hc-list [data-day]').count(), 1, 'one day, labelled once, above the earlier page');
  assert.equal(await page.locator('.hc-list .hc-msg').first().getAttribute('data-day') !== null, true);

  // Scrolled to the top, a new message does not yank the view: a pill appears.
  // What the reader sees is compared, not pixels: with a message focused,
  // Chromium's scroll anchoring may settle a few dozen pixels off.
  const inView = () => page.locator('.hc-log').evaluate((el) => {
    const box = el.getBoundingClientRect();
    return [...el.querySelectorAll('.hc-msg .hc-text')].filter((t) => {
      const r = t.getBoundingClientRect();
      return r.bottom > box.top && r.top < box.bottom;
    }).map((t) => t.textContent);
  });
  // (Scroll anchoring may move it a little after the first frames: settled
  // at the top, with the first line in view.)
  const top = await page.locator('.hc-log').evaluate(async (el) => {
    for (let i = 0; i < 10; i++) {
      el.scrollTop = 0;
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      if (el.scrollTop === 0) break;
    }
    return el.scrollTop;
  });
  assert.ok(top < 100, `at the top (${top})`);
  const before = await inView();
  assert.ok(before.includes('line 1'), `the first lines are shown: ${before}`);
  writers[0].send({ type: 'send', id: 'late', message: 'a late message' });
  await page.locator('.hc-pill').waitFor();
  const after = await inView();
  assert.ok(after.includes('line 2') && !after.includes('a late message'), `the view stayed: ${before} → ${after}`);
  await page.locator('.hc-pill').click();
  await page.locator('.hc-pill').waitFor({ state: 'hidden' });
  await Promise.all([...writers.map((w) => w.close()), context.close()]);
});

test('screenshots of the widget in light and dark themes', async () => {
  const room = uniqueRoom('shots');
  const bo = await join(room, 'Bo');
  const context = await browser.newContext({ viewport: { width: 520, height: 560 } });
  for (const theme of ['light', 'dark']) {
    const page = await widgetPage(context, { room, name: 'Ada', theme, height: 480 },
      { body: `<div id="chat" style="margin:16px;max-width:480px"></div>` });
    await waitForStatus(page, 'connected');
    if (theme === 'light') {
      bo.send({ type: 'send', id: 's1', message: 'Hi! Is the new release out yet?' });
      await bo.next('ack');
      await page.locator('.hc-input').fill('Yes, shipped this morning 🎉');
      await page.locator('.hc-input').press('Enter');
      // Delivered, so that Bo's answer comes after it (and it is not shot pending).
      await page.locator('.hc-list:not(.hc-outbox) .hc-own').waitFor();
      bo.send({ type: 'send', id: 's2', message: 'Great, thanks!' });
      await bo.next('ack');
      bo.send({ type: 'typing' });
    }
    await page.locator('.hc-list .hc-text', { hasText: 'Great, thanks!' }).waitFor();
    await page.locator('#chat').screenshot({ path: `docs/screenshots/widget-${theme}.png` });
    await page.close();
  }
  await bo.close();
  await context.close();
});

test('with a mouse, ⋯ takes no line of its own: it shows beside a message on hover or focus', async () => {
  const room = uniqueRoom('more');
  const bo = await join(room, 'Bo');
  bo.send({ type: 'send', id: 'm1', message: 'first line' });
  await bo.next('ack');
  bo.send({ type: 'send', id: 'm2', message: 'second line' });
  await bo.next('ack');
  const context = await browser.newContext();
  const page = await widgetPage(context, { room, name: 'Ada' });
  await page.locator('.hc-list .hc-text', { hasText: 'second line' }).waitFor();
  const [first, second] = [0, 1].map((i) => page.locator('.hc-list .hc-msg').nth(i));
  const box = (l) => l.boundingBox();
  const opacity = (l) => l.locator('.hc-more').evaluate((b) => getComputedStyle(b).opacity);
  // Two grouped one-line messages sit bubble under bubble, as in any chat.
  const gap = (await box(second.locator('.hc-text'))).y - ((await box(first.locator('.hc-text'))).y + (await box(first.locator('.hc-text'))).height);
  assert.ok(gap < 12, `the gap between two grouped messages is ${gap} px`);
  assert.equal(await opacity(first), '0', 'at rest, no ⋯');
  await first.locator('.hc-text').hover();
  assert.equal(await opacity(first), '1', 'hovered, ⋯ shows');
  assert.equal(await opacity(second), '0');
  // Beside the bubble, on its line.
  const [bubble, more] = [await box(first.locator('.hc-text')), await box(first.locator('.hc-more'))];
  assert.ok(more.x >= bubble.x + bubble.width - 1 && more.x < bubble.x + bubble.width + 16, `⋯ at ${more.x}, the bubble ends at ${bubble.x + bubble.width}`);
  assert.ok(more.y < bubble.y + bubble.height && more.y + more.height > bubble.y, '⋯ beside the bubble, not under it');
  await first.locator('.hc-more').click();
  await page.locator('.hc-menu').waitFor();
  await page.mouse.move(0, 0);
  assert.equal(await opacity(first), '1', 'shown while its menu is open');
  await page.keyboard.press('Escape');
  // Keyboard: the list's arrows focus a message, and its ⋯ shows.
  await page.mouse.move(0, 0);
  await page.locator('.hc-log').focus();
  await page.keyboard.press('End');
  assert.equal(await opacity(second), '1', 'a focused message shows its ⋯');
  await Promise.all([bo.close(), context.close()]);
});

test('each sender\'s name has a colour of its own, the same in every widget, readable in both themes; a site can set one for all', async () => {
  const room = uniqueRoom('names');
  const names = ['Bo', 'Cy', 'Di', 'Ed', 'Fay', 'Gil'];
  const clients = await Promise.all(names.map((n) => join(room, n)));
  for (const [i, c] of clients.entries()) {
    c.send({ type: 'send', id: `n${i}`, message: `hello from ${names[i]}` });
    await c.next('ack');
  }
  const context = await browser.newContext();
  const colours = async (page) => {
    await page.locator('.hc-list .hc-text', { hasText: 'hello from Gil' }).waitFor();
    return page.locator('.hc-list .hc-name').evaluateAll((els) => els.map((e) => [e.textContent, getComputedStyle(e).color]));
  };
  const light = await widgetPage(context, { room, name: 'Ada', theme: 'light' });
  const dark = await widgetPage(context, { room, name: 'Ann', theme: 'dark' });
  const [seen, again] = [await colours(light), await colours(dark)];
  assert.deepEqual(seen.map(([n]) => n), names);
  assert.ok(new Set(seen.map(([, c]) => c)).size >= 2, `six senders, colours ${JSON.stringify(seen)}`);
  assert.ok(!seen.some(([, c]) => c === 'rgb(31, 31, 31)'), 'names are coloured, not in the text colour');
  // The same hue for a sender in another visitor's widget (here in the dark theme: lighter).
  const hue = (c) => c.split(' ').at(-1);
  assert.deepEqual(again.map(([, c]) => hue(c)), seen.map(([, c]) => hue(c)));
  assert.deepEqual(await seriousViolations(light), [], 'light theme');
  assert.deepEqual(await seriousViolations(dark), [], 'dark theme');
  const plain = await widgetPage(context, { room, name: 'Al' }, { body: '<div id="chat" style="--hc-name: rgb(1, 2, 3)"></div>' });
  assert.ok((await colours(plain)).every(([, c]) => c === 'rgb(1, 2, 3)'), '--hc-name sets one colour for all');
  await Promise.all([...clients.map((c) => c.close()), context.close()]);
});

test('in a browser without field-sizing (Firefox), the composer still grows with its text and shrinks once sent', async () => {
  const context = await browser.newContext();
  // Chromium made to look like Firefox: no `field-sizing: content`.
  await context.addInitScript(() => {
    const supports = CSS.supports.bind(CSS);
    CSS.supports = (p, v) => (String(p).startsWith('field-sizing') ? false : supports(p, v));
  });
  const page = await widgetPage(context, { room: uniqueRoom('grow'), name: 'Ada' });
  await waitForStatus(page, 'connected');
  await page.evaluate(() => {
    const root = document.querySelector('[data-hello-chat-host]').shadowRoot;
    const sheet = new CSSStyleSheet();
    sheet.replaceSync('.hc-input { field-sizing: fixed !important; }');
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
  });
  const input = page.locator('.hc-input');
  const height = () => input.evaluate((e) => e.getBoundingClientRect().height);
  const one = await height();
  await input.fill('');
  await input.pressSequentially('line one');
  for (const line of ['two', 'three']) {
    await input.press('Shift+Enter');
    await input.pressSequentially(line);
  }
  const three = await height();
  assert.ok(three > one + 30, `three lines: ${three} px, one: ${one} px`);
  assert.ok(await input.evaluate((e) => e.scrollHeight <= e.clientHeight + 1), 'every line in sight');
  await input.press('Enter');
  await page.locator('.hc-list .hc-text', { hasText: 'line one' }).waitFor();
  assert.ok(Math.abs((await height()) - one) < 2, 'back to one line once sent');
  await context.close();
});
