// Read receipts in real Chromium: with the site's `moderation.receipts` on,
// the author of the latest message sees "Seen by N" under it once others
// have it on screen, names on hover; without the setting, nothing is shared.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSite, join, launchBrowser, uniqueRoom, waitForStatus, widgetPage } from './helpers.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const site = (receipts) => createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true,
  moderation: { receipts } }, 'receipts');

test('the author sees who has read their latest message', async () => {
  const id = await site(true);
  const room = uniqueRoom('seen');
  const contexts = await Promise.all([browser.newContext(), browser.newContext(), browser.newContext()]);
  try {
    const ada = await widgetPage(contexts[0], { room, site: id, name: 'Ada' });
    await waitForStatus(ada, 'connected');
    await ada.evaluate(() => window.chat.send('did everyone get the agenda?'));
    const mine = ada.locator('.hc-list .hc-msg[data-seq]', { hasText: 'agenda' });
    await mine.waitFor();
    assert.equal(await ada.locator('.hc-seen').count(), 0, 'nobody else has read it yet');

    const bo = await widgetPage(contexts[1], { room, site: id, name: 'Bo' });
    await waitForStatus(bo, 'connected');
    await mine.locator('.hc-seen', { hasText: 'Seen by Bo' }).waitFor();
    assert.equal(await mine.locator('.hc-seen').getAttribute('title'), 'Seen by Bo');
    const cy = await widgetPage(contexts[2], { room, site: id, name: 'Cy' });
    await waitForStatus(cy, 'connected');
    // A few readers are named where a touch screen shows them (no hover).
    await mine.locator('.hc-seen', { hasText: 'Seen by Bo and Cy' }).waitFor();
    assert.equal(await mine.locator('.hc-seen').getAttribute('aria-label'), 'Seen by Bo and Cy');
    await mine.getByRole('note', { name: 'Seen by Bo and Cy' }).waitFor({ timeout: 2000 });

    // A newer message of Ada's starts over; Bo's own page shows nothing under Ada's.
    await ada.evaluate(() => window.chat.send('great, see you at 3'));
    const latest = ada.locator('.hc-list .hc-msg[data-seq]', { hasText: 'see you at 3' });
    // (In the order their reads came.)
    await latest.locator('.hc-seen', { hasText: /^Seen by (Bo and Cy|Cy and Bo)$/ }).waitFor();
    assert.equal(await ada.locator('.hc-seen').count(), 1, 'only under the latest message');
    assert.equal(await bo.locator('.hc-seen').count(), 0);
    // Past three readers, a count (the names on hover and for screen readers).
    const seq = Number(await latest.getAttribute('data-seq'));
    const raw = await Promise.all(['Dee', 'Eve'].map((name) => join(room, name, { site: id })));
    for (const r of raw) r.send({ type: 'read', seq });
    await latest.locator('.hc-seen', { hasText: /^Seen by 4$/ }).waitFor();
    const title = await latest.locator('.hc-seen').getAttribute('title');
    assert.deepEqual(title.replace(/^Seen by /, '').split(/,? and |, /).sort(), ['Bo', 'Cy', 'Dee', 'Eve'], title);
    await Promise.all(raw.map((r) => r.close()));
  } finally {
    await Promise.all(contexts.map((c) => c.close()));
  }
});

test('without the site setting no read position is shared', async () => {
  const id = await site(false);
  const room = uniqueRoom('unseen');
  const contexts = await Promise.all([browser.newContext(), browser.newContext()]);
  try {
    const ada = await widgetPage(contexts[0], { room, site: id, name: 'Ada' });
    await waitForStatus(ada, 'connected');
    await ada.evaluate(() => window.chat.send('anyone?'));
    const bo = await widgetPage(contexts[1], { room, site: id, name: 'Bo' });
    await waitForStatus(bo, 'connected');
    await bo.locator('.hc-msg', { hasText: 'anyone?' }).waitFor();
    await ada.evaluate(() => window.chat.send('second'));
    await bo.locator('.hc-msg', { hasText: 'second' }).waitFor();
    assert.equal(await ada.locator('.hc-seen').count(), 0);
  } finally {
    await Promise.all(contexts.map((c) => c.close()));
  }
});
