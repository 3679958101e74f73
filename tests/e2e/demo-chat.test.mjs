// The walking skeleton: two real browser pages on the demo page chat with
// each other through the real worker.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launchBrowser, uniqueRoom } from './helpers.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

test('two browser pages on the demo exchange messages both ways', async () => {
  const room = uniqueRoom('demo');
  const ada = await (await browser.newContext()).newPage();
  const bo = await (await browser.newContext()).newPage();
  await ada.goto(`${BASE}/?room=${room}&name=Ada`);
  await bo.goto(`${BASE}/?room=${room}&name=Bo`);
  await ada.locator('.hc-online', { hasText: '2 online' }).waitFor();

  await ada.locator('.hc-input').fill('Hello from Ada');
  await ada.locator('.hc-input').press('Enter');
  await bo.locator('.hc-list .hc-msg', { hasText: 'Hello from Ada' }).waitFor();
  assert.equal(await bo.locator('.hc-list .hc-msg .hc-name').first().textContent(), 'Ada');

  await bo.locator('.hc-input').fill('Hi Ada, Bo here');
  await bo.locator('.hc-send').click();
  await ada.locator('.hc-list .hc-msg', { hasText: 'Hi Ada, Bo here' }).waitFor();

  // Each side shows both messages once, in the same order, its own marked as own.
  for (const [page, own] of [[ada, 'Hello from Ada'], [bo, 'Hi Ada, Bo here']]) {
    await page.locator('.hc-outbox .hc-msg').waitFor({ state: 'detached' });
    const texts = await page.locator('.hc-list .hc-text').allTextContents();
    assert.deepEqual(texts, ['Hello from Ada', 'Hi Ada, Bo here']);
    assert.equal(await page.locator('.hc-list .hc-own .hc-text').textContent(), own);
  }
});

test('the widget lives in a shadow root and the embed defines only HelloChat', async () => {
  const page = await (await browser.newContext()).newPage();
  // The globals of a same-origin page without the widget, as a baseline.
  await page.goto(`${BASE}/health`);
  const before = await page.evaluate(() => Object.keys(window));
  await page.goto(`${BASE}/?room=${uniqueRoom('shadow')}&name=Cy`);
  await page.locator('.hc-online').waitFor();
  const info = await page.evaluate(() => {
    const host = document.querySelector('[data-hello-chat-host]');
    return {
      shadow: !!host?.shadowRoot,
      lightChildren: host?.children.length,
      inDocument: document.querySelectorAll('.hc').length,
      helloChat: typeof window.HelloChat?.mount,
    };
  });
  assert.deepEqual(info, { shadow: true, lightChildren: 0, inDocument: 0, helloChat: 'function' });
  const after = await page.evaluate(() => Object.keys(window));
  const added = after.filter((k) => !before.includes(k));
  // The demo page itself adds demoChat; the embed adds HelloChat only.
  assert.deepEqual(added.sort(), ['HelloChat', 'demoChat']);
});
