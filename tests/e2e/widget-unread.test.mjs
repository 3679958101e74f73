// Unread counts in real Chromium: messages from others count until the
// list shows them while the page is visible; the count survives a reload
// (localStorage, per visitor); `notify: { title: true }` puts it in the page title.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSite, join, launchBrowser, mintToken, uniqueRoom, waitForStatus, widgetPage } from './helpers.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** Pretend the page is hidden or visible again, as a switch of tabs does. */
const setVisible = (page, visible) => page.evaluate((v) => {
  Object.defineProperty(document, 'visibilityState', { value: v ? 'visible' : 'hidden', configurable: true });
  Object.defineProperty(document, 'hidden', { value: !v, configurable: true });
  document.dispatchEvent(new Event('visibilitychange'));
}, visible);

/** The message under the "New messages" line, and the line's text (null: none). */
const newLine = (page) => page.evaluate(() => {
  const lines = document.querySelector('[data-hello-chat-host]').shadowRoot.querySelectorAll('.hc-list .hc-new');
  if (lines.length > 1) return 'more than one line';
  return lines[0] ? [lines[0].nextElementSibling.querySelector('.hc-text').textContent, lines[0].textContent] : null;
});
const unread = (page) => page.evaluate(() => window.chat.unread);
const waitUnread = (page, n) => page.waitForFunction((x) => window.chat.unread === x, n, { timeout: 10000 });
const say = async (page, text) => {
  await page.evaluate((t) => window.chat.send(t), text);
};

test('messages from others count as unread while the page is hidden, and in the title', async () => {
  const room = uniqueRoom('unread');
  const ada = await widgetPage(await browser.newContext(), { room, name: 'Ada' });
  await waitForStatus(ada, 'connected');
  await say(ada, 'before Bo came');
  const context = await browser.newContext();
  const bo = await widgetPage(context, { room, name: 'Bo', notify: { title: true } });
  await waitForStatus(bo, 'connected');
  await bo.locator('.hc-list .hc-msg[data-seq]', { hasText: 'before Bo came' }).waitFor();
  assert.equal(await unread(bo), 0, 'a first visit starts with nothing unread');

  await say(ada, 'seen at once');
  await bo.locator('.hc-list .hc-msg[data-seq]', { hasText: 'seen at once' }).waitFor();
  assert.equal(await unread(bo), 0, 'shown on a visible page: read');
  // Never "1" then "0": a page's own badge would flash with every message.
  const told = await bo.evaluate(() => window.events.filter(([e]) => e === 'unread').map(([, d]) => d.count));
  assert.ok(told.every((n) => n === 0), `no unread count told for a message seen as it came: ${told}`);
  assert.equal(await newLine(bo), null, 'nothing unread has been: no "New messages" line');

  await setVisible(bo, false);
  await say(ada, 'one');
  await say(ada, 'two');
  await waitUnread(bo, 2);
  assert.equal(await bo.title(), '(2) widget test');
  assert.deepEqual(await newLine(bo), ['one', 'New messages'], 'the line is above the first unread');
  await say(bo, 'my own message is never unread');
  await waitUnread(bo, 0);
  await say(ada, 'three');
  await waitUnread(bo, 1);
  assert.deepEqual(await newLine(bo), ['three', 'New messages'], 'the line moves to where unread begin again');

  await setVisible(bo, true);
  await waitUnread(bo, 0);
  assert.equal(await bo.title(), 'widget test', 'the page title comes back');

  // Bo leaves; two messages come; Bo's next visit (same browser) counts them.
  await bo.close();
  await say(ada, 'while you were away');
  await say(ada, 'still away');
  await ada.locator('.hc-list .hc-msg[data-seq]', { hasText: 'still away' }).waitFor();
  const back = await widgetPage(context, { room, name: 'Bo' });
  await waitForStatus(back, 'connected');
  await back.locator('.hc-list .hc-msg[data-seq]', { hasText: 'still away' }).waitFor();
  // Shown at once on a visible page: read (told once, not "2" then "0").
  await waitUnread(back, 0);
  const counts = await back.evaluate(() => window.events.filter(([e]) => e === 'unread').map(([, d]) => d.count));
  assert.deepEqual(counts, [0], 'the two that came while away were read as they were shown');
  assert.deepEqual(await newLine(back), ['while you were away', 'New messages'], 'and the line shows where they began');
  await Promise.all([ada.context().close(), context.close()]);
});

test('a first visit that saw no new message still counts from where it stopped next time', async () => {
  const room = uniqueRoom('unread-first');
  const writer = await join(room, 'Writer');
  const post = async (id, text) => { writer.send({ type: 'send', id, message: text }); await writer.next('ack'); };
  await post('w1', 'old one');
  const context = await browser.newContext();
  const first = await widgetPage(context, { room, name: 'Reader' });
  await first.locator('.hc-list .hc-msg[data-seq]', { hasText: 'old one' }).waitFor();
  await first.close();
  await post('w2', 'new one');
  await post('w3', 'new two');
  // Someone else on the same browser: their own first visit, not Reader's
  // read position (which would count the two as theirs and draw the line).
  const other = await widgetPage(context, { room, name: 'Other' });
  await other.locator('.hc-list .hc-msg[data-seq]', { hasText: 'new two' }).waitFor();
  const otherCounts = await other.evaluate(() => window.events.filter(([e]) => e === 'unread').map(([, d]) => d.count));
  assert.deepEqual(otherCounts, [], 'another visitor on this browser starts afresh');
  assert.equal(await newLine(other), null);
  await other.close();
  const back = await widgetPage(context, { room, name: 'Reader' });
  await back.locator('.hc-list .hc-msg[data-seq]', { hasText: 'new two' }).waitFor();
  await waitUnread(back, 0);
  const counts = await back.evaluate(() => window.events.filter(([e]) => e === 'unread').map(([, d]) => d.count));
  assert.deepEqual(counts, [0], 'read as they were shown (told once, not "2" then "0")');
  assert.deepEqual(await newLine(back), ['new one', 'New messages']);
  await writer.close();
  await context.close();
});

test('two people signed in on one browser each keep their own read position', async () => {
  const secret = 'unread-two-secret-0123456789abcdef';
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret }, 'unread2');
  const room = uniqueRoom('two-users');
  const token = (sub, name) => mintToken(secret, { sub, name, exp: Math.floor(Date.now() / 1000) + 3600 });
  const writer = await join(room, 'Writer', { site });
  const post = async (id, text) => { writer.send({ type: 'send', id, message: text }); await writer.next('ack'); };
  const context = await browser.newContext();
  try {
    await post('w1', 'old one');
    const ada = await widgetPage(context, { room, site, token: token('ada-7', 'Ada') });
    await ada.locator('.hc-list .hc-msg[data-seq]', { hasText: 'old one' }).waitFor();
    await ada.close();
    await post('w2', 'new one');
    // Bo signs in on the same browser: his first visit, not where Ada stopped.
    const bo = await widgetPage(context, { room, site, token: token('bo-9', 'Bo') });
    await bo.locator('.hc-list .hc-msg[data-seq]', { hasText: 'new one' }).waitFor();
    const counts = await bo.evaluate(() => window.events.filter(([e]) => e === 'unread').map(([, d]) => d.count));
    assert.deepEqual(counts, [], 'Ada\'s read position is not Bo\'s');
    assert.equal(await newLine(bo), null);
  } finally {
    await writer.close();
    await context.close();
  }
});

test('a returning visitor with more unread than the list shows starts at the "New messages" line', async () => {
  const room = uniqueRoom('unread-many');
  const writer = await join(room, 'Writer');
  const post = async (id, text) => { writer.send({ type: 'send', id, message: text }); await writer.next('ack'); };
  await post('w0', 'read before');
  const context = await browser.newContext();
  const first = await widgetPage(context, { room, name: 'Reader', height: 320 });
  await first.locator('.hc-list .hc-msg[data-seq]', { hasText: 'read before' }).waitFor();
  await first.close();
  for (let i = 1; i <= 15; i++) await post(`w${i}`, `unread ${i}`);
  const back = await widgetPage(context, { room, name: 'Reader', height: 320 });
  await back.locator('.hc-list .hc-msg[data-seq]', { hasText: 'unread 15' }).waitFor();
  await back.waitForTimeout(300);
  const where = await back.evaluate(() => {
    const root = document.querySelector('[data-hello-chat-host]').shadowRoot;
    const log = root.querySelector('.hc-log').getBoundingClientRect();
    const line = root.querySelector('.hc-new').getBoundingClientRect();
    return { lineInView: line.top >= log.top && line.bottom <= log.bottom, pill: !root.querySelector('.hc-pill').hidden };
  });
  assert.deepEqual(where, { lineInView: true, pill: true }, 'the line is in view, the pill leads on');
  assert.equal(await unread(back), 15, 'not read until shown');
  assert.deepEqual(await newLine(back), ['unread 1', 'New messages']);
  await back.locator('.hc-pill').click();
  await waitUnread(back, 0);
  await writer.close();
  await context.close();
});

test('a signed-in user\'s read position follows them to their other tabs and devices', async () => {
  const secret = 'unread-site-secret-0123456789abcdef';
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret,
    limits: { addressBurst: 1000, maxConnectionsPerAddress: 100 } }, 'unread');
  const room = uniqueRoom('devices');
  const token = () => mintToken(secret, { sub: 'ada-7', name: 'Ada', exp: Math.floor(Date.now() / 1000) + 3600 });
  const pages = [];
  const device = async () => {
    const page = await widgetPage(await browser.newContext(), { room, site, token: token() }, { hidden: true });
    pages.push(page);
    await waitForStatus(page, 'connected');
    return page;
  };
  const bo = await join(room, 'Bo', { site });
  try {
    const post = async (id, text) => { bo.send({ type: 'send', id, message: text }); await bo.next('ack'); };
    const phone = await device();
    const laptop = await device();
    await post('b1', 'are you there?');
    await post('b2', 'hello?');
    await Promise.all([waitUnread(phone, 2), waitUnread(laptop, 2)]);

    // Read on the laptop: the phone, still in a pocket, has nothing unread either.
    await setVisible(laptop, true);
    await waitUnread(laptop, 0);
    await waitUnread(phone, 0);

    // A third device, never used before, starts where Ada stopped reading.
    await setVisible(laptop, false);
    await post('b3', 'one more thing');
    await Promise.all([waitUnread(phone, 1), waitUnread(laptop, 1)]);
    const tablet = await device();
    await waitUnread(tablet, 1);
    assert.equal(await phone.evaluate(() => window.chat.unread), 1);
  } finally {
    await bo.close();
    await Promise.all(pages.map((p) => p.context().close()));
  }
});

test('a hidden tab in a busy room keeps every unread message and the "New messages" line (none trimmed away)', async () => {
  const room = uniqueRoom('pileup');
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true,
    limits: { rateBurst: 1000, ratePerSec: 1000, addressBurst: 1000, addressPerSec: 1000 } });
  const page = await widgetPage(await browser.newContext(), { room, site, name: 'Bo' });
  await waitForStatus(page, 'connected');
  await setVisible(page, false);
  // More than the 300 messages the list keeps when everything is read.
  const poster = await join(room, 'Ada', { site });
  for (let i = 1; i <= 330; i++) poster.send({ type: 'send', id: `p${i}`, message: `pile ${i}` });
  await waitUnread(page, 330);
  await setVisible(page, true);
  assert.deepEqual(await newLine(page), ['pile 1', 'New messages'], 'the line is above the first message that came while away');
  assert.equal(await page.locator('.hc-list .hc-msg[data-seq] .hc-text', { hasText: /^pile 1$/ }).count(), 1, 'still in the list');
  await Promise.all([poster.close(), page.context().close()]);
});

test('a panel opened again after messages came while it was closed starts at the "New messages" line', async () => {
  const room = uniqueRoom('panel-again');
  const writer = await join(room, 'Writer');
  const post = async (id, text) => { writer.send({ type: 'send', id, message: text }); await writer.next('ack'); };
  await post('w0', 'read before');
  const page = await widgetPage(await browser.newContext(), { room, name: 'Reader', height: 320 });
  await page.locator('.hc-list .hc-msg[data-seq]', { hasText: 'read before' }).waitFor();
  // A launcher's panel closes: the widget stays mounted, with no height.
  await page.evaluate(() => { document.getElementById('chat').style.display = 'none'; });
  for (let i = 1; i <= 15; i++) await post(`w${i}`, `while closed ${i}`);
  await waitUnread(page, 15);
  await page.evaluate(() => { document.getElementById('chat').style.display = ''; });
  await page.waitForTimeout(300);
  const where = await page.evaluate(() => {
    const root = document.querySelector('[data-hello-chat-host]').shadowRoot;
    const log = root.querySelector('.hc-log').getBoundingClientRect();
    const line = root.querySelector('.hc-new')?.getBoundingClientRect();
    return { lineInView: !!line && line.top >= log.top && line.bottom <= log.bottom, pill: !root.querySelector('.hc-pill').hidden };
  });
  assert.deepEqual(where, { lineInView: true, pill: true }, 'the line is in view, the pill leads on');
  assert.equal(await unread(page), 15, 'what is below the screen is not read yet');
  assert.deepEqual(await newLine(page), ['while closed 1', 'New messages']);
  await writer.close();
  await page.context().close();
});

test('a returning visitor who missed more than the first page starts at their first unread message, and reads down to the latest', async () => {
  const room = uniqueRoom('unread-far');
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true,
    limits: { rateBurst: 1000, ratePerSec: 1000, addressBurst: 1000, addressPerSec: 1000 } });
  const writer = await join(room, 'Writer', { site });
  const post = async (from, to, text) => {
    for (let i = from; i <= to; i++) writer.send({ type: 'send', id: `w${i}`, message: text(i) });
    for (let i = from; i <= to; i++) await writer.next('ack');
  };
  await post(1, 5, (i) => `read before ${i}`);
  const context = await browser.newContext();
  const first = await widgetPage(context, { room, site, name: 'Reader', height: 320 });
  await first.locator('.hc-list .hc-msg[data-seq]', { hasText: 'read before 5' }).waitFor();
  await first.close();
  // 120 while away: more than the 50 of the join page.
  await post(6, 125, (i) => `missed ${i - 5}`);
  const back = await widgetPage(context, { room, site, name: 'Reader', height: 320 });
  await back.locator('.hc-list .hc-msg[data-seq] .hc-text', { hasText: /^missed 1$/ }).waitFor({ timeout: 5000 });
  await back.waitForTimeout(300);
  assert.deepEqual(await newLine(back), ['missed 1', 'New messages'], 'the line is above the first message missed');
  const where = await back.evaluate(() => {
    const root = document.querySelector('[data-hello-chat-host]').shadowRoot;
    const log = root.querySelector('.hc-log').getBoundingClientRect();
    const line = root.querySelector('.hc-new').getBoundingClientRect();
    return { lineInView: line.top >= log.top && line.bottom <= log.bottom, pill: !root.querySelector('.hc-pill').hidden };
  });
  assert.deepEqual(where, { lineInView: true, pill: true }, 'the line is in view, the pill leads on to the latest');
  assert.ok(await unread(back) > 50, `more unread than the join page holds: ${await unread(back)}`);
  // Reading down brings every message, once and in order, to the latest; all read.
  const texts = () => back.evaluate(() => [...document.querySelector('[data-hello-chat-host]').shadowRoot
    .querySelectorAll('.hc-list .hc-msg[data-seq] .hc-text')].map((t) => t.textContent));
  for (let i = 0; i < 40 && (await texts()).at(-1) !== 'missed 120'; i++) {
    await back.evaluate(() => { const log = document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-log'); log.scrollTop = log.scrollHeight; });
    await back.waitForTimeout(150);
  }
  const listed = await texts();
  assert.deepEqual(listed.filter((t) => t.startsWith('missed')), Array.from({ length: 120 }, (_, i) => `missed ${i + 1}`));
  await back.evaluate(() => { const log = document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-log'); log.scrollTop = log.scrollHeight; });
  await waitUnread(back, 0);
  // And what came before is a "Load earlier" away.
  await back.locator('.hc-earlier').click();
  await back.locator('.hc-list .hc-msg[data-seq]', { hasText: 'read before 5' }).waitFor({ timeout: 5000 });
  await writer.close();
  await context.close();
});
