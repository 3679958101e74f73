// Coming back to a room, in real Chromium: a returning visitor who missed
// more than the first page starts at their first unread message; a panel
// opened again, or a tab shown again, starts at the "New messages" line only
// if messages piled up while away. (From a QA pass on that feature.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSite, join, launchBrowser, mintToken, uniqueRoom, widgetPage } from './helpers.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const SECRET = 'qa-unread-secret-0123456789abcdef';
const busySite = (extra = {}) => createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET,
  limits: { rateBurst: 5000, ratePerSec: 1000, addressBurst: 5000, addressPerSec: 1000, maxConnectionsPerAddress: 100 }, ...extra });
const token = (sub, name, role) => mintToken(SECRET, { sub, name, ...(role ? { role } : {}), exp: Math.floor(Date.now() / 1000) + 3600 });

const texts = (page) => page.evaluate(() => [...document.querySelector('[data-hello-chat-host]').shadowRoot
  .querySelectorAll('.hc-list .hc-msg[data-seq] .hc-text')].map((t) => t.textContent));
const newLine = (page) => page.evaluate(() => {
  const lines = document.querySelector('[data-hello-chat-host]').shadowRoot.querySelectorAll('.hc-list .hc-new');
  if (lines.length > 1) return 'more than one line';
  return lines[0] ? lines[0].nextElementSibling?.querySelector('.hc-text')?.textContent ?? '(nothing below)' : null;
});
const unread = (page) => page.evaluate(() => window.chat.unread);
const scrollBottom = (page) => page.evaluate(() => { const log = document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-log'); log.scrollTop = log.scrollHeight; });
const lineInView = (page) => page.evaluate(() => {
  const r = document.querySelector('[data-hello-chat-host]').shadowRoot;
  const log = r.querySelector('.hc-log').getBoundingClientRect();
  const line = r.querySelector('.hc-new')?.getBoundingClientRect();
  return { lineInView: !!line && line.top >= log.top - 1 && line.bottom <= log.bottom + 1, pill: !r.querySelector('.hc-pill').hidden };
});

/** The text of the last message wholly in view. */
const lastInView = (page) => page.evaluate(() => {
  const r = document.querySelector('[data-hello-chat-host]').shadowRoot;
  const log = r.querySelector('.hc-log').getBoundingClientRect();
  const vis = [...r.querySelectorAll('.hc-list .hc-msg[data-seq]')].filter((li) => { const b = li.getBoundingClientRect(); return b.bottom <= log.bottom + 1 && b.top >= log.top - 1; });
  return vis.at(-1)?.querySelector('.hc-text')?.textContent;
});

/** Posts texts `text(i)` for i in from..=to from a raw client, waits for the acks. */
async function post(writer, from, to, text) {
  for (let i = from; i <= to; i++) writer.send({ type: 'send', id: `w${i}-${Math.random().toString(36).slice(2, 6)}`, message: text(i) });
  for (let i = from; i <= to; i++) await writer.next('ack', 20000);
}

/** Reader reads `read before 1..5`, leaves; `missed` messages come. */
async function away({ missed = 120, height = 320, options = {}, siteExtra = {}, readBefore = 5 } = {}) {
  const room = uniqueRoom('qa');
  const site = await busySite(siteExtra);
  const writer = await join(room, 'Writer', { site });
  await post(writer, 1, readBefore, (i) => `read before ${i}`);
  const context = await browser.newContext();
  const opts = { room, site, name: 'Reader', height, ...options };
  const first = await widgetPage(context, opts);
  await first.locator('.hc-list .hc-msg[data-seq]', { hasText: `read before ${readBefore}` }).waitFor();
  await first.waitForTimeout(200);
  await first.close();
  for (let i = 1; i <= missed; i += 200) { await post(writer, i, Math.min(missed, i + 199), (n) => `missed ${n}`); if (missed > 200) await new Promise((r) => setTimeout(r, 400)); }
  return { room, site, writer, context, opts };
}



/** A widget whose panel is closed (no height) while 15 messages arrive. */
async function piledUpInClosedPanel(name) {
  const room = uniqueRoom(name);
  const writer = await join(room, 'Writer');
  await post(writer, 0, 0, () => 'read before');
  const page = await widgetPage(await browser.newContext(), { room, name: 'Reader', height: 320 });
  await page.locator('.hc-list .hc-msg[data-seq]', { hasText: 'read before' }).waitFor();
  await page.evaluate(() => { document.getElementById('chat').style.display = 'none'; });
  await post(writer, 1, 15, (i) => `while closed ${i}`);
  await page.waitForFunction(() => window.chat.unread === 15);
  return { writer, page };
}

test('keyboard: Tab into the list and ArrowDown starts at the first unread message, not the bottom of the first page', async () => {
  const { writer, context, opts } = await away({ missed: 120 });
  const back = await widgetPage(context, opts);
  await back.locator('.hc-list .hc-msg[data-seq] .hc-text', { hasText: /^missed 1$/ }).waitFor({ timeout: 5000 });
  await back.waitForTimeout(300);
  const before = await unread(back);
  await back.locator('.hc-log').focus();
  await back.keyboard.press('ArrowDown');
  await back.waitForTimeout(300);
  const focused = await back.evaluate(() => {
    const a = document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement;
    return a?.querySelector('.hc-text')?.textContent ?? a?.className;
  });
  const after = await unread(back);
  assert.equal(focused, 'missed 1', `focus went to ${focused}; unread ${before} -> ${after}`);
  await writer.close();
  await context.close();
});

test('own message in the join page (sent from another device) with 120 missed before it', async () => {
  const { writer, context, opts, room, site } = await away({ missed: 120, options: { token: token('ada-4', 'Ada'), name: undefined } });
  const phone = await join(room, 'Ada', { site, token: token('ada-4', 'Ada') });
  await post(phone, 1, 1, () => 'my own from the phone');
  phone.close();
  await post(writer, 121, 130, (i) => `missed ${i}`);
  const back = await widgetPage(context, opts);
  // Joined and its page shown (the first status is only "connecting"), then
  // time for anything that would wrongly follow (a page fetched, the line moved).
  await back.locator('.hc-list .hc-msg[data-seq] .hc-text', { hasText: /^missed 130$/ }).waitFor({ timeout: 15000 });
  await back.waitForTimeout(1500);
  const list = await texts(back);
  const line = await newLine(back);
  const count = await unread(back);
  assert.deepEqual({ line, count, first: list[0] }, { line: 'missed 121', count: 10, first: list[0] }, `listed ${list.length}: ${list.slice(0, 3)}…${list.slice(-3)}`);
  assert.ok(list.includes('missed 121'), `the messages after my own are listed: ${list.slice(0, 3)}…${list.slice(-3)}`);
  await writer.close();
  await context.close();
});

test('a panel closed while reading down and opened again does not throw the reader back up to the old line', async () => {
  const { writer, context, opts } = await away({ missed: 200 });
  const back = await widgetPage(context, opts);
  await back.locator('.hc-list .hc-msg[data-seq] .hc-text', { hasText: /^missed 1$/ }).waitFor({ timeout: 5000 });
  await back.waitForTimeout(300);
  for (let i = 0; i < 6; i++) { await scrollBottom(back); await back.waitForTimeout(150); }
  const lastVisible = () => lastInView(back);
  const before = await lastVisible();
  await back.evaluate(() => { document.getElementById('chat').style.display = 'none'; });
  await back.waitForTimeout(300);
  await back.evaluate(() => { document.getElementById('chat').style.display = ''; });
  await back.waitForTimeout(500);
  const afterOpen = await lastVisible();
  assert.equal(afterOpen, before, `was at ${before}; line above ${await newLine(back)}`);
  await writer.close();
  await context.close();
});

test('a reader with the next page loaded below them stays where they read when the panel is closed and opened again', async () => {
  const { writer, context, opts } = await away({ missed: 200 });
  const back = await widgetPage(context, opts);
  await back.locator('.hc-list .hc-msg[data-seq] .hc-text', { hasText: /^missed 1$/ }).waitFor({ timeout: 5000 });
  // Reaching the bottom of the first page loads the next one below: the reader is now above it.
  await scrollBottom(back);
  await back.locator('.hc-list .hc-msg[data-seq] .hc-text', { hasText: /^missed 100$/ }).waitFor({ timeout: 5000 });
  const lastVisible = () => lastInView(back);
  const before = await lastVisible();
  assert.equal(before, 'missed 50', 'the page came in below, out of sight');
  await back.evaluate(() => { document.getElementById('chat').style.display = 'none'; });
  await back.waitForTimeout(300);
  await back.evaluate(() => { document.getElementById('chat').style.display = ''; });
  await back.waitForTimeout(500);
  assert.equal(await lastVisible(), before, 'not taken to the bottom of what is listed');
  assert.equal((await texts(back)).includes('missed 101'), false, 'so nothing more was paged in');
  await writer.close();
  await context.close();
});

test('a panel opened again after the piled-up messages were read opens where the visitor left it, at the latest', async () => {
  const { writer, page } = await piledUpInClosedPanel('panel-again');
  await page.evaluate(() => { document.getElementById('chat').style.display = ''; });
  await page.waitForTimeout(300);
  assert.deepEqual(await lineInView(page), { lineInView: true, pill: true });
  await page.locator('.hc-pill').click();
  await page.waitForFunction(() => window.chat.unread === 0);
  await page.evaluate(() => { document.getElementById('chat').style.display = 'none'; });
  await page.waitForTimeout(300);
  await page.evaluate(() => { document.getElementById('chat').style.display = ''; });
  await page.waitForTimeout(300);
  const where = await page.evaluate(() => {
    const log = document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-log');
    return { atBottom: log.scrollTop + log.clientHeight >= log.scrollHeight - 30, pill: !document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-pill').hidden };
  });
  assert.deepEqual(where, { atBottom: true, pill: false }, 'nothing new came: the panel opens where the visitor left it, at the latest');
  await writer.close();
  await page.context().close();
});

test('a returning visitor\'s unread count is what they missed (120), and only goes down as they read down', async () => {
  const { writer, context, opts } = await away({ missed: 120 });
  // In a background tab: nothing is read yet.
  const hidden = await widgetPage(context, opts, { hidden: true });
  await hidden.locator('.hc-list .hc-msg[data-seq] .hc-text', { hasText: /^missed 1$/ }).waitFor({ timeout: 5000 });
  await hidden.waitForTimeout(500);
  assert.equal(await unread(hidden), 120, 'the room counted them; the join page holds only the last 50');
  await hidden.close();
  const back = await widgetPage(context, opts);
  await back.locator('.hc-list .hc-msg[data-seq] .hc-text', { hasText: /^missed 1$/ }).waitFor({ timeout: 5000 });
  for (let i = 0; i < 40 && (await texts(back)).at(-1) !== 'missed 120'; i++) {
    await scrollBottom(back);
    await back.waitForTimeout(150);
  }
  await scrollBottom(back);
  await back.waitForFunction(() => window.chat.unread === 0, null, { timeout: 5000 });
  const counts = await back.evaluate(() => window.events.filter(([e]) => e === 'unread').map(([, d]) => d.count));
  assert.ok(counts.every((n, i) => i === 0 || n <= counts[i - 1]), `never up while reading down: ${counts}`);
  await writer.close();
  await context.close();
});

test('messages pile up in a closed panel, the visitor switches tabs and back, then opens the panel: it starts at the line', async () => {
  const { writer, page } = await piledUpInClosedPanel('panel-tab');
  const setVisible = (v) => page.evaluate((visible) => {
    Object.defineProperty(document, 'visibilityState', { value: visible ? 'visible' : 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  }, v);
  await setVisible(false);
  await setVisible(true);
  await page.evaluate(() => { document.getElementById('chat').style.display = ''; });
  await page.waitForTimeout(300);
  assert.deepEqual(await lineInView(page), { lineInView: true, pill: true });
  assert.equal(await unread(page), 15, 'not all read at once');
  await writer.close();
  await page.context().close();
});
