// Reading back in a busy room, in real Chromium: while the visitor reads
// far up the list, the messages that keep arriving below are not all kept
// in the page (the list stays small), and come back, in order and each
// once, as the visitor scrolls down or jumps to the latest.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSite, join, launchBrowser, uniqueRoom, waitForStatus, widgetPage } from './helpers.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const busySite = () => createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true,
  limits: { rateBurst: 2000, ratePerSec: 1000, addressBurst: 2000, addressPerSec: 1000 } });

/** The texts of the messages in the list, top to bottom. */
const listed = (page) => page.evaluate(() => [...document.querySelector('[data-hello-chat-host]').shadowRoot
  .querySelectorAll('.hc-list .hc-msg[data-seq] .hc-text')].map((t) => t.textContent));
const scrollList = (page, where) => page.evaluate((w) => {
  const log = document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-log');
  log.scrollTop = w === 'top' ? 0 : log.scrollHeight;
}, where);
const messagesSeen = (page) => page.evaluate(() => window.events.filter(([e]) => e === 'message').length);
/** `n` as the posters number their messages. */
const numberOf = (text) => Number(text.split(' ')[1]);

/** Posts `from`..=`to` as "m N", all at once, and waits for the acks. */
async function post(poster, from, to) {
  for (let i = from; i <= to; i++) poster.send({ type: 'send', id: `m${i}`, message: `m ${i}` });
  for (let i = from; i <= to; i++) await poster.next('ack');
}

/** The list shows consecutive messages, each once. */
function assertContiguous(texts, what) {
  const ns = texts.map(numberOf);
  for (let i = 1; i < ns.length; i++) assert.equal(ns[i], ns[i - 1] + 1, `${what}: ${ns[i - 1]} then ${ns[i]}`);
}

async function readingBackWhile(poster, page, from, to) {
  await scrollList(page, 'top');
  await page.waitForTimeout(300);
  const before = await messagesSeen(page);
  await post(poster, from, to);
  await page.waitForFunction((n) => window.events.filter(([e]) => e === 'message').length >= n,
    before + (to - from + 1), { timeout: 30000 });
}

test('a visitor reading back in a busy room keeps a small list, and scrolling down brings every message back in order', async () => {
  const room = uniqueRoom('readback');
  const site = await busySite();
  const poster = await join(room, 'Ada', { site });
  await post(poster, 1, 60);
  const page = await widgetPage(await browser.newContext(), { room, site, name: 'Bo' });
  await waitForStatus(page, 'connected');
  await page.waitForFunction(() => document.querySelector('[data-hello-chat-host]').shadowRoot
    .querySelectorAll('.hc-list .hc-msg[data-seq]').length === 50);

  // 700 arrive while Bo reads the oldest ones shown.
  await readingBackWhile(poster, page, 61, 760);
  const kept = await listed(page);
  assert.ok(kept.length <= 400, `the list stays small while Bo reads back: ${kept.length} messages in the page`);
  assert.equal(kept[0], 'm 11', 'what Bo reads stays');
  assertContiguous(kept, 'while reading back');
  assert.ok(await page.evaluate(() => window.chat.unread) > 0, 'the rest count as unread');

  // Scrolling down brings them all back, each once and in order.
  const seen = new Set(kept.map(numberOf));
  for (let step = 0; step < 100 && !seen.has(760); step++) {
    await scrollList(page, 'bottom');
    await page.waitForTimeout(150);
    const now = await listed(page);
    assertContiguous(now, `scrolling down, step ${step}`);
    assert.ok(now.length <= 450, `still small while scrolling down: ${now.length}`);
    for (const t of now) seen.add(numberOf(t));
  }
  for (let n = 11; n <= 760; n++) assert.ok(seen.has(n), `message ${n} came back while scrolling down`);
  await scrollList(page, 'bottom');
  await page.waitForFunction(() => window.chat.unread === 0, null, { timeout: 5000 });

  // At the bottom again, live messages are shown as they come.
  await post(poster, 761, 761);
  await page.waitForFunction(() => [...document.querySelector('[data-hello-chat-host]').shadowRoot
    .querySelectorAll('.hc-list .hc-msg[data-seq] .hc-text')].at(-1)?.textContent === 'm 761');
  assertContiguous(await listed(page), 'live again');
  await Promise.all([poster.close(), page.context().close()]);
});

test('from far up, the "new messages" button and sending a message both go to the latest', async () => {
  const room = uniqueRoom('readjump');
  const site = await busySite();
  const poster = await join(room, 'Ada', { site });
  await post(poster, 1, 60);
  const page = await widgetPage(await browser.newContext(), { room, site, name: 'Bo' });
  await waitForStatus(page, 'connected');
  await readingBackWhile(poster, page, 61, 760);
  assert.ok((await listed(page)).length <= 400, 'the list stays small');

  const host = page.locator('[data-hello-chat-host]');
  await host.locator('.hc-pill').click();
  await page.waitForFunction(() => [...document.querySelector('[data-hello-chat-host]').shadowRoot
    .querySelectorAll('.hc-list .hc-msg[data-seq] .hc-text')].at(-1)?.textContent === 'm 760', null, { timeout: 5000 });
  const latest = await listed(page);
  assertContiguous(latest, 'after the jump');
  assert.ok(latest.length <= 400, `a page of the latest: ${latest.length}`);
  await page.waitForFunction(() => window.chat.unread === 0, null, { timeout: 5000 });

  // Far up again; sending goes to the latest too, with the new message last.
  await readingBackWhile(poster, page, 761, 1460);
  await host.locator('textarea').fill('back with you');
  await host.locator('textarea').press('Enter');
  await page.waitForFunction(() => [...document.querySelector('[data-hello-chat-host]').shadowRoot
    .querySelectorAll('.hc-list .hc-msg[data-seq] .hc-text')].at(-1)?.textContent === 'back with you', null, { timeout: 5000 });
  const after = (await listed(page)).slice(0, -1);
  assertContiguous(after, 'after sending');
  assert.equal(after.at(-1), 'm 1460');
  await Promise.all([poster.close(), page.context().close()]);
});

test('reading back down notch by notch (a mouse wheel) keeps the list small, and what scrolled past counts as read', async () => {
  const room = uniqueRoom('readwheel');
  const site = await busySite();
  const poster = await join(room, 'Ada', { site });
  await post(poster, 1, 60);
  const page = await widgetPage(await browser.newContext(), { room, site, name: 'Bo' });
  await waitForStatus(page, 'connected');
  await readingBackWhile(poster, page, 61, 860);
  const unreadBefore = await page.evaluate(() => window.chat.unread);
  const log = page.locator('[data-hello-chat-host]').locator('.hc-log');
  const box = await log.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  let most = 0;
  for (let step = 0; step < 3000; step++) {
    await page.mouse.wheel(0, 120);
    if (step % 20 === 19) {
      await page.waitForTimeout(60);
      const texts = await listed(page);
      most = Math.max(most, texts.length);
      if (texts.at(-1) === 'm 860' && await page.evaluate(() => window.chat.unread) === 0) break;
    }
  }
  assert.ok(most <= 450, `the list stayed small while reading down: at most ${most} messages`);
  assert.equal(await page.evaluate(() => window.chat.unread), 0, `read down to the latest (from ${unreadBefore} unread)`);
  await Promise.all([poster.close(), page.context().close()]);
});

test('a hidden tab or a closed panel in a busy room keeps a bounded list from its first unread message', async () => {
  const room = uniqueRoom('readhidden');
  const site = await busySite();
  const poster = await join(room, 'Ada', { site });
  await post(poster, 1, 10);
  const page = await widgetPage(await browser.newContext(), { room, site, name: 'Bo' });
  await waitForStatus(page, 'connected');
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    Object.defineProperty(document, 'hidden', { value: true, configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await post(poster, 11, 1010);
  await page.waitForFunction(() => window.chat.unread === 1000, null, { timeout: 30000 });
  const kept = await listed(page);
  assert.ok(kept.length <= 400, `bounded while hidden: ${kept.length} messages in the page`);
  assert.ok(kept.includes('m 11'), 'the first unread is kept, for the visitor to start from');
  assertContiguous(kept, 'while hidden');
  // Back: the pill leads on to the latest.
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
    Object.defineProperty(document, 'hidden', { value: false, configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await page.locator('[data-hello-chat-host]').locator('.hc-pill').click();
  await page.waitForFunction(() => [...document.querySelector('[data-hello-chat-host]').shadowRoot
    .querySelectorAll('.hc-list .hc-msg[data-seq] .hc-text')].at(-1)?.textContent === 'm 1010', null, { timeout: 5000 });

  // A closed launcher panel (no height) the same.
  await page.evaluate(() => { document.getElementById('chat').style.display = 'none'; });
  await post(poster, 1011, 2010);
  await page.waitForFunction(() => window.events.filter(([e, d]) => e === 'message' && d.message === 'm 2010').length === 1, null, { timeout: 30000 });
  const closed = await listed(page);
  assert.ok(closed.length <= 400, `bounded in a closed panel: ${closed.length}`);
  await Promise.all([poster.close(), page.context().close()]);
});

test('a keyboard visitor pages back with "Load earlier": each Enter brings one more page and the view stays on what they read', async () => {
  const site = await busySite();
  const room = uniqueRoom('earlier');
  const poster = await join(room, 'Cy', { site });
  await post(poster, 1, 160);
  const page = await widgetPage(await browser.newContext({ viewport: { width: 1000, height: 800 } }), { room, site, name: 'Ada' });
  await waitForStatus(page, 'connected');
  await page.locator('.hc-list .hc-msg[data-seq]').first().waitFor();
  /** The seqs of the messages the list shows on screen, top and bottom. */
  const onScreen = () => page.evaluate(() => {
    const r = document.querySelector('[data-hello-chat-host]').shadowRoot;
    const box = r.querySelector('.hc-log').getBoundingClientRect();
    const seqs = [...r.querySelectorAll('.hc-list .hc-msg[data-seq]')]
      .filter((li) => { const b = li.getBoundingClientRect(); return b.bottom > box.top && b.top < box.bottom; })
      .map((li) => Number(li.dataset.seq));
    return { first: seqs[0], last: seqs.at(-1), oldest: Number(r.querySelector('.hc-list .hc-msg[data-seq]').dataset.seq) };
  });
  await page.locator('.hc-log').focus();
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+Tab');
  const views = [];
  for (let i = 0; i < 3; i++) {
    const before = await onScreen();
    await page.keyboard.press('Enter');
    await page.waitForFunction((oldest) => Number(document.querySelector('[data-hello-chat-host]').shadowRoot
      .querySelector('.hc-list .hc-msg[data-seq]').dataset.seq) < oldest, before.oldest, { timeout: 10000 });
    await page.waitForTimeout(300);
    const after = await onScreen();
    views.push(after);
    // What was on screen stays there: not thrown to the latest, nor cut.
    assert.ok(after.last <= before.last + 1 && after.last < 160, `Enter ${i + 1}: ${JSON.stringify([before, after])}`);
  }
  assert.ok(views.at(-1).oldest <= 11, `three pages back: ${JSON.stringify(views)}`);
  await Promise.all([poster.close(), page.context().close()]);
});
