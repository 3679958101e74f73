// The widget on a phone, in Chromium's mobile emulation (touch, 375×667),
// against the real worker. An on-screen keyboard is simulated by shrinking
// the viewport to 375×367 while the composer has focus: the composer and the
// latest message stay in sight and the page does not scroll; when the
// keyboard closes the layout comes back. Every button is a touch target of
// at least 44×44 px, and inputs keep 16 px text, so focusing one does not zoom.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, createSite, join, launchBrowser, mintToken, uniqueRoom, waitForStatus, widgetPage } from './helpers.mjs';

const PHONE = { viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true };
const KEYBOARD_OPEN = { width: 375, height: 367 };

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** `count` messages in a new room from three writers (the rate limit allows 20 each). */
async function busyRoom(prefix, count) {
  const room = uniqueRoom(prefix);
  const writers = await Promise.all(['Bo', 'Cy', 'Di'].map((name) => join(room, name)));
  for (let i = 1; i <= count; i++) {
    const w = writers[(i - 1) % writers.length];
    w.send({ type: 'send', id: `m${i}`, message: `message ${i}` });
    await w.next('ack');
  }
  return { room, writers };
}

/** A phone-sized page (viewport meta, no margins) with `above` over the widget. */
async function phonePage(context, options, above = '') {
  const page = await context.newPage();
  await page.goto(`${BASE}/health`);
  await page.setContent(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>phone</title>
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <style>body { margin: 0; font: 16px system-ui, sans-serif; } header { height: 60px; }</style></head>
    <body>${above}<div id="chat"></div><script src="/hello-chat.js"></script></body></html>`);
  await page.waitForFunction(() => window.HelloChat);
  await page.evaluate((o) => {
    window.events = [];
    window.chat = HelloChat.mount(document.getElementById('chat'), o);
    for (const e of ['status', 'message']) window.chat.on(e, (d) => window.events.push([e, d]));
  }, options);
  return page;
}

/** Where the widget's parts are, in the coordinates of the visible screen. */
const layout = (page) => page.evaluate(async () => {
  // Let resize events, layout and resize observers run.
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const root = document.querySelector('[data-hello-chat-host]').shadowRoot;
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return { top: Math.round(r.top), bottom: Math.round(r.bottom) };
  };
  const items = root.querySelectorAll('.hc-list .hc-msg');
  const latest = items[items.length - 1];
  return {
    visibleTop: visualViewport.offsetTop,
    visibleBottom: visualViewport.offsetTop + visualViewport.height,
    scrollY: window.scrollY,
    widget: box(root.querySelector('.hc')),
    composer: box(root.querySelector('.hc-composer')),
    log: box(root.querySelector('.hc-log')),
    latest: { ...box(latest), text: latest.querySelector('.hc-text').textContent },
  };
});

function assertInSight(l, what) {
  const info = `${what}: ${JSON.stringify(l)}`;
  assert.ok(l.composer.top >= l.visibleTop && l.composer.bottom <= l.visibleBottom, `composer in sight; ${info}`);
  assert.ok(l.latest.top >= l.log.top && l.latest.bottom <= l.log.bottom + 1, `latest message shown in the list; ${info}`);
  assert.ok(l.log.top >= l.visibleTop && l.latest.bottom <= l.visibleBottom, `latest message on screen; ${info}`);
  assert.equal(l.scrollY, 0, `the page did not scroll; ${info}`);
}

// Two pages: a full-screen chat (`height: '100dvh'`), and a fixed-height one
// under the site's header, which only the visual viewport can keep in sight.
for (const [label, options, above, shot] of [
  ['full screen (100dvh)', { height: '100dvh' }, '', true],
  ['560 px under a 60 px header', { height: 560 }, '<header>Site</header>', false],
]) {
  test(`${label}: with the keyboard open the composer and the latest message stay in sight`, async (t) => {
    const { room, writers } = await busyRoom('phone', 30);
    const context = await browser.newContext(PHONE);
    t.after(() => Promise.all([...writers.map((w) => w.close()), context.close()]));
    const page = await phonePage(context, { room, name: 'Ada', ...options }, above);
    assert.equal(await page.evaluate(() => matchMedia('(pointer: coarse)').matches), true, 'a touch screen');
    await waitForStatus(page, 'connected');
    await page.locator('.hc-list .hc-text', { hasText: 'message 30' }).waitFor();
    const closed = await layout(page);
    assertInSight(closed, 'before');
    assert.ok(closed.widget.bottom <= 667);

    await page.locator('.hc-input').tap();
    await page.setViewportSize(KEYBOARD_OPEN);
    const open = await layout(page);
    assertInSight(open, 'keyboard open');
    assert.equal(open.latest.text, 'message 30');
    assert.ok(open.widget.bottom <= KEYBOARD_OPEN.height, JSON.stringify(open));
    assert.equal(await page.evaluate(() => document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement?.className),
      'hc-input', 'the composer keeps focus');

    // A message arriving while typing shows at the bottom; a sent one too.
    writers[0].send({ type: 'send', id: 'late', message: 'arrived while typing' });
    await page.locator('.hc-list .hc-text', { hasText: 'arrived while typing' }).waitFor();
    assertInSight(await layout(page), 'a message arrived');
    await page.locator('.hc-input').fill('typed on the phone');
    await page.locator('.hc-input').press('Enter');
    // Delivered, not pending in the outbox (an .hc-list too): the list as it settles.
    await page.locator('.hc-list:not(.hc-outbox) .hc-own', { hasText: 'typed on the phone' }).waitFor();
    const sent = await layout(page);
    assertInSight(sent, 'a message sent');
    assert.equal(sent.latest.text, 'typed on the phone');
    if (shot) {
      await page.locator('.hc-input').fill('See you there!');
      await page.screenshot({ path: 'docs/screenshots/widget-phone-keyboard.png' });
    }

    // The keyboard closes: the widget is as tall as before, still at the bottom.
    await page.setViewportSize(PHONE.viewport);
    const reopened = await layout(page);
    assertInSight(reopened, 'keyboard closed');
    assert.deepEqual(reopened.widget, closed.widget);
    assert.deepEqual(reopened.composer, closed.composer);
  });
}

/** Every visible button in the widget smaller than 44×44 px, with its class. */
async function smallButtons(page) {
  const small = [];
  for (const button of await page.locator('[data-hello-chat-host] button:visible').all()) {
    const box = await button.boundingBox();
    if (box.width < 44 || box.height < 44) {
      small.push(`${await button.getAttribute('class')} ${Math.round(box.width)}×${Math.round(box.height)}`);
    }
  }
  return small;
}

/** The classes of the visible buttons, to see that a check covered them. */
const buttonClasses = (page) => page.locator('[data-hello-chat-host] button:visible')
  .evaluateAll((all) => [...new Set(all.map((b) => b.className))]);

test('on a touch screen every button is at least 44×44 px and inputs use 16 px text', async (t) => {
  // 60 messages: 50 shown, so "Load earlier" is offered.
  const { room, writers } = await busyRoom('touch', 60);
  const context = await browser.newContext(PHONE);
  t.after(() => Promise.all([...writers.map((w) => w.close()), context.close()]));
  const page = await phonePage(context, { room, name: 'Ada', height: '100dvh', notify: { sound: true, desktop: true } });
  await waitForStatus(page, 'connected');
  await page.locator('.hc-list .hc-text', { hasText: 'message 60' }).waitFor();
  const seen = new Set();
  const check = async (when) => {
    assert.deepEqual(await smallButtons(page), [], `buttons under 44 px ${when}`);
    for (const c of await buttonClasses(page)) seen.add(c);
  };
  await check('at first');

  // The actions menu, a reaction chip, the reply bar's Cancel, a reply's quote.
  const last = page.locator('.hc-list .hc-msg', { hasText: 'message 60' });
  await last.locator('.hc-more').tap();
  await page.locator('[role=menu]').waitFor();
  await check('with the menu open');
  await page.getByRole('menuitem', { name: 'React with 👍' }).tap();
  await last.locator('.hc-chip').waitFor();
  await last.locator('.hc-more').tap();
  await page.getByRole('menuitem', { name: 'Reply' }).tap();
  await page.locator('.hc-replybar:not([hidden])').waitFor();
  await check('with a reply being written');
  await page.locator('.hc-input').fill('a reply');
  await page.locator('.hc-input').press('Enter');
  await page.locator('.hc-list .hc-own .hc-quote').waitFor();

  // A staged file (remove button, description field), then an image sent and opened.
  const image = await page.evaluate(async () => {
    const c = document.createElement('canvas');
    c.width = 200;
    c.height = 120;
    c.getContext('2d').fillRect(0, 0, 200, 120);
    const blob = await new Promise((r) => c.toBlob(r, 'image/png'));
    let s = '';
    for (const b of new Uint8Array(await blob.arrayBuffer())) s += String.fromCharCode(b);
    return btoa(s);
  });
  await page.locator('[data-hello-chat-host] input[type=file]').setInputFiles(
    { name: 'photo.png', mimeType: 'image/png', buffer: Buffer.from(image, 'base64') });
  await page.locator('.hc-tray .hc-staged[data-state="ready"]').waitFor();
  await check('with a file staged');
  const fields = await page.locator('[data-hello-chat-host] textarea:visible, [data-hello-chat-host] input:visible')
    .evaluateAll((all) => all.map((el) => {
      const r = el.getBoundingClientRect();
      return { class: el.className, font: parseFloat(getComputedStyle(el).fontSize), height: r.height };
    }));
  assert.ok(fields.length >= 2, JSON.stringify(fields));
  for (const f of fields) {
    assert.ok(f.font >= 16, `16 px text or more, so focusing does not zoom: ${JSON.stringify(f)}`);
    assert.ok(f.height >= 44, `44 px tall: ${JSON.stringify(f)}`);
  }
  await page.locator('.hc-input').press('Enter');
  await page.locator('.hc-list .hc-own .hc-thumb img').waitFor({ timeout: 15000 });
  await page.locator('.hc-list .hc-own .hc-thumb').tap();
  await page.locator('.hc-viewer').waitFor();
  await check('with the image viewer open');
  await page.locator('.hc-viewer .hc-close').tap();
  await page.locator('.hc-viewer').waitFor({ state: 'detached' });

  // Scrolled up, a new message shows the pill.
  await page.locator('.hc-log').evaluate((el) => { el.scrollTop = 0; });
  writers[0].send({ type: 'send', id: 'late', message: 'a late message' });
  await page.locator('.hc-pill').waitFor();
  await check('with the pill shown');

  for (const c of ['hc-toggle', 'hc-earlier', 'hc-attach', 'hc-send', 'hc-more', 'hc-item', 'hc-item hc-emoji',
    'hc-chip', 'hc-link', 'hc-quote', 'hc-unstage', 'hc-thumb', 'hc-close', 'hc-pill']) {
    assert.ok(seen.has(c), `${c} was checked (seen: ${[...seen].join(', ')})`);
  }
});

test('at 200% zoom on a laptop (a 400 px high window) the widget fits the window: header and composer in view at once', async () => {
  const context = await browser.newContext({ viewport: { width: 640, height: 400 } });
  const page = await widgetPage(context, { room: uniqueRoom('zoom'), name: 'Ada' });
  await waitForStatus(page, 'connected');
  await page.locator('.hc').evaluate((w) => w.scrollIntoView());
  const [header, input] = await Promise.all([page.locator('.hc-header'), page.locator('.hc-input')].map((l) => l.boundingBox()));
  assert.ok(header.y >= 0 && input.y + input.height <= 400, `header at ${header.y}, composer ending at ${input.y + input.height}: not both in the window`);
  await context.close();
});

test('on a 375 px phone only the composer\'s Send is an arrow: the editor\'s Save and a moderator\'s Ban say their word', async () => {
  const SECRET = 'widget-mobile-secret-0123456789abcdef';
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET }, 'wphone');
  const room = uniqueRoom('phone-words');
  const bo = await join(room, 'Bo', { site });
  bo.send({ type: 'send', id: 'b1', message: 'buy followers now' });
  await bo.next('ack');
  const context = await browser.newContext(PHONE);
  const token = mintToken(SECRET, { sub: 'mod-1', name: 'Mo', role: 'moderator', exp: Math.floor(Date.now() / 1000) + 3600 });
  const page = await phonePage(context, { room, site, token });
  await waitForStatus(page, 'connected');
  await page.locator('.hc-input').fill('on my way');
  await page.locator('.hc-input').press('Enter');
  const mine = page.locator('.hc-list .hc-own[data-seq]');
  await mine.waitFor();
  // What a button shows: its word, or (font-size 0) only the arrow drawn before it.
  const shows = (button) => button.evaluate((b) => (getComputedStyle(b).fontSize === '0px' ? 'an arrow' : b.textContent));
  assert.equal(await shows(page.locator('.hc-composer .hc-send')), 'an arrow', 'the composer keeps its narrow Send');
  await page.locator('.hc-input').press('ArrowUp');
  assert.equal(await shows(mine.getByRole('button', { name: 'Save' })), 'Save');
  await page.keyboard.press('Escape');
  const theirs = page.locator('.hc-list .hc-msg[data-seq]', { hasText: 'buy followers now' });
  await theirs.locator('.hc-more').click();
  await theirs.getByRole('menuitem', { name: 'Ban' }).click();
  assert.equal(await shows(theirs.locator('.hc-dialog').getByRole('button', { name: 'Ban' })), 'Ban');
  await Promise.all([bo.close(), context.close()]);
});

test('at 320 px on a touch screen the reply bar keeps whom it answers whole, in English and in Hebrew; the long excerpt gives way', async () => {
  const room = uniqueRoom('phone-replybar');
  const bo = await join(room, 'Bo');
  bo.send({ type: 'send', id: 'b1', message: 'A question about the long weekend plans, what do you think we should do?' });
  await bo.next('ack');
  for (const locale of ['en', 'he']) {
    const context = await browser.newContext({ ...PHONE, viewport: { width: 320, height: 600 } });
    const page = await phonePage(context, { room, name: 'Ada', height: '100dvh', locale });
    await waitForStatus(page, 'connected');
    const theirs = page.locator('.hc-list .hc-msg[data-seq]', { hasText: 'long weekend' });
    await theirs.locator('.hc-more').tap();
    await page.locator('.hc-menu [data-action="reply"]').tap();
    const bar = page.locator('.hc-replyto');
    await bar.waitFor();
    // (Strictly: one pixel short is enough for the ellipsis to eat the name.)
    const cut = await bar.evaluate((label) => [...label.children].map((s) => s.scrollWidth > s.clientWidth));
    assert.deepEqual(cut, [false, true], `${locale}: "${await bar.textContent()}": the name whole, the excerpt cut`);
    await context.close();
  }
  await bo.close();
});

test('at 360 px, a message refused at the bottom of the list keeps its reason and Retry in view', async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true,
    moderation: { words: ['forbidden'], filterAction: 'block' } });
  const room = uniqueRoom('failedview');
  const page = await widgetPage(await browser.newContext({ viewport: { width: 360, height: 640 } }), { room, site, name: 'Ada' });
  await waitForStatus(page, 'connected');
  for (let i = 0; i < 12; i++) {
    await page.locator('.hc-input').fill(`filler ${i}`);
    await page.locator('.hc-input').press('Enter');
  }
  await page.waitForFunction(() => window.events.filter(([e, d]) => e === 'message' && d.own).length === 12);
  // Refused by the room (its word filter, which the widget does not know),
  // as a file over the site's storage would be.
  await page.locator('.hc-input').fill('a forbidden word');
  await page.locator('.hc-input').press('Enter');
  const failed = page.locator('.hc-outbox [data-state="failed"]');
  await failed.waitFor({ timeout: 10000 });
  await page.waitForTimeout(300);
  const inView = await page.evaluate(() => {
    const r = document.querySelector('[data-hello-chat-host]').shadowRoot;
    const log = r.querySelector('.hc-log').getBoundingClientRect();
    const discard = r.querySelector('.hc-outbox [data-state="failed"] [data-action="discard"]').getBoundingClientRect();
    return discard.bottom <= log.bottom + 1 && discard.top >= log.top;
  });
  assert.equal(inView, true, 'Retry and Discard are on screen');
  await page.context().close();
});
