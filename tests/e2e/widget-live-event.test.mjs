// The widget in a live event (a room of more than 500 connections, where the
// room announces no joins and lists only its first 100 senders), in real
// Chromium against the real worker. (From a QA pass on live events.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSite, join, launchBrowser, uniqueRoom, waitForStatus, widgetPage } from './helpers.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

test('in a live event, someone who just spoke is offered as an @mention', { timeout: 180_000 }, async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true,
    limits: { maxConnections: 2000, maxConnectionsPerAddress: 2000, addressBurst: 5000, addressPerSec: 1000 } });
  const room = uniqueRoom('live-mention');
  // 550 silent viewers first: the room's list of senders is theirs.
  const crowd = [];
  for (let i = 0; i < 550; i += 50) {
    crowd.push(...await Promise.all(Array.from({ length: 50 }, (_, j) => join(room, `viewer${i + j}`, { site }))));
  }
  const open = async (name) => {
    const page = await widgetPage(await browser.newContext(), { room, site, name });
    await waitForStatus(page, 'connected', 30000);
    return page;
  };
  const [ada, bo] = [await open('Ada'), await open('Bo')];
  await bo.evaluate(() => window.chat.send('hello everyone'));
  await ada.locator('.hc-list .hc-text', { hasText: 'hello everyone' }).waitFor();
  await ada.locator('.hc-input').pressSequentially('@Bo');
  const offered = () => ada.evaluate(() => [...document.querySelector('[data-hello-chat-host]').shadowRoot
    .querySelectorAll('[role=option]')].map((o) => o.textContent));
  await ada.waitForTimeout(300);
  assert.deepEqual(await offered(), ['@Bo'], 'Ada answers Bo, whose message she just read');
  // Those who spoke come first, before the silent viewers.
  await ada.locator('.hc-input').fill('');
  await ada.locator('.hc-input').pressSequentially('@');
  await ada.waitForTimeout(300);
  assert.equal((await offered())[0], '@Bo');
  for (const c of crowd) c.close();
  await Promise.all([ada.context().close(), bo.context().close()]);
});

test('in a live event, the header\'s online count follows the crowd', { timeout: 180_000 }, async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true,
    limits: { maxConnections: 2000, maxConnectionsPerAddress: 2000, addressBurst: 5000, addressPerSec: 1000 } });
  const room = uniqueRoom('live-count');
  const crowd = [];
  for (let i = 0; i < 550; i += 50) {
    crowd.push(...await Promise.all(Array.from({ length: 50 }, (_, j) => join(room, `viewer${i + j}`, { site }))));
  }
  const page = await widgetPage(await browser.newContext(), { room, site, name: 'Ada' });
  await waitForStatus(page, 'connected', 30000);
  const online = () => page.evaluate(() => document.querySelector('[data-hello-chat-host]').shadowRoot
    .querySelector('.hc-online').textContent);
  assert.equal(await online(), '551 online');
  // 100 more viewers arrive at once: the room tells no join, but its count
  // goes out with the next message once ten seconds have passed.
  crowd.push(...await Promise.all(Array.from({ length: 100 }, (_, j) => join(room, `late${j}`, { site }))));
  await page.waitForTimeout(10_500);
  crowd[0].send({ type: 'send', id: 'count-1', message: 'still here' });
  await page.locator('.hc-list .hc-text', { hasText: 'still here' }).waitFor();
  await page.waitForFunction(() => document.querySelector('[data-hello-chat-host]').shadowRoot
    .querySelector('.hc-online').textContent === '651 online', null, { timeout: 5000 });
  for (const c of crowd) c.close();
  await page.context().close();
});
