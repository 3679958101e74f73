// Languages in real Chromium: the widget fetches the strings of its locale
// only (and nothing for English), plural forms follow Intl.PluralRules, the
// page's own `strings` win, and Arabic lays the widget out right to left.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser, uniqueRoom, waitForStatus, widgetPage } from './helpers.mjs';

const locale = (lang) => JSON.parse(fs.readFileSync(path.resolve(`sdk/locales/${lang}.json`), 'utf8'));
const shadowText = (page, selector) => page.evaluate((s) => document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector(s)?.textContent, selector);
const shadowAttr = (page, selector, name) => page.evaluate(([s, n]) => document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector(s)?.getAttribute(n), [selector, name]);

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** A widget page that records which locale files it fetched. */
async function open(options) {
  const context = await browser.newContext();
  const fetched = [];
  context.on('request', (r) => { if (r.url().includes('/locales/')) fetched.push(new URL(r.url()).pathname); });
  const page = await widgetPage(context, options);
  await waitForStatus(page, 'connected');
  return { page, fetched };
}

test('a German widget fetches German strings only; plural forms follow the locale; the page\'s strings win', async () => {
  const de = locale('de');
  const room = uniqueRoom('locale');
  const { page, fetched } = await open({ room, name: 'Ada', locale: 'de-DE', strings: { send: 'Los!' } });
  assert.deepEqual(fetched, ['/locales/de.json'], 'one language file, no other');
  assert.equal(await shadowAttr(page, '.hc-input', 'placeholder'), de.placeholder);
  assert.equal(await shadowText(page, '.hc-send'), 'Los!', 'the page\'s own strings override the language file');
  assert.equal(await shadowAttr(page, '[data-theme]', 'lang'), 'de-DE');
  const one = (de['online.one'] ?? de.online).replace('{n}', '1');
  await page.waitForFunction((t) => document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-online')?.textContent === t, one);

  // Russian has four plural categories: 2 people online is "few".
  const ru = locale('ru');
  const other = await open({ room, name: 'Bo', locale: 'ru' });
  const few = (ru['online.few'] ?? ru.online).replace('{n}', '2');
  await other.page.waitForFunction((t) => document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-online')?.textContent === t, few);
  assert.deepEqual(other.fetched, ['/locales/ru.json']);

  const en = await open({ room, name: 'Cy', locale: 'en-GB' });
  assert.deepEqual(en.fetched, [], 'English is built in: nothing to fetch');

  // The page's text wins over the language file's plural forms of it; the
  // page may give plural forms alone.
  const online = (p) => p.evaluate(() => document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-online')?.textContent);
  const solo = uniqueRoom('plural');
  const pl = await open({ room: solo, name: 'Di', locale: 'pl', strings: { online: '{n} tutaj' } });
  await pl.page.waitForFunction(() => document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-online')?.textContent);
  assert.equal(await online(pl.page), '1 tutaj');
  const forms = await open({ room: uniqueRoom('plural'), name: 'Ed', locale: 'en', strings: { 'online.one': 'just you', 'online.other': '{n} here' } });
  await forms.page.waitForFunction(() => document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-online')?.textContent);
  assert.equal(await online(forms.page), 'just you');
  await Promise.all([page, other.page, en.page, pl.page, forms.page].map((p) => p.context().close()));
});

test('Arabic lays the widget out right to left; own messages sit on the left', async () => {
  const room = `rtl-${Date.now().toString(36)}`;
  const { page } = await open({ room, name: 'سارة', locale: 'ar' });
  const bo = await open({ room, name: 'Bo', locale: 'en' });
  await bo.page.evaluate(() => window.chat.send('Hello from the other side'));
  await page.evaluate(() => window.chat.send('مرحبا بالجميع'));
  const msgs = page.locator('.hc-list .hc-msg[data-seq]');
  await msgs.nth(1).waitFor();
  assert.equal(await shadowAttr(page, '[data-theme]', 'dir'), 'rtl');
  const boxes = await page.evaluate(() => {
    const root = document.querySelector('[data-hello-chat-host]').shadowRoot;
    const list = root.querySelector('.hc-list').getBoundingClientRect();
    return [...root.querySelectorAll('.hc-list .hc-msg[data-seq]')].map((li) => {
      const r = li.getBoundingClientRect();
      return { own: li.classList.contains('hc-own'), left: r.left - list.left, right: list.right - r.right };
    });
  });
  const own = boxes.find((b) => b.own);
  const theirs = boxes.find((b) => !b.own);
  assert.ok(own.left < own.right, `own message on the left in RTL: ${JSON.stringify(own)}`);
  assert.ok(theirs.right < theirs.left, `others' messages on the right in RTL: ${JSON.stringify(theirs)}`);
  // The actions menu runs right to left too: ArrowLeft goes to the item on the left, the next one.
  const mine = page.locator('.hc-list .hc-msg.hc-own');
  await mine.locator('.hc-more').click();
  const items = mine.locator('.hc-menu > *');
  await items.first().focus();
  const focusedAt = () => page.evaluate(() => {
    const active = document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement;
    return [...active.parentElement.children].indexOf(active);
  });
  await page.keyboard.press('ArrowLeft');
  assert.equal(await focusedAt(), 1, 'ArrowLeft: the item on the left of the first, the second');
  await page.keyboard.press('ArrowRight');
  assert.equal(await focusedAt(), 0, 'ArrowRight: back');
  await page.keyboard.press('Escape');
  await page.setViewportSize({ width: 420, height: 520 });
  await page.locator('[data-hello-chat-host]').screenshot({ path: 'docs/screenshots/widget-rtl.png' });
  await Promise.all([page.context().close(), bo.page.context().close()]);
});
