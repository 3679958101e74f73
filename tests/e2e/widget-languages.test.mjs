// The widget in other languages and scripts, in real Chromium against the
// real worker: every language file has every text (with its placeholders
// and the plural forms the language has), a moderator pins and unpins in
// each language, and what an Arabic, German or Japanese visitor sees (at
// 320 px): the reply bar, the pin bar, digits, a refusal's reason in their
// language (`error.<code>` texts, else the room's English words).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createSite, launchBrowser, mintToken, uniqueRoom, waitForStatus, widgetPage, messageItem as item } from './helpers.mjs';

const SECRET = 'widget-languages-secret-0123456789';
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
const LANGS = fs.readdirSync(path.resolve('sdk/locales')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
const locale = (lang) => JSON.parse(fs.readFileSync(path.resolve(`sdk/locales/${lang}.json`), 'utf8'));

/** `[key, english]` pairs of a `const NAME: &[(&str, &str)]` table in sdk/src/strings.rs. */
function table(name) {
  const rs = fs.readFileSync(path.resolve('sdk/src/strings.rs'), 'utf8');
  const start = rs.indexOf(`const ${name}: &[(&str, &str)] = &[`);
  assert.ok(start >= 0, `${name} in strings.rs`);
  const body = rs.slice(start, rs.indexOf('];', start));
  return [...body.matchAll(/\(\s*"([^"]+)",\s*"((?:[^"\\]|\\.)*)",?\s*\)/g)].map((m) => [m[1], m[2]]);
}
/** The codes `ErrorCode::parse` in protocol/src/error.rs knows. */
function errorCodesOfProtocol() {
  const rs = fs.readFileSync(path.resolve('protocol/src/error.rs'), 'utf8');
  const start = rs.indexOf('pub fn parse(');
  assert.ok(start >= 0, 'ErrorCode::parse in error.rs');
  const body = rs.slice(start, rs.indexOf('_ => return None', start));
  return [...body.matchAll(/"([a-z_]+)"\s*=>/g)].map((m) => m[1]);
}
const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

/** The text `key` of `strings` for `n`, as the widget picks it (plural form, else the text). */
const pick = (strings, key, category) => strings[`${key}.${category}`] ?? strings[key];

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

async function open(options, { width = 420 } = {}) {
  const context = await browser.newContext({ viewport: { width, height: 640 } });
  const page = await widgetPage(context, options, { body: '<div id="chat" style="height: 600px"></div>' });
  await waitForStatus(page, 'connected');
  return page;
}

const moderatorSite = () => createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET,
  limits: { addressBurst: 1000, maxConnectionsPerAddress: 100, rateBurst: 100, ratePerSec: 50 } }, 'wlang');
const moderator = (name) => mintToken(SECRET, { sub: `mod-${name}`, name, role: 'moderator', exp: inAnHour() });
const send = async (page, text) => {
  await page.locator('.hc-input').fill(text);
  await page.locator('.hc-input').press('Enter');
};

test('every language file has every English text, with its placeholders, and whole sets of the plural forms its language has', async () => {
  const defaults = table('DEFAULTS');
  const singulars = table('DEFAULTS_ONE').map(([k]) => k);
  assert.ok(defaults.length > 90 && defaults.some(([k]) => k === 'unpin'), 'read DEFAULTS, the pin texts included');
  assert.equal(LANGS.length, 15);
  // The plural categories as the widget's browser names them.
  const page = await browser.newPage();
  const categories = await page.evaluate((langs) => Object.fromEntries(langs.map((l) => [l, new Intl.PluralRules(l).resolvedOptions().pluralCategories])), LANGS);
  await page.close();
  const errorCodes = errorCodesOfProtocol();
  assert.ok(errorCodes.includes('too_long') && errorCodes.includes('invalid_ticket'), 'read ErrorCode::parse');
  const problems = [];
  const errorSets = {};
  for (const lang of LANGS) {
    const strings = locale(lang);
    for (const [key, english] of defaults) {
      const forms = Object.keys(strings).filter((k) => k === key || k.startsWith(`${key}.`));
      if (!forms.length) { problems.push(`${lang}: no ${key}`); continue; }
      const want = placeholders(english);
      for (const form of forms) {
        const got = placeholders(strings[form]);
        // A plural form may spell its number out; nothing else may go.
        const lost = want.filter((v) => !got.includes(v) && !(form !== key && v === 'n'));
        const unknown = got.filter((v) => !want.includes(v));
        if (lost.length) problems.push(`${lang}: ${form} lacks {${lost.join('}, {')}}: "${strings[form]}"`);
        if (unknown.length) problems.push(`${lang}: ${form} has {${unknown.join('}, {')}}, which is never filled in: "${strings[form]}"`);
        if (/\{(?!\w+\})|(?<!\{\w+)\}/.test(strings[form])) problems.push(`${lang}: ${form} has a stray brace: "${strings[form]}"`);
      }
      const given = forms.filter((f) => f !== key).map((f) => f.slice(key.length + 1));
      for (const c of given) if (!categories[lang].includes(c)) problems.push(`${lang}: ${key}.${c}, a form ${lang} does not have`);
      if (given.length && !forms.includes(key)) {
        for (const c of categories[lang]) if (!given.includes(c)) problems.push(`${lang}: ${key} lacks its "${c}" form, and has no text to fall back on`);
      }
      // English says "1 new message": a language with a singular does too,
      // or words it so that any count fits ("Nowe wiadomości: 1").
      if (singulars.includes(key) && categories[lang].includes('one') && !given.includes('one') && !/:\s*\{n\}/.test(strings[key])) {
        problems.push(`${lang}: ${key} has no "one" form: "${pick(strings, key, 'one').replace('{n}', '1')}"`);
      }
    }
    const errors = [];
    for (const key of Object.keys(strings)) {
      // A refusal's reason by its code ("Nicht gesendet: {reason}"): a code of
      // the protocol's, and a text with nothing to fill in but the site's
      // largest file in `error.too_large`, which says it.
      if (key.startsWith('error.')) {
        const code = key.slice('error.'.length);
        if (!errorCodes.includes(code)) problems.push(`${lang}: ${key}, a code the protocol does not have`);
        const rest = typeof strings[key] === 'string' && code === 'too_large' ? strings[key].replace('{max}', '') : strings[key];
        if (typeof strings[key] !== 'string' || !strings[key].trim() || /[{}]/.test(rest)) problems.push(`${lang}: ${key} is not a text without placeholders: "${strings[key]}"`);
        if (code === 'too_large' && !strings[key].includes('{max}')) problems.push(`${lang}: ${key} does not say the limit: "${strings[key]}"`);
        errors.push(code);
        continue;
      }
      if (!defaults.some(([k]) => k === key.split('.')[0])) problems.push(`${lang}: ${key} is no text of the widget`);
    }
    errorSets[lang] = errors.sort().join(' ');
  }
  for (const lang of LANGS) {
    if (errorSets[lang] !== errorSets[LANGS[0]]) problems.push(`${lang}: error.* keys ${errorSets[lang]}, ${LANGS[0]}: ${errorSets[LANGS[0]]}`);
  }
  assert.deepEqual(problems, []);
});

test('a moderator pins and unpins in every language: the menu, the pin bar and the notice in that language', async () => {
  const site = await moderatorSite();
  for (const lang of LANGS) {
    const strings = locale(lang);
    const room = uniqueRoom(`pin-${lang}`);
    const mo = await open({ room, site, locale: lang, token: moderator('Mo') });
    await send(mo, `Doors open at 6 (${lang})`);
    const msg = item(mo, `Doors open at 6 (${lang})`);
    await msg.waitFor();
    await msg.locator('.hc-more').click();
    await msg.getByRole('menuitem', { name: strings.pin, exact: true }).click();
    await mo.locator('.hc-notice', { hasText: strings.noticePin.replace('{by}', 'Mo') }).waitFor();
    const bar = mo.locator('.hc-pin');
    await bar.filter({ hasText: `Doors open at 6 (${lang})` }).waitFor();
    // The pin bar's Unpin, and the menu's, say the same.
    await msg.locator('.hc-more').click();
    assert.equal(await msg.getByRole('menuitem', { name: strings.unpin, exact: true }).count(), 1, `${lang}: the menu offers ${strings.unpin}`);
    await mo.keyboard.press('Escape');
    await bar.getByRole('button', { name: strings.unpin, exact: true }).click();
    await bar.waitFor({ state: 'hidden' });
    await mo.locator('.hc-notice', { hasText: strings.noticeUnpin.replace('{by}', 'Mo') }).waitFor();
    await mo.context().close();
  }
});

test('Arabic: replying to a long English message, the reply bar shows whom it answers', async () => {
  const room = uniqueRoom('rtl-reply');
  const sara = await open({ room, name: 'سارة', locale: 'ar' }, { width: 360 });
  const eve = await open({ room, name: 'Eve Smith', locale: 'en' });
  await send(eve, 'Hello! The event starts at 18:30, see https://example.com/event?id=42 for the programme and the tickets');
  const msg = item(sara, 'The event starts');
  await msg.locator('.hc-more').click();
  await msg.getByRole('menuitem', { name: locale('ar').reply, exact: true }).click();
  const bar = sara.locator('.hc-replyto');
  await bar.waitFor();
  // Where "Eve Smith" is drawn, and whether that is inside the bar's visible box.
  const visible = await bar.evaluate((label) => {
    const box = label.getBoundingClientRect();
    const walker = document.createTreeWalker(label, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const at = node.data.indexOf('Eve Smith');
      if (at < 0) continue;
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + 'Eve Smith'.length);
      const r = range.getBoundingClientRect();
      return r.left >= box.left - 1 && r.right <= box.right + 1;
    }
    return false;
  });
  assert.ok(visible, 'the name replied to is on screen, not cut off by the ellipsis');
  await Promise.all([sara.context().close(), eve.context().close()]);
});

/** Where `text` is drawn inside `el`: its first and last characters' left edges, and `el`'s box. */
function drawn(el, text) {
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(text);
    if (at < 0) continue;
    const edge = (i) => { const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1); return r.getBoundingClientRect().left; };
    const box = el.getBoundingClientRect();
    return { first: edge(at), last: edge(at + text.length - 1), left: box.left, right: box.right };
  }
  return null;
}

test('Arabic: a long Latin name keeps its beginning over a message, and "@Name" in the mention list reads as one', async () => {
  const room = uniqueRoom('rtl-name');
  const sara = await open({ room, name: 'سارة', locale: 'ar' }, { width: 320 });
  const bart = await open({ room, name: 'Bartholomew-the-Magnificent-XX', locale: 'en' });
  await send(bart, 'hello from far away');
  const name = item(sara, 'hello from far away').locator('.hc-name');
  await name.waitFor();
  const start = await name.evaluate(drawn, 'Bart');
  assert.ok(start && start.first >= start.left - 1 && start.last <= start.right + 1, `the start of the name is on screen: ${JSON.stringify(start)}`);
  await sara.locator('.hc-input').fill('@Bar');
  const option = sara.locator('.hc-option', { hasText: 'Bartholomew' });
  await option.waitFor();
  const at = await option.evaluate(drawn, '@B');
  assert.ok(at.first < at.last, `"@" is drawn before the name, left to right: ${JSON.stringify(at)}`);
  // Still picked by a pointer, on the name itself.
  await option.locator('bdi').dispatchEvent('mousedown');
  assert.equal(await sara.locator('.hc-input').inputValue(), '@Bartholomew-the-Magnificent-XX ');
  await Promise.all([sara.context().close(), bart.context().close()]);
});

test('Hebrew: a reply\'s quote of a long English message shows its beginning, sent and still being sent', async () => {
  const room = uniqueRoom('rtl-quote');
  const dana = await open({ room, name: 'דנה', locale: 'he' }, { width: 360 });
  const eve = await open({ room, name: 'Eve', locale: 'en' });
  await send(eve, 'Breaking: the meeting moved to Thursday afternoon, because the room on Wednesday is booked');
  const msg = item(dana, 'Breaking: the meeting');
  for (const text of ['בסדר', 'תודה']) {
    await msg.locator('.hc-more').click();
    await msg.getByRole('menuitem', { name: locale('he').reply, exact: true }).click();
    await send(dana, text);
  }
  await item(dana, 'תודה').waitFor();
  // One stays in the outbox: Dana is offline by then.
  await dana.context().setOffline(true);
  await dana.locator('.hc-banner').waitFor();
  await msg.locator('.hc-more').click();
  await msg.getByRole('menuitem', { name: locale('he').reply, exact: true }).click();
  await send(dana, 'נדבר');
  const quotes = dana.locator('.hc-quote');
  await dana.locator('.hc-outbox .hc-quote').waitFor();
  // Whether "Breaking" is drawn inside each quote's visible box.
  const shown = await quotes.evaluateAll((all) => all.map((quote) => {
    const box = quote.getBoundingClientRect();
    const walker = document.createTreeWalker(quote, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.data.startsWith('Breaking')) continue;
      const range = document.createRange();
      range.setStart(node, 0);
      range.setEnd(node, 'Breaking'.length);
      const r = range.getBoundingClientRect();
      return r.left >= box.left - 1 && r.right <= box.right + 1;
    }
    return false;
  }));
  assert.deepEqual(shown, [true, true, true], 'the beginning of the quoted message is on screen');
  await Promise.all([dana.context().close(), eve.context().close()]);
});

test('Arabic (Saudi Arabia): counts (online, reactions) use the same digits as the times beside them', async () => {
  const room = uniqueRoom('digits');
  const sara = await open({ room, name: 'سارة', locale: 'ar-SA' });
  const bo = await open({ room, name: 'Bo', locale: 'ar-SA' });
  await send(bo, 'مرحبا');
  await item(sara, 'مرحبا').waitFor();
  const digits = (s) => (/[0-9]/.test(s) ? 'western' : '') + (/[\u0660-\u0669]/.test(s) ? 'arabic-indic' : '');
  const time = await item(sara, 'مرحبا').locator('time').first().textContent();
  await sara.waitForFunction(() => /\d|[\u0660-\u0669]/.test(document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-online')?.textContent ?? ''));
  const online = await sara.locator('.hc-online').textContent();
  assert.equal(digits(online), digits(time), `"${online}" beside "${time}"`);
  // A reaction's count too, shown at once and as the room has it.
  const msg = item(sara, 'مرحبا');
  await msg.locator('.hc-more').click();
  await msg.locator('.hc-menu [data-action="react-add"]').first().click();
  for (const chip of [msg.locator('.hc-chip'), item(bo, 'مرحبا').locator('.hc-chip')]) {
    const count = await chip.textContent();
    assert.equal(digits(count), digits(time), `"${count}" beside "${time}"`);
  }
  await Promise.all([sara.context().close(), bo.context().close()]);
});

test('German at 320 px: a message pinned by a moderator stays readable with a long author name, and Unpin stays in the widget', async () => {
  const site = await moderatorSite();
  const room = uniqueRoom('pin-narrow');
  const strings = locale('de');
  const mo = await open({ room, site, locale: 'de', token: moderator('Mo') }, { width: 320 });
  const eve = await open({ room, site, name: 'Eveline Rosenberger-Kowalczyk', locale: 'de' });
  await send(eve, 'Guten Morgen zusammen, der Einlass beginnt um 18 Uhr');
  const msg = item(mo, 'Guten Morgen');
  await msg.locator('.hc-more').click();
  await msg.getByRole('menuitem', { name: strings.pin, exact: true }).click();
  const bar = mo.locator('.hc-pin');
  await bar.filter({ hasText: 'Guten Morgen' }).waitFor();
  const widget = await mo.locator('[data-hello-chat-host]').boundingBox();
  const unpin = await bar.getByRole('button', { name: strings.unpin }).boundingBox();
  assert.ok(unpin.x >= widget.x && unpin.x + unpin.width <= widget.x + widget.width + 1, `Unpin inside the widget: ${JSON.stringify({ unpin, widget })}`);
  const text = await bar.locator('p').boundingBox();
  assert.ok(text.width >= 100, `the pinned text has room to be read: ${text.width} px`);
  await Promise.all([mo.context().close(), eve.context().close()]);
});

test('Russian and Ukrainian at 320 px: the text field keeps its room beside a long Send, which is still named in the language', async () => {
  for (const lang of ['ru', 'uk']) {
    const strings = locale(lang);
    const page = await open({ room: uniqueRoom(`narrow-${lang}`), name: 'Ada', locale: lang }, { width: 320 });
    const input = await page.locator('.hc-input').boundingBox();
    // (It was 129 px, its placeholder on three lines, beside a 111 px "Отправить".)
    assert.ok(input.width >= 180, `${lang}: the text field is ${input.width} px wide`);
    await send(page, 'Привіт');
    await page.getByRole('button', { name: strings.send, exact: true }).waitFor();
    await item(page, 'Привіт').waitFor();
    await page.context().close();
  }
});

/** Edit Ada's message `first` to `edited` in a widget in `lang`; what the editor says. */
async function refusedEdit(lang, first, edited) {
  const strings = locale(lang);
  const ada = await open({ room: uniqueRoom(`reason-${lang}`), name: 'Ada', locale: lang });
  await send(ada, first);
  const mine = item(ada, first);
  await mine.locator('.hc-more').click();
  await mine.getByRole('menuitem', { name: strings.edit, exact: true }).click();
  await mine.locator('textarea').fill(edited);
  await mine.locator('textarea').press('Enter');
  const err = mine.locator('.hc-dialog .hc-err');
  await err.waitFor();
  const said = await err.textContent();
  await ada.context().close();
  return said;
}

test('German: why an edit was not saved is said in German', async () => {
  const strings = locale('de');
  const said = await refusedEdit('de', 'erster Entwurf', '   ');
  assert.equal(said, strings.notSent.replace('{reason}', strings['error.empty']));
  assert.equal(said, 'Nicht gesendet: die Nachricht ist leer');
  assert.doesNotMatch(said, /\b(message|empty|is|the|too)\b/i, 'no English in a German widget');
});

test('a file too large is refused in the visitor\'s language with the site\'s limit, in its digits and decimal separator', async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, limits: { maxFileBytes: 2000 } }, 'wlang');
  for (const [lang, limit] of [['de', '1,9 KB'], ['ar-EG', '١٫٩ KB'], ['fr', '1,9 KB']]) {
    const strings = locale(lang.slice(0, 2));
    const page = await open({ room: uniqueRoom('big'), site, name: 'Ada', locale: lang });
    await page.locator('.hc-composer input[type="file"]').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('x'.repeat(3000)) });
    const chip = page.locator('.hc-tray .hc-staged[data-state="refused"]');
    await chip.waitFor({ timeout: 10000 });
    const reason = strings['error.too_large'].replace('{max}', limit);
    assert.equal(await chip.locator('.hc-file-meta').textContent(), strings.notSent.replace('{reason}', reason), lang);
    await page.context().close();
  }
});

test('Japanese: an edit too long is refused in Japanese', async () => {
  const strings = locale('ja');
  // Longer than any site allows (4000 at most): refused before it is sent.
  const said = await refusedEdit('ja', 'はじめまして', 'あ'.repeat(4001));
  assert.equal(said, strings.notSent.replace('{reason}', strings['error.too_long']));
  assert.equal(said, '未送信：メッセージが長すぎます');
});
