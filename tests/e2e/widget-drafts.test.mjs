// What the visitor typed survives a reload: the composer's draft and the
// unsent messages come back (per server, site, room and identity), and the
// messages go out once, under the ids they had, when the widget connects.
// Real Chromium, the real worker, raw clients to check what the room stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, join, launchBrowser, sleep, uniqueRoom, waitForStatus, widgetPage } from './helpers.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const input = (page) => page.locator('.hc-input');
const pending = (page) => page.locator('.hc-outbox .hc-msg[data-state="pending"]');

test('a draft comes back in the composer of its room, for its visitor only', async () => {
  const [room, other] = [uniqueRoom('draft'), uniqueRoom('draft')];
  const context = await browser.newContext();
  let page = await widgetPage(context, { room, name: 'Ada' });
  await waitForStatus(page, 'connected');
  // Near the limit, so the counter shows what was restored.
  const draft = `half a thought ${'x'.repeat(1700)}`;
  await input(page).fill(draft);
  await sleep(100);
  await page.close();

  page = await widgetPage(context, { room, name: 'Ada' });
  assert.equal(await input(page).inputValue(), draft, 'the draft is back');
  assert.equal(await page.locator('.hc-counter').isHidden(), false, 'the counter follows it');
  assert.equal(await page.locator('.hc-send').first().isDisabled(), false, 'and Send may send it');
  const elsewhere = await widgetPage(context, { room: other, name: 'Ada' });
  assert.equal(await input(elsewhere).inputValue(), '', 'not in another room');
  const someoneElse = await widgetPage(context, { room, name: 'Bo' });
  assert.equal(await input(someoneElse).inputValue(), '', 'not for another visitor');

  // Sent, it is gone: the next page starts empty.
  await waitForStatus(page, 'connected');
  await input(page).press('Enter');
  await page.locator('.hc-list .hc-msg.hc-own[data-seq]').waitFor({ timeout: 15000 });
  await page.close();
  page = await widgetPage(context, { room, name: 'Ada' });
  assert.equal(await input(page).inputValue(), '');
  await context.close();
});

test('messages sent offline survive the page and are delivered once, in order, only by their visitor', async () => {
  const room = uniqueRoom('unsent');
  const context = await browser.newContext();
  let page = await widgetPage(context, { room, name: 'Ada' });
  await waitForStatus(page, 'connected');
  const watcher = await join(room, 'Watcher');

  await context.setOffline(true);
  await page.locator('.hc-banner', { hasText: 'Offline' }).waitFor({ timeout: 15000 });
  for (const text of ['first while offline', 'second while offline']) {
    await input(page).fill(text);
    await input(page).press('Enter');
  }
  await pending(page).nth(1).waitFor();
  await page.close();
  await context.setOffline(false);

  // Another visitor on the same browser neither sees nor sends them.
  const bo = await widgetPage(context, { room, name: 'Bo' });
  await waitForStatus(bo, 'connected');
  await sleep(1500);
  assert.equal(await pending(bo).count(), 0);
  assert.equal(watcher.all('message').length, 0, 'nothing sent under another name');
  await bo.close();

  page = await widgetPage(context, { room, name: 'Ada' });
  // Delivered (a seq), not the kept copy the page shows pending in its outbox at once.
  await page.locator('.hc-list .hc-msg.hc-own[data-seq]', { hasText: 'second while offline' }).waitFor({ timeout: 15000 });
  await sleep(500);
  assert.deepEqual(await page.locator('.hc-outbox .hc-msg').allTextContents(), [], 'nothing left unsent');
  await watcher.next((f) => f.type === 'message' && f.message === 'second while offline', 15000);
  await sleep(1000);
  assert.deepEqual(watcher.all('message').map((m) => m.message), ['first while offline', 'second while offline'], 'once each, in order');
  const audit = await join(room, 'Audit');
  assert.deepEqual(audit.history.messages.map((m) => m.message), ['first while offline', 'second while offline'], 'one stored copy each');

  // Nothing is left to send by the next page.
  await page.close();
  page = await widgetPage(context, { room, name: 'Ada' });
  await waitForStatus(page, 'connected');
  await sleep(1000);
  assert.equal(watcher.all('message').length, 2);
  assert.equal(await pending(page).count(), 0);
  await Promise.all([watcher.close(), audit.close(), context.close()]);
});

test('a kept message the room already stored (its ack lost) is not stored twice', async () => {
  const room = uniqueRoom('kept');
  // The visitor's earlier page: it sent the message and the room stored it,
  // but the page went away before the ack (the raw client plays that page).
  const before = await join(room, 'Ada');
  const id = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
  before.send({ type: 'send', id, message: 'sent just before the reload' });
  const ack = await before.next('ack');
  await before.close();
  const frame = { type: 'send', id, message: 'sent just before the reload' };
  const kept = JSON.stringify({ draft: '', key: before.welcome.senderKey, m: [{ at: Date.now(), frame }] });

  const context = await browser.newContext();
  const page = await widgetPage(context, null);
  await page.evaluate(([k, v]) => localStorage.setItem(k, v), [`hello-chat:kept:${BASE}::${room}:a:Ada`, kept]);
  await page.evaluate((room) => {
    window.events = [];
    window.chat = HelloChat.mount(document.getElementById('chat'), { room, name: 'Ada' });
    window.chat.on('message', (d) => window.events.push(['message', d]));
  }, room);
  // Acked (a seq): the kept message is shown pending in the outbox at once.
  await page.locator('.hc-list .hc-msg.hc-own[data-seq]', { hasText: 'sent just before the reload' }).waitFor({ timeout: 15000 });
  await sleep(1500);
  assert.equal(await pending(page).count(), 0);
  assert.equal(await page.locator('.hc-list .hc-msg', { hasText: 'sent just before the reload' }).count(), 1, 'shown once, as our own');
  const audit = await join(room, 'Audit');
  assert.deepEqual(audit.history.messages.map((m) => [m.seq, m.id]), [[ack.seq, id]], 'one stored copy');
  const left = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('hello-chat:kept:')).map((k) => JSON.parse(localStorage.getItem(k))));
  assert.deepEqual(left, [{ draft: '', key: before.welcome.senderKey }], 'nothing left to send; the visitor is kept');
  await Promise.all([audit.close(), context.close()]);
});

test('an anonymous visitor\'s messages stay theirs after a reload, in this browser and under this name', async () => {
  const room = uniqueRoom('mine');
  const context = await browser.newContext();
  let page = await widgetPage(context, { room, name: 'Ada' });
  await waitForStatus(page, 'connected');
  await input(page).fill('written before the reload');
  await input(page).press('Enter');
  // Delivered before the reload (a pending one would come back from storage as pending).
  await page.locator('.hc-list .hc-msg.hc-own[data-seq]', { hasText: 'written before the reload' }).waitFor({ timeout: 15000 });
  await page.close();

  page = await widgetPage(context, { room, name: 'Ada' });
  await waitForStatus(page, 'connected');
  const mine = page.locator('.hc-list .hc-msg[data-seq]', { hasText: 'written before the reload' });
  await mine.waitFor();
  assert.equal(await mine.evaluate((el) => el.classList.contains('hc-own')), true, 'still shown as their own');
  // So they may still edit it.
  await mine.locator('.hc-more').click();
  await mine.getByRole('menuitem', { name: 'Edit' }).waitFor();
  await page.keyboard.press('Escape');

  const bo = await widgetPage(context, { room, name: 'Bo' });
  await waitForStatus(bo, 'connected');
  await bo.locator('.hc-list .hc-msg', { hasText: 'written before the reload' }).waitFor();
  assert.equal(await bo.locator('.hc-list .hc-msg.hc-own').count(), 0, 'not another name\'s');
  const elsewhere = await widgetPage(await browser.newContext(), { room, name: 'Ada' });
  await waitForStatus(elsewhere, 'connected');
  await elsewhere.locator('.hc-list .hc-msg', { hasText: 'written before the reload' }).waitFor();
  assert.equal(await elsewhere.locator('.hc-list .hc-msg.hc-own').count(), 0, 'not another browser\'s');
  await context.close();

  // A kiosk: the site forgets each visitor with the page.
  const kiosk = await browser.newContext();
  let shared = await widgetPage(kiosk, { room, name: 'Ada', rememberVisitor: false });
  await waitForStatus(shared, 'connected');
  await input(shared).fill('a kiosk visitor wrote this');
  await input(shared).press('Enter');
  await shared.locator('.hc-list .hc-msg.hc-own', { hasText: 'a kiosk visitor wrote this' }).waitFor({ timeout: 15000 });
  // Acked: nothing left to send, so nothing of this visitor is kept.
  await shared.waitForFunction(() => !Object.keys(localStorage).some((k) => k.startsWith('hello-chat:kept:')));
  await shared.close();
  shared = await widgetPage(kiosk, { room, name: 'Ada', rememberVisitor: false });
  await waitForStatus(shared, 'connected');
  await shared.locator('.hc-list .hc-msg', { hasText: 'a kiosk visitor wrote this' }).waitFor();
  assert.equal(await shared.locator('.hc-list .hc-msg.hc-own').count(), 0, 'the next kiosk visitor is someone else');
  await kiosk.close();
});

test('storage that throws leaves the widget working as before', async () => {
  const room = uniqueRoom('nostore');
  const context = await browser.newContext();
  await context.addInitScript(() => {
    Object.defineProperty(window, 'localStorage', { get() { throw new DOMException('denied', 'SecurityError'); } });
  });
  const watcher = await join(room, 'Watcher');
  const page = await widgetPage(context, { room, name: 'Ada' });
  await waitForStatus(page, 'connected');
  await input(page).fill('still works');
  await input(page).press('Enter');
  assert.equal((await watcher.next('message', 15000)).message, 'still works');
  await page.locator('.hc-list .hc-msg.hc-own', { hasText: 'still works' }).waitFor();
  const errors = await page.evaluate(() => window.events.filter(([e]) => e === 'error').length);
  assert.equal(errors, 0);
  await Promise.all([watcher.close(), context.close()]);
});
