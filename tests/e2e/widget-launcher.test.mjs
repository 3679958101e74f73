// The launcher in real Chromium: on page load only the light loader comes
// (under 6 KB gzipped; no widget, no WebAssembly); the widget is fetched on
// the first open; the bubble counts unread messages while the panel is
// closed; Escape closes and gives focus back; on a phone the panel and the
// widget in it fill the screen, the bubble hidden meanwhile.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { BASE, join, launchBrowser, uniqueRoom } from './helpers.mjs';

const BUDGET = 6 * 1024;
let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** A page with only the launcher loader and a marked element; records script requests. */
async function shop(context, room, extra = '') {
  const page = await context.newPage();
  const requests = [];
  page.on('request', (r) => requests.push(new URL(r.url()).pathname));
  await page.goto(`${BASE}/health`);
  await page.setContent(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>shop</title>
    <meta name="viewport" content="width=device-width, initial-scale=1"></head>
    <body><h1>Shop</h1><div data-hello-chat-launcher data-room="${room}" data-name="Shopper" ${extra}></div>
    <script src="/hello-chat-launcher.js"></script></body></html>`);
  await page.waitForFunction(() => document.querySelector('[data-hello-chat-launcher]')?.helloChat);
  return { page, requests };
}

test('the loader stays under 6 KB gzipped and loads the widget only when opened', async () => {
  const size = zlib.gzipSync(fs.readFileSync('dist/public/hello-chat-launcher.js')).length;
  assert.ok(size <= BUDGET, `hello-chat-launcher.js is ${size} bytes gzipped (budget ${BUDGET})`);

  const room = uniqueRoom('launch');
  const { page, requests } = await shop(await browser.newContext(), room);
  const bubble = page.getByRole('button', { name: 'Open chat' });
  await bubble.waitFor();
  await page.waitForTimeout(300);
  assert.deepEqual(requests.filter((p) => p.endsWith('.js')), ['/hello-chat-launcher.js'], 'nothing else on load');

  await bubble.click();
  const input = page.locator('.hc-input');
  await input.waitFor();
  assert.ok(requests.includes('/hello-chat.js'), 'the widget came on the first open');
  // Open, the bubble closes the panel and is named for it (not "Open chat, expanded").
  const open = page.locator('[data-hello-chat-launcher-host] .b');
  assert.equal(await open.getAttribute('aria-label'), 'Close chat');
  assert.equal(await open.getAttribute('aria-expanded'), 'true');
  assert.equal(await open.evaluate((b) => b.getRootNode().getElementById(b.getAttribute('aria-controls'))?.getAttribute('role')), 'dialog',
    'the bubble names the panel it opens');
  await input.fill('hello from the launcher');
  await input.press('Enter');
  const mine = page.locator('.hc-list .hc-msg[data-seq]', { hasText: 'hello from the launcher' });
  await mine.waitFor();

  // Escape that closes something in the chat (a message's menu) leaves the
  // panel open; the next one closes it.
  await mine.locator('.hc-more').focus();
  await page.keyboard.press('Enter');
  await mine.locator('[role=menu]').waitFor();
  await page.keyboard.press('Escape');
  await mine.locator('[role=menu]').waitFor({ state: 'detached' });
  assert.equal(await open.getAttribute('aria-expanded'), 'true', 'the panel stayed open');
  // Inside the launcher's own shadow root, a click on the message keeps its
  // menu open; a click on the shop's page closes it (the panel stays).
  await mine.locator('.hc-more').click();
  await mine.locator('.hc-text').click();
  assert.equal(await mine.locator('[role=menu]').count(), 1, 'still open after a click on its own message');
  await page.locator('h1').click();
  await mine.locator('[role=menu]').waitFor({ state: 'detached', timeout: 2000 });
  assert.equal(await open.getAttribute('aria-expanded'), 'true', 'the panel stayed open');
  await mine.locator('.hc-more').focus();

  // Closed: messages from others count on the bubble.
  await page.keyboard.press('Escape');
  assert.equal(await page.evaluate(() => document.querySelector('[data-hello-chat-launcher-host]').shadowRoot.activeElement?.className), 'b', 'focus back on the bubble');
  assert.equal(await open.getAttribute('aria-label'), 'Open chat');
  const bo = await join(room, 'Bo');
  for (const [i, text] of ['are you there?', 'hello?'].entries()) {
    bo.send({ type: 'send', id: `b${i}`, message: text });
    await bo.next('ack');
  }
  await page.getByRole('button', { name: 'Open chat, 2 unread' }).waitFor();
  await page.getByRole('button', { name: 'Open chat, 2 unread' }).click();
  // Shown in the open panel: read.
  await page.waitForFunction(() => document.querySelector('[data-hello-chat-launcher]').helloChat.unread === 0);
  await bo.close();
  await page.context().close();
});

test('a launcher with a bad room is refused at once: no bubble to open an empty panel; said once', async () => {
  const page = await (await browser.newContext()).newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${BASE}/health`);
  await page.setContent(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>shop</title></head>
    <body><div id="bad" data-hello-chat-launcher data-room="bad room!"></div><div id="ok" data-hello-chat-launcher data-room="${uniqueRoom('ok')}"></div>
    <script src="/hello-chat-launcher.js"></script></body></html>`);
  await page.waitForFunction(() => document.getElementById('ok').helloChat);
  for (let i = 0; i < 20 && errors.length === 0; i++) await page.waitForTimeout(100);
  assert.deepEqual(errors, ['HelloChat.launcher: room "bad room!" must be 1-64 characters of A-Z a-z 0-9 _ -']);
  assert.equal(await page.evaluate(() => document.getElementById('bad').helloChat), null);
  assert.equal(await page.locator('[data-hello-chat-launcher-host]').count(), 1, 'one bubble, the good one\'s');
  const thrown = await page.evaluate(() => { try { HelloChat.launcher({ room: 'x', server: 'chat.example.com' }); return null; } catch (err) { return err.message; } });
  assert.equal(thrown, 'HelloChat.launcher: server "chat.example.com" must start with https:// or http://');
  await page.context().close();
});

test('the full embed loaded before the launcher loader: the marked element still gets its bubble', async () => {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${BASE}/health`);
  await page.setContent(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>shop</title></head>
    <body><div data-hello-chat-launcher data-room="${uniqueRoom('order')}"></div>
    <script src="/hello-chat.js"></script><script src="/hello-chat-launcher.js"></script></body></html>`);
  await page.waitForFunction(() => document.querySelector('[data-hello-chat-launcher]').helloChat, null, { timeout: 5000 });
  assert.equal(await page.locator('[data-hello-chat-launcher-host]').count(), 1);
  await page.context().close();
});

test('on a phone the open panel fills the screen, with a close button of at least 44 px', async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true });
  const { page } = await shop(context, uniqueRoom('phone'));
  await page.getByRole('button', { name: 'Open chat' }).tap();
  await page.locator('.hc-input').waitFor();
  const box = await page.evaluate(() => {
    const root = document.querySelector('[data-hello-chat-launcher-host]').shadowRoot;
    const p = root.querySelector('.p').getBoundingClientRect();
    const x = root.querySelector('.x').getBoundingClientRect();
    return { w: p.width, h: p.height, closeW: x.width, closeH: x.height };
  });
  assert.deepEqual([box.w, box.h], [375, 667], JSON.stringify(box));
  assert.ok(box.closeW >= 44 && box.closeH >= 44, JSON.stringify(box));
  await page.getByRole('button', { name: 'Close chat' }).tap();
  await context.close();
});

test('on a phone the widget fills the open panel and the bubble is hidden until it closes', async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true });
  const { page } = await shop(context, uniqueRoom('phonefill'));
  const bubble = page.locator('[data-hello-chat-launcher-host] .b');
  await page.getByRole('button', { name: 'Open chat' }).tap();
  await page.locator('.hc-input').waitFor();
  const layout = () => page.evaluate(() => {
    const root = document.querySelector('[data-hello-chat-launcher-host]').shadowRoot;
    const widget = root.querySelector('[data-hello-chat-host]').shadowRoot;
    const box = (el) => { const b = el.getBoundingClientRect(); return { top: b.top, bottom: b.bottom, height: b.height }; };
    const send = widget.querySelector('.hc-send').getBoundingClientRect();
    // What a tap on Send would hit, through both shadow roots.
    let hit = document.elementFromPoint(send.x + send.width / 2, send.y + send.height / 2);
    while (hit?.shadowRoot) hit = hit.shadowRoot.elementFromPoint(send.x + send.width / 2, send.y + send.height / 2) ?? hit;
    return {
      strip: box(root.querySelector('.h')), widget: box(widget.querySelector('.hc')),
      bubbleShown: root.querySelector('.b').checkVisibility(), sendHit: hit?.className,
    };
  });
  const open = await layout();
  assert.ok(Math.abs(open.widget.top - open.strip.bottom) <= 1 && Math.abs(open.widget.bottom - 667) <= 1,
    `the widget fills the panel below its close strip: ${JSON.stringify(open)}`);
  assert.equal(open.bubbleShown, false, 'the bubble is hidden while the panel covers the screen');
  assert.match(String(open.sendHit), /hc-send/, 'nothing covers Send');

  // Closing (Escape, then the close button) brings the bubble back, focused.
  const focused = () => page.evaluate(() => document.querySelector('[data-hello-chat-launcher-host]').shadowRoot.activeElement?.className);
  await page.keyboard.press('Escape');
  assert.equal((await layout()).bubbleShown, true);
  assert.equal(await focused(), 'b', 'focus back on the bubble');
  await bubble.tap();
  await page.getByRole('button', { name: 'Close chat' }).tap();
  assert.equal((await layout()).bubbleShown, true);
  assert.equal(await focused(), 'b', 'focus back on the bubble');
  await context.close();
});

test('on a desktop the widget keeps its height in the panel: 420 px, or the height option (at least 240)', async () => {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  for (const [extra, height] of [['', 420], ['data-height="300"', 300], ['data-height="100"', 240]]) {
    const { page } = await shop(context, uniqueRoom('desk'), extra);
    await page.evaluate(() => document.querySelector('[data-hello-chat-launcher]').helloChat.open());
    await page.locator('.hc-input').waitFor();
    const box = await page.evaluate(() => {
      const root = document.querySelector('[data-hello-chat-launcher-host]').shadowRoot;
      const b = root.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc').getBoundingClientRect();
      const p = root.querySelector('.p').getBoundingClientRect();
      return { height: b.height, inPanel: b.bottom <= p.bottom, bubble: root.querySelector('.b').checkVisibility() };
    });
    assert.deepEqual(box, { height, inPanel: true, bubble: true }, extra);
    await page.close();
  }
  await context.close();
});

test('the panel and its close button follow the widget\'s theme, light and dark, legibly', async () => {
  // [system scheme, theme option, expected widget theme]
  for (const [scheme, theme] of [['light', ''], ['dark', ''], ['light', 'dark'], ['dark', 'light']]) {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 }, colorScheme: scheme });
    const { page } = await shop(context, uniqueRoom('theme'), theme ? `data-theme="${theme}"` : '');
    await page.evaluate(() => document.querySelector('[data-hello-chat-launcher]').helloChat.open());
    await page.locator('.hc-input').waitFor();
    const colours = await page.evaluate(() => {
      const root = document.querySelector('[data-hello-chat-launcher-host]').shadowRoot;
      const rgb = (c) => c.match(/[\d.]+/g).slice(0, 3).map(Number);
      const lum = (c) => {
        const [r, g, b] = rgb(c).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      const strip = getComputedStyle(root.querySelector('.p')).backgroundColor;
      const x = getComputedStyle(root.querySelector('.x')).color;
      const widget = getComputedStyle(root.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc')).backgroundColor;
      const [hi, lo] = [lum(strip), lum(x)].sort((a, b) => b - a);
      return { strip, x, widget, contrast: (hi + 0.05) / (lo + 0.05) };
    });
    const dark = (theme || scheme) === 'dark';
    const label = `${scheme} system, theme "${theme}": ${JSON.stringify(colours)}`;
    assert.equal(colours.strip, colours.widget, `the strip matches the widget: ${label}`);
    assert.equal(colours.strip === 'rgb(255, 255, 255)', !dark, label);
    assert.ok(colours.contrast >= 4.5, `the close button is legible: ${label}`);
    await context.close();
  }
});

test('at 200% zoom on a laptop (640×360) the open panel is all on screen, its close button in sight and focused', async () => {
  const context = await browser.newContext({ viewport: { width: 640, height: 360 } });
  const { page } = await shop(context, uniqueRoom('zoom'));
  await page.evaluate(() => document.querySelector('[data-hello-chat-launcher]').helloChat.open());
  await page.locator('.hc-input').waitFor();
  const seen = await page.evaluate(() => {
    const root = document.querySelector('[data-hello-chat-launcher-host]').shadowRoot;
    const p = root.querySelector('.p').getBoundingClientRect();
    const x = root.querySelector('.x').getBoundingClientRect();
    const send = root.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-send').getBoundingClientRect();
    return { top: p.top, bottom: p.bottom, closeTop: x.top, sendBottom: send.bottom, focused: root.activeElement?.className };
  });
  assert.ok(seen.top >= 0 && seen.closeTop >= 0 && seen.bottom <= 360 && seen.sendBottom <= 360, JSON.stringify(seen));
  assert.equal(seen.focused, 'x');
  await context.close();
});

test('a panel that covers the screen is modal: Tab stays in it and the page under it is inert until it closes', async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 667 } });
  const { page } = await shop(context, uniqueRoom('modal'));
  await page.evaluate(() => { const a = document.createElement('a'); a.href = '#under'; a.textContent = 'under'; document.querySelector('h1').append(a); });
  await page.evaluate(() => document.querySelector('[data-hello-chat-launcher]').helloChat.open());
  await page.locator('.hc-input').waitFor();
  const panel = await page.evaluate(() => document.querySelector('[data-hello-chat-launcher-host]').shadowRoot.querySelector('.p').getAttribute('aria-modal'));
  assert.equal(panel, 'true');
  // Tab through everything in the panel and a little more: never onto the page.
  const outside = [];
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    const where = await page.evaluate(() => document.activeElement?.tagName === 'A' ? 'the page link' : null);
    if (where) outside.push(where);
  }
  assert.deepEqual(outside, [], 'focus never went under the panel');
  assert.equal(await page.evaluate(() => document.querySelector('h1').inert), true);
  // The window grows (zoomed back): the panel floats again, and the page is usable.
  await page.setViewportSize({ width: 1200, height: 800 });
  await page.waitForFunction(() => !document.querySelector('h1').inert);
  await page.setViewportSize({ width: 375, height: 667 });
  await page.waitForFunction(() => document.querySelector('h1').inert);
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.querySelector('h1').inert);
  await context.close();
});

test('under a CSP without \'unsafe-inline\' styles the bubble still looks and sits like a bubble', async () => {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const page = await context.newPage();
  const violations = [];
  page.on('console', (m) => { if (/Content Security Policy/.test(m.text())) violations.push(m.text()); });
  await page.route(`${BASE}/shop`, (route) => route.fulfill({
    contentType: 'text/html',
    headers: { 'Content-Security-Policy': `default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self' ${BASE.replace('http', 'ws')}; img-src 'self' blob: data:` },
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>shop</title></head>
      <body><h1>Shop</h1><div data-hello-chat-launcher data-room="${uniqueRoom('csp')}"></div><script src="/hello-chat-launcher.js"></script></body></html>`,
  }));
  await page.goto(`${BASE}/shop`);
  await page.waitForFunction(() => document.querySelector('[data-hello-chat-launcher]')?.helloChat);
  const bubble = await page.evaluate(() => {
    const b = document.querySelector('[data-hello-chat-launcher-host]').shadowRoot.querySelector('.b');
    const r = b.getBoundingClientRect();
    return { position: getComputedStyle(b).position, width: r.width, height: r.height };
  });
  assert.deepEqual(bubble, { position: 'fixed', width: 60, height: 60 });
  assert.deepEqual(violations, []);
  await context.close();
});
