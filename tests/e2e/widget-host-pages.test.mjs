// The widget and the launcher inside strangers' pages, in real Chromium
// against the real worker: host CSS that styles every `div` (the widget's
// host element is one), a body that is transformed or zoomed (position:fixed
// then follows the body, not the screen), a fixed header of the highest
// z-index over the phone's full-screen panel, Trusted Types enforced by the
// page's CSP, a polluted Object.prototype, and a widget mounted into another
// document (an iframe's, or a Document Picture-in-Picture window's).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { BASE, launchBrowser, uniqueRoom, widgetPage } from './helpers.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** A page on the server's origin with `head` and `body` (scripts included). */
async function hostPage(context, head, body) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.errors = errors;
  await page.goto(`${BASE}/health`);
  await page.setContent(`<!doctype html><html lang="en"><head><meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1"><title>host</title>${head}</head><body>${body}</body></html>`);
  return page;
}

/** The launcher's element, bubble, panel and close button, as the visitor sees them. */
const launcherBoxes = (page) => page.evaluate(() => {
  const root = document.querySelector('[data-hello-chat-launcher-host]').shadowRoot;
  const box = (s) => { const r = root.querySelector(s).getBoundingClientRect(); return { top: Math.round(r.top), bottom: Math.round(r.bottom), left: Math.round(r.left), right: Math.round(r.right) }; };
  return { bubble: box('.b'), panel: box('.p'), close: box('.x'), vw: innerWidth, vh: innerHeight };
});

test('a host stylesheet that styles every div does not restyle the text inside the widget', async () => {
  // Inherited properties set on the widget's host element (a div in the
  // page, which page rules beat `:host` on) flow into the shadow tree.
  const props = ['letter-spacing', 'word-spacing', 'text-transform', 'text-align', 'text-indent', 'text-shadow',
    '-webkit-text-fill-color', 'word-break', 'user-select', 'pointer-events', 'cursor'];
  const styles = async (css) => {
    const context = await browser.newContext();
    const page = await widgetPage(context, { room: uniqueRoom('css'), name: 'Ada' }, {
      body: `<style>${css}</style><div id="chat"></div>`,
    });
    await page.evaluate(() => window.chat.send('hello from a styled page'));
    await page.locator('.hc-list .hc-msg[data-seq] .hc-text').waitFor();
    const seen = await page.evaluate((props) => {
      const root = document.querySelector('[data-hello-chat-host]').shadowRoot;
      const out = {};
      for (const s of ['.hc-title', '.hc-text', '.hc-input', '.hc-send']) {
        const c = getComputedStyle(root.querySelector(s));
        for (const p of props) out[`${s} ${p}`] = c.getPropertyValue(p);
      }
      return out;
    }, props);
    await context.close();
    return seen;
  };
  const plain = await styles('');
  const styled = await styles(`div { letter-spacing: .3em; word-spacing: 1em; text-transform: uppercase; text-align: center;
    text-indent: 3em; text-shadow: 1px 1px 2px red; -webkit-text-fill-color: transparent; word-break: break-all;
    user-select: none; pointer-events: none; cursor: wait }`);
  const changed = Object.keys(plain).filter((k) => plain[k] !== styled[k]).map((k) => `${k}: ${plain[k]} -> ${styled[k]}`);
  assert.deepEqual(changed, [], 'the page\'s div rules reached the widget\'s text and controls');

  // The widget's own language still decides how its text renders (which
  // glyphs a Japanese font draws, hyphenation): Chromium's locale of its lang.
  const context = await browser.newContext();
  const page = await widgetPage(context, { room: uniqueRoom('ja'), name: 'Aiko', locale: 'ja' }, {
    body: '<style>div { letter-spacing: .3em }</style><div id="chat"></div>',
  });
  await page.locator('.hc-input').waitFor();
  assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-input')).webkitLocale), '"ja"');
  await context.close();
});

test('a widget in a container the page hides with visibility: hidden (a closed drawer) is hidden too: not seen, not focusable', async () => {
  // Bootstrap's offcanvas and many drawers close with visibility: hidden
  // (and a transition): the chat in one must not stay on screen or in the Tab order.
  const context = await browser.newContext();
  const page = await widgetPage(context, { room: uniqueRoom('drawer'), name: 'Ada' }, {
    body: '<button id="before">Menu</button><aside id="drawer" style="visibility: hidden"><h2>Help</h2><div id="chat"></div></aside><a href="#after" id="after">After</a>',
  });
  await page.locator('.hc-input').waitFor({ state: 'attached' });
  const seen = await page.evaluate(() => {
    const input = document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-input');
    return { visibility: getComputedStyle(input).visibility, visible: input.checkVisibility({ visibilityProperty: true }) };
  });
  assert.deepEqual(seen, { visibility: 'hidden', visible: false });
  await page.focus('#before');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'after', 'Tab went past the hidden chat');
  // Opened: the chat shows and works.
  await page.evaluate(() => { document.getElementById('drawer').style.visibility = 'visible'; });
  await page.locator('.hc-input').fill('the drawer is open');
  await page.locator('.hc-input').press('Enter');
  await page.locator('.hc-list .hc-msg[data-seq]', { hasText: 'the drawer is open' }).waitFor();
  await context.close();
});

test('the launcher stays in the corner of the screen when the page transforms, contains or zooms its body', async () => {
  // position:fixed inside a transformed (or contained) body is fixed to the
  // body, not the screen: a bubble at the bottom of a long page, off screen.
  for (const css of ['body { transform: translateZ(0) }', 'body { will-change: transform }', 'body { contain: paint }', 'body { zoom: 1.5 }']) {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    const page = await hostPage(context, `<style>${css}</style>`,
      `<h1>Shop</h1><div style="height: 3000px"></div><div data-hello-chat-launcher data-room="${uniqueRoom('fixed')}"></div>
      <script src="/hello-chat-launcher.js"></script>`);
    await page.waitForFunction(() => document.querySelector('[data-hello-chat-launcher]')?.helloChat);
    await page.evaluate(() => window.scrollTo(0, 1500));
    await page.evaluate(() => document.querySelector('[data-hello-chat-launcher]').helloChat.open());
    await page.locator('.hc-input').waitFor();
    const seen = await launcherBoxes(page);
    const on = (b) => b.top >= 0 && b.left >= 0 && b.bottom <= seen.vh && b.right <= seen.vw;
    assert.ok(on(seen.bubble) && on(seen.panel) && on(seen.close), `${css}: ${JSON.stringify(seen)}`);
    await context.close();
  }
});

test('on a phone, the open panel is drawn over a page header of the highest z-index: its close button is seen', async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true });
  const page = await hostPage(context,
    '<style>header { position: fixed; top: 0; left: 0; right: 0; height: 64px; background: #333; z-index: 2147483647 }</style>',
    `<header>Site</header><div data-hello-chat-launcher data-room="${uniqueRoom('zindex')}"></div><script src="/hello-chat-launcher.js"></script>`);
  await page.waitForFunction(() => document.querySelector('[data-hello-chat-launcher]')?.helloChat);
  await page.getByRole('button', { name: 'Open chat' }).tap();
  await page.locator('.hc-input').waitFor();
  // What is painted at the close button's centre. (The page under the modal
  // panel is inert, and inert elements are left out of hit testing: made
  // hit-testable again for this one look, as the eye sees it.)
  const painted = await page.evaluate(() => {
    const header = document.querySelector('header');
    const x = document.querySelector('[data-hello-chat-launcher-host]').shadowRoot.querySelector('.x').getBoundingClientRect();
    header.inert = false;
    const hit = document.elementFromPoint(x.x + x.width / 2, x.y + x.height / 2);
    header.inert = true;
    return hit?.tagName;
  });
  assert.equal(painted, 'DIV', `the close button is under the page's <${painted?.toLowerCase()}>`);
  await context.close();
});

test('a page that enforces Trusted Types still gets its chat bubble, and the panel opens', async () => {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const page = await hostPage(context,
    `<meta http-equiv="Content-Security-Policy" content="require-trusted-types-for 'script'; trusted-types 'none'">`,
    `<div id="l" data-hello-chat-launcher data-room="${uniqueRoom('tt')}" data-name="Tess"></div><script src="/hello-chat-launcher.js"></script>`);
  await page.waitForFunction(() => document.getElementById('l').helloChat !== undefined);
  assert.deepEqual(page.errors, []);
  const bubble = page.locator('[data-hello-chat-launcher-host] .b');
  await page.getByRole('button', { name: 'Open chat' }).click();
  await page.locator('.hc-input').waitFor();
  assert.equal(await bubble.getAttribute('aria-expanded'), 'true');
  // The widget (loaded without a script element's URL, which the page refuses) connects.
  await page.locator('.hc-online', { hasText: '1 online' }).waitFor();
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('a polluted Object.prototype cannot point an auto-mounted widget at another server', async () => {
  // Client-side prototype pollution (a query-string parser, a deep merge)
  // sets `Object.prototype.server`: auto-mounted widgets must still talk to
  // the server the script came from (as for a `data-server` in markup).
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${BASE}/health`);
  const socket = page.waitForEvent('websocket');
  await page.setContent(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>host</title>
    <script>Object.prototype.server = 'http://chat.evil.invalid';</script></head>
    <body><div id="chat" data-hello-chat data-room="${uniqueRoom('proto')}" data-name="Ada"></div><script src="/hello-chat.js"></script></body></html>`);
  const url = (await socket).url();
  assert.ok(url.startsWith(`${BASE.replace(/^http/, 'ws')}/ws?`), `the widget's socket went to ${url}`);
  await context.close();
});

test('a widget mounted into another document (an iframe\'s, a Picture-in-Picture window\'s) answers keys and clicks', async () => {
  const context = await browser.newContext();
  const page = await hostPage(context, '', '<iframe id="f" style="width: 600px; height: 500px" srcdoc="<div id=chat></div>"></iframe><script src="/hello-chat.js"></script>');
  await page.waitForFunction(() => window.HelloChat && document.getElementById('f').contentDocument?.getElementById('chat'));
  await page.evaluate((room) => {
    window.chat = HelloChat.mount(document.getElementById('f').contentDocument.getElementById('chat'), { room, name: 'Pip' });
    window.chat.send('first');
  }, uniqueRoom('pip'));
  const frame = page.frameLocator('#f');
  await frame.locator('.hc-list .hc-msg[data-seq]').waitFor();
  await frame.locator('.hc-input').fill('sent with Enter');
  await frame.locator('.hc-input').press('Enter');
  assert.equal(await frame.locator('.hc-input').inputValue(), '', 'Enter sent the message');
  await frame.locator('.hc-list .hc-msg[data-seq] .hc-more').first().click();
  assert.equal(await frame.locator('[role=menu]').count(), 1, 'the message menu opened');
  await context.close();
});

test('the README\'s Content Security Policy, as written, lets the widget run whole: no violation, files attachable', async () => {
  // The policy of the README's first CSP block, for a chat server at BASE.
  const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const block = readme.split('## Content Security Policy')[1].split('```')[1];
  const host = new URL(BASE).host;
  const csp = block.trim().split('\n').map((l) => l.trim().replace(/;$/, '')).join('; ')
    .replaceAll('https://chat.example.com', `http://${host}`).replaceAll('wss://chat.example.com', `ws://${host}`);
  assert.match(csp, /img-src/);
  const context = await browser.newContext();
  const page = await context.newPage();
  const violations = [];
  page.on('console', (m) => { if (/Content Security Policy/.test(m.text())) violations.push(m.text()); });
  const room = uniqueRoom('readmecsp');
  // (A page of the server's origin, its policy in a <meta>: a page fulfilled
  // by the test would count as public, and its socket to 127.0.0.1 be blocked.)
  await page.goto(`${BASE}/health`);
  await page.setContent(`<!doctype html><html lang="en"><head><meta charset="utf-8">
    <meta http-equiv="Content-Security-Policy" content="${csp}"><title>host</title></head>
    <body><div data-hello-chat data-room="${room}" data-name="Ada"></div><script src="${BASE}/hello-chat.js"></script></body></html>`);
  await page.locator('.hc-online', { hasText: '1 online' }).waitFor();
  const attach = page.getByRole('button', { name: 'Attach files' });
  await attach.waitFor();
  await page.locator('.hc-composer input[type="file"]').setInputFiles({ name: 'a.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await page.locator('.hc-tray .hc-staged[data-state="ready"]').waitFor({ timeout: 10000 });
  await page.waitForTimeout(300);
  assert.deepEqual(violations, []);
  await context.close();
});
