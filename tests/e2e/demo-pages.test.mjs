// The hosted demo pages: room picking and sharing, remembered name, theme,
// the launcher bubble, phone-sized screens and an automated accessibility check.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, join, launchBrowser, seriousViolations, sleep, uniqueRoom } from './helpers.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });


test('landing page: pick a room, share it by link and QR code, name remembered, theme switch', async () => {
  const context = await browser.newContext({ viewport: { width: 1200, height: 860 } });
  const page = await context.newPage();
  await page.goto(`${BASE}/`);
  await page.locator('.hc-online').waitFor();
  assert.equal(await page.locator('#room').inputValue(), 'lobby');

  const room = uniqueRoom('picked');
  await page.locator('#room').fill(room);
  await page.locator('#room-form button[type=submit]').click();
  await page.locator('.hc-title', { hasText: `#${room}` }).waitFor();
  assert.equal(new URL(page.url()).searchParams.get('room'), room);
  assert.equal(await page.locator('#share-link').inputValue(), `${BASE}/?room=${room}`);
  const darkPixels = await page.locator('#qr').evaluate((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 128) n++;
    return n;
  });
  assert.ok(darkPixels > 1000, 'the QR code is drawn');

  await page.screenshot({ path: 'docs/screenshots/demo.png' });
  await page.locator('#new-room').click();
  const fresh = await page.locator('#room').inputValue();
  assert.notEqual(fresh, room);
  assert.match(fresh, /^[a-z]+-[a-z0-9]+$/);

  await page.locator('#name').fill('Zoë Remembered');
  await page.locator('#name').press('Tab');
  await page.locator('.hc-online').waitFor();
  await page.reload();
  assert.equal(await page.locator('#name').inputValue(), 'Zoë Remembered');

  await page.locator('#theme-toggle').click();
  await page.locator('.hc[data-theme="dark"]').waitFor();
  assert.equal(await page.locator('html').getAttribute('data-theme'), 'dark');
  // Named for what it turns on, pressed while on.
  assert.deepEqual([await page.locator('#theme-toggle').textContent(), await page.locator('#theme-toggle').getAttribute('aria-pressed')],
    ['Dark theme', 'true']);
  await page.reload();
  await page.locator('.hc[data-theme="dark"]').waitFor();
  await context.close();
});

test('launcher page: unread count while closed, opens and closes from the keyboard', async () => {
  const room = uniqueRoom('launcher');
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${BASE}/launcher.html?room=${room}&name=Shopper`);
  await page.waitForFunction(() => window.demoChat);
  await page.locator('.hc-online').waitFor({ state: 'attached' });
  await sleep(800);
  const agent = await join(room, 'Agent');
  for (const [i, text] of ['Hello!', 'Can I help?'].entries()) {
    agent.send({ type: 'send', id: `a${i}`, message: text });
    await agent.next('ack');
  }
  await page.locator('#unread', { hasText: '2' }).waitFor();
  assert.equal(await page.locator('#open-chat').getAttribute('aria-label'), 'Open chat, 2 unread');

  await page.locator('#open-chat').focus();
  await page.keyboard.press('Enter');
  await page.locator('#chat-panel').waitFor();
  assert.equal(await page.locator('#open-chat').getAttribute('aria-expanded'), 'true');
  assert.equal(await page.locator('#unread').isVisible(), false);
  await page.locator('.hc-list .hc-text', { hasText: 'Can I help?' }).waitFor();
  await page.keyboard.press('Escape');
  await page.locator('#chat-panel').waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'open-chat');
  await agent.close();
  await context.close();
});

test('launcher page: Escape that the chat uses (a menu, a reply) leaves the panel open', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${BASE}/launcher.html?room=${uniqueRoom('demoesc')}&name=Ada`);
  await page.locator('#open-chat').click();
  const panelOpen = () => page.locator('#chat-panel').evaluate((p) => !p.hidden);
  await page.locator('.hc-input').fill('hello');
  await page.locator('.hc-input').press('Enter');
  const mine = page.locator('.hc-list .hc-msg[data-seq]', { hasText: 'hello' });
  await mine.waitFor();

  // A message's menu: Escape closes the menu only.
  await mine.locator('.hc-more').focus();
  await page.keyboard.press('Enter');
  await mine.locator('[role=menu]').waitFor();
  await page.keyboard.press('Escape');
  await mine.locator('[role=menu]').waitFor({ state: 'detached' });
  assert.equal(await panelOpen(), true, 'the panel stayed open after closing the menu');

  // A reply being written: Escape cancels it only.
  await page.keyboard.press('Enter');
  await mine.locator('[data-action=reply]').click();
  await page.locator('.hc-replybar').waitFor();
  await page.keyboard.press('Escape');
  await page.locator('.hc-replybar').waitFor({ state: 'hidden' });
  assert.equal(await panelOpen(), true, 'the panel stayed open after cancelling the reply');

  // Nothing left to close in the chat: Escape closes the panel, focus on the bubble.
  await page.keyboard.press('Escape');
  await page.locator('#chat-panel').waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'open-chat');
  await context.close();
});

test('every demo page fits a phone screen and has no serious accessibility violations', async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
  for (const url of ['/', '/launcher.html', '/npm/']) {
    const page = await context.newPage();
    await page.goto(`${BASE}${url}`);
    await page.locator('[data-hello-chat-host]').waitFor({ state: 'attached' });
    if (url === '/launcher.html') await page.locator('#open-chat').click();
    await page.locator('.hc-online').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${url} scrolls sideways by ${overflow}px on a phone`);
    assert.deepEqual(await seriousViolations(page), [], `${url} accessibility`);
    await page.close();
  }
  for (const theme of ['light', 'dark']) {
    const page = await context.newPage();
    await page.addInitScript((t) => localStorage.setItem('hello-chat-demo-theme', t), theme);
    await page.goto(`${BASE}/?room=${uniqueRoom('axe')}`);
    await page.locator('.hc-online').waitFor();
    await page.locator('.hc-input').fill('contrast check');
    await page.locator('.hc-input').press('Enter');
    await page.locator('.hc-list .hc-own').waitFor();
    assert.deepEqual(await seriousViolations(page), [], `${theme} theme accessibility`);
    await page.close();
  }
  await context.close();
});
