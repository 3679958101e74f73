// Unread counts in real Chromium: messages from others count until the
// list shows them while the page is visible; the count survives a reload
// (localStorage); `notify: { title: true }` puts it in the page title.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, uniqueRoom, waitForStatus, widgetPage } from './helpers.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** Pretend the page is hidden or visible again, as a switch of tabs does. */
const setVisible = (page, visible) => page.evaluate((v) => {
  Object.defineProperty(document, 'visibilityState', { value: v ? 'visible' : 'hidden', configurable: true });
  Object.defineProperty(document, 'hidden', { value: !v, configurable: true });
  document.dispatchEvent(new Event('visibilitychange'));
}, visible);

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

  await setVisible(bo, false);
  await say(ada, 'one');
  await say(ada, 'two');
  await waitUnread(bo, 2);
  assert.equal(await bo.title(), '(2) widget test');
  await say(bo, 'my own message is never unread');
  await waitUnread(bo, 0);
  await say(ada, 'three');
  await waitUnread(bo, 1);

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
  // Shown at once on a visible page: counted, then read.
  await waitUnread(back, 0);
  const counts = await back.evaluate(() => window.events.filter(([e]) => e === 'unread').map(([, d]) => d.count));
  assert.deepEqual(counts, [2, 0], 'the two that came while away were unread until shown');
  await Promise.all([ada.context().close(), context.close()]);
});
