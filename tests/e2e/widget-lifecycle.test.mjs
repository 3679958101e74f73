// The widget across the page's and the device's lifecycle, in real Chromium
// against the real worker: a connection that dies silently (a sleeping
// machine, a dead NAT), the device's clock wrong or corrected, two tabs of
// one visitor offline, storage that fills up. What a visitor would notice:
// a widget that thinks it is connected when it is not, a message lost,
// controls that the room will refuse.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join, launchBrowser, proxy, siteApi, siteWithKey, sleep, uniqueRoom, waitForStatus, widgetPage } from './helpers.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const input = (page) => page.locator('.hc-input');
const say = async (page, text) => {
  await input(page).fill(text);
  await input(page).press('Enter');
};
const statusCount = (page, status) =>
  page.evaluate((s) => window.events.filter(([e, d]) => e === 'status' && d.status === s).length, status);
const banner = (page) => page.locator('.hc-banner').evaluate((b) => (b.hidden ? '' : b.textContent));
const kept = (page) => page.evaluate(() => Object.entries(localStorage).filter(([k]) => k.startsWith('hello-chat:kept:')).map(([, v]) => v).join('\n'));

test('a message sent on a connection that died silently does not wait for the next heartbeat to find out', async () => {
  const room = uniqueRoom('deadsend');
  const p = await proxy();
  const context = await browser.newContext();
  try {
    const page = await widgetPage(context, { room, name: 'Ada' }, { base: p.url });
    await waitForStatus(page, 'connected');
    // The machine sleeps right after joining: the next heartbeat is 25 s away.
    p.silence();
    await say(page, 'sent into the void');
    await page.locator('.hc-outbox .hc-msg[data-state="pending"]', { hasText: 'sent into the void' }).waitFor();
    // The visitor waits for their message; the room never acknowledges it.
    // Well before the heartbeat (25 s, then 5 s for the pong), the widget
    // should have noticed and said so.
    await sleep(12_000);
    assert.notEqual(await banner(page), '', 'a banner says the connection is being re-established');
    assert.ok(await statusCount(page, 'reconnecting') >= 1, 'status left "connected"');
    // And the message still goes out once when the network is back.
    p.restore();
    // (Stored: in the list with its seq, not in the outbox below it.)
    await page.locator('.hc-list .hc-msg.hc-own[data-seq]', { hasText: 'sent into the void' }).waitFor({ timeout: 60_000 });
    const audit = await join(room, 'Audit');
    assert.deepEqual(audit.history.messages.map((m) => m.message), ['sent into the void']);
    await audit.close();
  } finally {
    await context.close();
    p.close();
  }
});

test('the device\'s clock set back (an NTP correction) during an outage does not postpone reconnecting by that much', async () => {
  const room = uniqueRoom('clockback');
  const p = await proxy();
  const context = await browser.newContext();
  await context.addInitScript(() => {
    const real = Date.now;
    window.skew = 0;
    Date.now = () => real() + window.skew;
  });
  try {
    const page = await widgetPage(context, { room, name: 'Ada' }, { base: p.url });
    await waitForStatus(page, 'connected');
    p.drop();
    await waitForStatus(page, 'reconnecting');
    await page.evaluate(() => { window.skew = -3600_000; });
    await say(page, 'typed after the clock changed');
    // The backoff at this point is under a second; the clock's hour is not the network's.
    await page.waitForFunction(() => window.events.filter(([e, d]) => e === 'status' && d.status === 'connected').length >= 2, null, { timeout: 20_000 });
    await page.locator('.hc-list .hc-msg.hc-own[data-seq]', { hasText: 'typed after the clock changed' }).waitFor({ timeout: 15_000 });
  } finally {
    await context.close();
    p.close();
  }
});

test('a tab typing in its composer does not erase the unsent messages of another tab of the same visitor', async () => {
  const room = uniqueRoom('twotabs');
  const context = await browser.newContext();
  try {
    const a = await widgetPage(context, { room, name: 'Ada' });
    const b = await widgetPage(context, { room, name: 'Ada' });
    await waitForStatus(a, 'connected');
    await waitForStatus(b, 'connected');
    await context.setOffline(true);
    await a.locator('.hc-banner', { hasText: 'Offline' }).waitFor({ timeout: 15_000 });
    await say(a, 'written in tab A while offline');
    await a.locator('.hc-outbox .hc-msg[data-state="pending"]').waitFor();
    assert.match(await kept(a), /written in tab A while offline/);
    // The visitor starts a reply in their other tab, then closes tab A.
    await input(b).fill('d');
    await b.waitForFunction(() => Object.entries(localStorage).some(([k, v]) => k.startsWith('hello-chat:kept:') && v.includes('"draft":"d"')));
    await a.close();
    await b.close();
    await context.setOffline(false);
    // Next visit: what tab A showed as "Sending…" goes out.
    const c = await widgetPage(context, { room, name: 'Ada' });
    await waitForStatus(c, 'connected');
    await c.locator('.hc-list .hc-msg.hc-own[data-seq]', { hasText: 'written in tab A while offline' }).waitFor({ timeout: 15_000 });
    const audit = await join(room, 'Audit');
    assert.deepEqual(audit.history.messages.map((m) => m.message), ['written in tab A while offline']);
    await audit.close();
  } finally {
    await context.close();
  }
});

test('messages typed offline in two tabs, in turn, go out in the order they were typed', async () => {
  const room = uniqueRoom('tabsorder');
  const context = await browser.newContext();
  try {
    const a = await widgetPage(context, { room, name: 'Ada' });
    const b = await widgetPage(context, { room, name: 'Ada' });
    await waitForStatus(a, 'connected');
    await waitForStatus(b, 'connected');
    await context.setOffline(true);
    for (const p of [a, b]) await p.locator('.hc-banner', { hasText: 'Offline' }).waitFor({ timeout: 15_000 });
    for (const [p, text] of [[a, '1st (tab A)'], [b, '2nd (tab B)'], [a, '3rd (tab A)']]) {
      await say(p, text);
      await p.waitForFunction((t) => Object.entries(localStorage).some(([k, v]) => k.startsWith('hello-chat:kept:') && v.includes(t)), text);
    }
    await a.close();
    await b.close();
    await context.setOffline(false);
    const c = await widgetPage(context, { room, name: 'Ada' });
    await waitForStatus(c, 'connected');
    await c.locator('.hc-list .hc-msg.hc-own[data-seq]', { hasText: '2nd (tab B)' }).waitFor({ timeout: 15_000 });
    await c.locator('.hc-outbox .hc-msg').first().waitFor({ state: 'detached', timeout: 15_000 });
    const audit = await join(room, 'Audit');
    assert.deepEqual(audit.history.messages.map((m) => m.message), ['1st (tab A)', '2nd (tab B)', '3rd (tab A)']);
    await audit.close();
  } finally {
    await context.close();
  }
});

/** A site with a moderation key, and a context whose clock is `skewMs` off. */
async function skewed(skewMs) {
  const { site, key } = await siteWithKey({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: 'lifecycle-secret-0123456789abcdef' }, 'life');
  const context = await browser.newContext();
  await context.addInitScript((off) => {
    const real = Date.now;
    Date.now = () => real() + off;
  }, skewMs);
  return { site, key, context };
}

test('with the device\'s clock a day ahead, the visitor can still edit the message they just sent', async () => {
  const { site, context } = await skewed(86_400_000);
  try {
    const page = await widgetPage(context, { room: uniqueRoom('ahead-edit'), site, name: 'Eve' });
    await waitForStatus(page, 'connected');
    await say(page, 'just sent');
    const mine = page.locator('.hc-list .hc-msg.hc-own[data-seq]', { hasText: 'just sent' });
    await mine.waitFor();
    await mine.locator('.hc-more').click();
    const items = await page.getByRole('menuitem').allTextContents();
    assert.ok(items.includes('Delete'), items.join());
    assert.ok(items.includes('Edit'), `the room allows editing for an hour; offered: ${items.join()}`);
  } finally {
    await context.close();
  }
});

test('with the device\'s clock a day ahead, a 10-minute mute still shows and keeps the composer off', async () => {
  const { site, key, context } = await skewed(86_400_000);
  try {
    const room = uniqueRoom('ahead-mute');
    const page = await widgetPage(context, { room, site, name: 'Eve' });
    await waitForStatus(page, 'connected');
    await say(page, 'hello');
    await page.waitForFunction(() => window.events.some(([e, d]) => e === 'message' && d.own));
    const sender = await page.evaluate(() => window.events.find(([e, d]) => e === 'message' && d.own)[1].sender);
    const muted = await siteApi(key, 'POST', `/${site}/rooms/${room}/moderation`, { action: 'mute', sender, seconds: 600 });
    assert.equal(muted.status, 200, muted.text);
    await page.locator('.hc-notice', { hasText: 'muted' }).waitFor();
    assert.match(await page.locator('.hc-roombanner').evaluate((b) => (b.hidden ? '' : b.textContent)), /muted until/);
    assert.equal(await input(page).isDisabled(), true, 'the composer is off while muted');
  } finally {
    await context.close();
  }
});

test('storage that fills up does not bring back, after a reload, a draft that was sent', async () => {
  const room = uniqueRoom('full');
  const context = await browser.newContext();
  try {
    const a = await widgetPage(context, { room, name: 'Ada' });
    await waitForStatus(a, 'connected');
    await input(a).fill('half a tho');
    await a.waitForFunction(() => Object.values(localStorage).some((v) => v.includes('half a tho')));
    // The site's other scripts fill the origin's quota (Safari private mode: any write throws).
    await a.evaluate(() => { Storage.prototype.setItem = function () { throw new DOMException('quota', 'QuotaExceededError'); }; });
    await say(a, 'half a thought, finished and sent');
    await a.locator('.hc-list .hc-msg.hc-own[data-seq]', { hasText: 'finished and sent' }).waitFor();
    await a.close();
    // (Nothing could be kept, the anonymous visitor's key neither: the
    // message is back in the list, but as a stranger's.)
    const again = await widgetPage(context, { room, name: 'Ada' });
    await waitForStatus(again, 'connected');
    await again.locator('.hc-list .hc-msg[data-seq]', { hasText: 'finished and sent' }).waitFor();
    assert.equal(await input(again).inputValue(), '', 'the sent text does not come back as a draft');
  } finally {
    await context.close();
  }
});

/**
 * Ada's widget, connected, whose element the app then takes out of the page
 * without destroy() (kept as `window.kept`); `audit` sees her leave. `then`
 * runs with the page and `audit`.
 */
async function takenOut(name, then) {
  const room = uniqueRoom(name);
  const context = await browser.newContext();
  const audit = await join(room, 'Audit');
  try {
    const page = await widgetPage(context, { room, name: 'Ada' });
    await waitForStatus(page, 'connected');
    await audit.next((f) => f.type === 'presence' && f.online === 2);
    // The app swaps its view: the container goes, nobody calls destroy().
    await page.evaluate(() => { window.kept = document.getElementById('chat'); window.kept.remove(); });
    // Before, the widget stayed online as a ghost until the tab closed.
    await audit.next((f) => f.type === 'presence' && f.online === 1, 15_000);
    await then(page, audit);
  } finally {
    await audit.close();
    await context.close();
  }
}

test('a widget whose element a single-page app removes without destroy() leaves the room, and comes back with it', () =>
  takenOut('detached', async (page, audit) => {
    audit.send({ type: 'send', id: 'while-away', message: 'said while the view was away' });
    // The app shows the view again: the same widget reconnects and catches up.
    await page.evaluate(() => document.body.append(window.kept));
    await audit.next((f) => f.type === 'presence' && f.online === 2, 15_000);
    await page.locator('.hc-list .hc-msg[data-seq]', { hasText: 'said while the view was away' }).waitFor();
  }));

test('a widget put back into a closed panel (no size) reconnects there, and counts what it missed as unread', () =>
  takenOut('detached-closed', async (page, audit) => {
    // The app puts the view back inside a panel that is closed: no size, so
    // no resize tells the widget it is back.
    await page.evaluate(() => {
      const panel = document.createElement('div');
      panel.style.display = 'none';
      document.body.append(panel);
      panel.append(window.kept);
    });
    await audit.next((f) => f.type === 'presence' && f.online === 2, 15_000);
    audit.send({ type: 'send', id: 'for-the-badge', message: 'counted on the launcher badge' });
    await page.waitForFunction(() => window.chat.unread === 1, null, { timeout: 10_000 });
  }));
