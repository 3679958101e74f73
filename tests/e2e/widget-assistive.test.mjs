// What an accessibility QA pass found, in real Chromium against the real
// worker: an IME composing under the @mention list, the widget's language
// for screen readers, the connection coming back read out, a ban that
// leaves a composer that cannot send, the muted banner in the widget's
// locale and read out once, focus after cancelling a reply, states that
// survive forced colours, and a mention list that fits a short widget.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { act, createSite, join, launchBrowser, messageItem, mintToken, post, seriousViolations, siteApi, siteWithKey, uniqueRoom, waitForStatus, widgetPage } from './helpers.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const shadow = (page, fn, arg) => page.evaluate(([f, a]) => {
  const r = document.querySelector('[data-hello-chat-host]').shadowRoot;
  // eslint-disable-next-line no-new-func
  return new Function('r', 'a', `return (${f})(r, a)`)(r, a);
}, [fn.toString(), arg]);
const said = (page) => shadow(page, (r) => [...r.querySelectorAll('.hc-sr p')].map((p) => p.textContent));

async function open(options, contextOptions = {}) {
  const page = await widgetPage(await browser.newContext(contextOptions), options);
  await waitForStatus(page, 'connected');
  return page;
}

/** Pretend the page is hidden or visible again, as a switch of tabs does. */
const setVisible = (page, visible) => page.evaluate((v) => {
  Object.defineProperty(document, 'visibilityState', { value: v ? 'visible' : 'hidden', configurable: true });
  Object.defineProperty(document, 'hidden', { value: !v, configurable: true });
  document.dispatchEvent(new Event('visibilitychange'));
}, visible);

/** Who is online, as the widget's header says. */
const online = (page, n) => page.waitForFunction((x) => new RegExp(`^${x}\\b`).test(
  document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-online').textContent), n);

test('an IME composing after @ keeps its keys: arrows pick its candidates, Enter commits the text as typed', async () => {
  const room = uniqueRoom('ime');
  const ada = await open({ room, name: 'Ada' });
  const others = await Promise.all(['zhang', 'zhangwei'].map((name) => open({ room, name })));
  await online(ada, 3);
  const cdp = await ada.context().newCDPSession(ada);
  const key = async (k, vk) => {
    await cdp.send('Input.dispatchKeyEvent', { type: 'rawKeyDown', key: k, code: k, windowsVirtualKeyCode: vk });
    await cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', key: k, code: k, windowsVirtualKeyCode: vk });
  };
  await ada.locator('.hc-input').focus();
  await ada.keyboard.type('@');
  await ada.locator('.hc-option').first().waitFor();
  await cdp.send('Input.imeSetComposition', { text: 'zhang', selectionStart: 5, selectionEnd: 5 });
  const selected = () => shadow(ada, (r) => r.querySelector('.hc-option[aria-selected=true]')?.textContent);
  const before = await selected();
  await key('ArrowDown', 40);
  assert.equal(await selected(), before, 'the arrow went to the IME, not to the list');
  await key('Enter', 13);
  assert.equal(await shadow(ada, (r) => r.querySelector('.hc-input').value), '@zhang', 'Enter committed the composition, no name was put in');
  await Promise.all([ada, ...others].map((p) => p.context().close()));
});

test('a widget translated for the browser\'s language says which, so a screen reader reads it with the right voice', async () => {
  const page = await open({ room: uniqueRoom('lang'), name: 'Ada' }, { locale: 'de-DE' });
  assert.deepEqual(await shadow(page, (r) => [r.querySelector('.hc').getAttribute('lang'), r.querySelector('.hc-send').textContent]),
    ['de-DE', 'Senden']);
  await page.context().close();
});

test('after an outage that was read out, the connection coming back is read out too', async () => {
  const page = await open({ room: uniqueRoom('back'), name: 'Ada' });
  await page.context().setOffline(true);
  await page.waitForFunction(() => window.events.some(([e, d]) => e === 'status' && d.status === 'reconnecting'));
  await page.context().setOffline(false);
  await page.waitForFunction(() => window.events.filter(([e, d]) => e === 'status' && d.status === 'connected').length === 2, null, { timeout: 15000 });
  const lines = await said(page);
  assert.equal(lines.at(-1), 'Connected again.', JSON.stringify(lines));
  await page.context().close();
});

test('a banned member\'s composer is disabled (nothing can be sent any more), and the muted banner reads the widget\'s locale, once', async () => {
  const { site, key } = await siteWithKey({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true }, 'wa11y');
  const room = uniqueRoom('ban');
  const eve = await open({ room, site, name: 'Eve', locale: 'de-DE' }, { locale: 'en-US' });
  await eve.locator('.hc-input').fill('hallo');
  await eve.locator('.hc-input').press('Enter');
  await eve.waitForFunction(() => window.events.some(([e, d]) => e === 'message' && d.own));
  const sender = await eve.evaluate(() => window.events.find(([e, d]) => e === 'message' && d.own)[1].sender);
  const mute = await siteApi(key, 'POST', `/${site}/rooms/${room}/moderation`, { action: 'mute', sender, seconds: 3600 });
  assert.equal(mute.status, 200, mute.text);
  const banner = eve.locator('.hc-roombanner:not([hidden])');
  await banner.waitFor();
  assert.doesNotMatch(await banner.textContent(), /AM|PM/, 'a German time');
  // The banner is a live region: each rewrite of its text is read out.
  await shadow(eve, (r) => {
    window.rewrites = 0;
    new MutationObserver((m) => { window.rewrites += m.length; })
      .observe(r.querySelector('.hc-roombanner'), { childList: true, characterData: true, subtree: true });
  });
  // A reconnect says the same again: not read out again.
  await eve.context().setOffline(true);
  await eve.waitForFunction(() => window.events.some(([e, d]) => e === 'status' && d.status === 'reconnecting'));
  await eve.context().setOffline(false);
  await eve.waitForFunction(() => window.events.filter(([e, d]) => e === 'status' && d.status === 'connected').length === 2, null, { timeout: 15000 });
  assert.equal(await eve.evaluate(() => window.rewrites), 0, 'the unchanged banner was not rewritten (read out again)');

  await eve.locator('.hc-input').focus();
  const ban = await siteApi(key, 'POST', `/${site}/rooms/${room}/moderation`, { action: 'ban', sender });
  assert.equal(ban.status, 200, ban.text);
  await eve.waitForFunction(() => window.events.some(([e, d]) => e === 'status' && d.status === 'failed'));
  assert.equal(await eve.locator('.hc-input').isDisabled(), true);
  await eve.context().close();
});

test('a new rule is read out once: a lock with its notice, not again by its banner; a mute of mine with when it ends', async () => {
  const { site, key } = await siteWithKey({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true }, 'wrule');
  const room = uniqueRoom('rule');
  const eve = await open({ room, site, name: 'Eve' });
  await eve.locator('.hc-input').fill('hi');
  await eve.locator('.hc-input').press('Enter');
  await eve.waitForFunction(() => window.events.some(([e, d]) => e === 'message' && d.own));
  const sender = await eve.evaluate(() => window.events.find(([e, d]) => e === 'message' && d.own)[1].sender);
  const act = async (body) => {
    const res = await siteApi(key, 'POST', `/${site}/rooms/${room}/moderation`, body);
    assert.equal(res.status, 200, res.text);
  };
  const banner = eve.locator('.hc-roombanner:not([hidden])');
  // What a screen reader hears: the announcer's lines, and the banner's
  // text if the banner were a live region of its own.
  const heard = async (page) => [...await said(page), ...await page.locator('.hc-roombanner:not([hidden])').evaluateAll(
    (bs) => bs.filter((b) => b.closest('[role=status],[role=alert],[aria-live]:not([aria-live=off])')).map((b) => b.textContent))];
  await act({ action: 'lock' });
  await banner.waitFor();
  await eve.waitForFunction(() => document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-sr p'));
  let lines = await heard(eve);
  assert.equal(lines.filter((l) => /read-only/.test(l)).length, 1, JSON.stringify(lines));
  assert.match(lines.find((l) => /read-only/.test(l)), /made the room read-only\.$/, 'the notice, with who did it');
  await act({ action: 'unlock' });
  await banner.waitFor({ state: 'hidden' });
  await act({ action: 'mute', sender, seconds: 3600 });
  await banner.waitFor();
  await eve.waitForFunction(() => /muted until/.test([...document.querySelector('[data-hello-chat-host]').shadowRoot.querySelectorAll('.hc-sr p')].at(-1)?.textContent));
  lines = await heard(eve);
  assert.match(lines.at(-1), /^Eve was muted by .+\. You are muted until .+\.$/, 'one announcement: the notice, then until when');
  assert.equal(lines.filter((l) => /muted/.test(l)).length, 1, JSON.stringify(lines));
  const last = (re) => eve.waitForFunction((src) => new RegExp(src).test(
    [...document.querySelector('[data-hello-chat-host]').shadowRoot.querySelectorAll('.hc-sr p')].at(-1)?.textContent), re.source);
  // Locked while muted: the banner still says muted; unmuted, the lock is left, and said after the notice.
  await act({ action: 'lock' });
  await last(/made the room read-only\.$/);
  await act({ action: 'unmute', sender });
  await last(/^Eve can write again\. This room is read-only\.$/);
  // A timed mute ends with no notice from the room: its end is read out, with the rule left.
  await act({ action: 'mute', sender, seconds: 2 });
  await last(/You are muted until .+\.$/);
  await last(/^You can write again\. This room is read-only\.$/);
  assert.equal((await said(eve)).filter((l) => /write again/.test(l)).length, 2, 'once by the unmute, once at the end');
  // Locked while away: on reconnecting, the lock is read out once (the
  // banner's rule and the notice replayed with what was missed).
  await act({ action: 'unlock' });
  await last(/reopened the room\.$/);
  await shadow(eve, (r) => r.querySelectorAll('.hc-sr p').forEach((p) => p.remove()));
  await eve.context().setOffline(true);
  await eve.waitForFunction(() => window.events.some(([e, d]) => e === 'status' && d.status === 'reconnecting'));
  await act({ action: 'lock' });
  await eve.context().setOffline(false);
  await banner.waitFor({ timeout: 15000 });
  await last(/read-only/);
  await eve.waitForFunction(() => window.events.filter(([e, d]) => e === 'status' && d.status === 'connected').length === 2);
  await new Promise((r) => setTimeout(r, 500));
  lines = await heard(eve);
  assert.equal(lines.filter((l) => /read-only/.test(l)).length, 1, JSON.stringify(lines));
  // A rule with no notice (joining a locked room) is read out alone.
  const locked = uniqueRoom('rule-locked');
  const res = await siteApi(key, 'POST', `/${site}/rooms/${locked}/moderation`, { action: 'lock' });
  assert.equal(res.status, 200, res.text);
  const cy = await open({ room: locked, site, name: 'Cy' });
  await cy.locator('.hc-roombanner:not([hidden])').waitFor();
  await cy.waitForFunction(() => document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-sr p'));
  assert.deepEqual(await heard(cy), ['This room is read-only.']);
  await Promise.all([eve.context().close(), cy.context().close()]);
});

test('a lock lifted while the visitor was typing gives the composer its focus back: they type on where they were', async () => {
  const { site, key } = await siteWithKey({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true }, 'wrefocus');
  const room = uniqueRoom('refocus');
  const ada = await open({ room, site, name: 'Ada' });
  const input = ada.locator('.hc-input');
  await input.focus();
  await ada.keyboard.type('I was saying');
  const moderate = async (action) => assert.equal((await siteApi(key, 'POST', `/${site}/rooms/${room}/moderation`, { action })).status, 200);
  await moderate('lock');
  await ada.waitForFunction(() => document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-input').disabled);
  assert.equal(await shadow(ada, (r) => r.activeElement?.className), 'hc-log', 'the list, still readable, has focus while locked');
  await moderate('unlock');
  await ada.waitForFunction(() => !document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-input').disabled);
  await ada.keyboard.type(' and more');
  assert.equal(await input.inputValue(), 'I was saying and more');
  await ada.context().close();
});

test('cancelling a reply from the keyboard gives focus back to the draft', async () => {
  const room = uniqueRoom('cancel');
  const ada = await open({ room, name: 'Ada' });
  await ada.locator('.hc-input').fill('quote me');
  await ada.locator('.hc-input').press('Enter');
  const mine = ada.locator('.hc-list .hc-msg[data-seq]', { hasText: 'quote me' });
  await mine.waitFor();
  await mine.locator('.hc-more').click();
  await ada.getByRole('menuitem', { name: 'Reply' }).click();
  await ada.locator('.hc-input').fill('half a thought');
  const bar = ada.locator('.hc-replyto');
  assert.equal(await bar.getAttribute('title'), await bar.textContent(), 'the whole excerpt on hover, where it is cut');
  await ada.locator('.hc-replybar button').focus();
  await ada.keyboard.press('Enter');
  await ada.locator('.hc-replybar').waitFor({ state: 'hidden' });
  assert.equal(await shadow(ada, (r) => r.activeElement?.className), 'hc-input');
  await ada.context().close();
});

test('in forced colours a pressed reaction and the chosen name keep a visible mark', async () => {
  const room = uniqueRoom('forced');
  const ada = await open({ room, name: 'Ada' });
  const bo = await open({ room, name: 'Bo' });
  await ada.emulateMedia({ forcedColors: 'active' });
  await ada.locator('.hc-input').fill('react to me');
  await ada.locator('.hc-input').press('Enter');
  const mine = ada.locator('.hc-list .hc-msg[data-seq]', { hasText: 'react to me' });
  // One sender's ⋯ buttons share a name; each is described by its message's text.
  const described = await mine.locator('.hc-more').getAttribute('aria-describedby');
  assert.equal(await shadow(ada, (r, id) => r.getElementById(id)?.textContent, described), 'react to me');
  await mine.locator('.hc-more').click();
  await ada.getByRole('menuitem', { name: 'React with 👍' }).click();
  await mine.locator('.hc-chip[aria-pressed=true]').waitFor();
  const outline = (sel) => shadow(ada, (r, s) => getComputedStyle(r.querySelector(s)).outlineStyle, sel);
  assert.notEqual(await outline('.hc-chip[aria-pressed=true]'), 'none');
  await online(ada, 2);
  await ada.locator('.hc-input').fill('@');
  await ada.locator('.hc-option[aria-selected=true]').waitFor();
  assert.notEqual(await outline('.hc-option[aria-selected=true]'), 'none');
  await Promise.all([ada.context().close(), bo.context().close()]);
});

test('at the smallest height (240 px) with a reply being written, the mention list leaves the composer in the widget', async () => {
  const room = uniqueRoom('short');
  const names = ['Bo', 'Cy', 'Di', 'Ed', 'Flo'];
  const ada = await open({ room, name: 'Ada', height: 240 });
  const others = await Promise.all(names.map((name) => open({ room, name })));
  await online(ada, 6);
  await ada.locator('.hc-input').fill('hello');
  await ada.locator('.hc-input').press('Enter');
  const mine = ada.locator('.hc-list .hc-msg[data-seq]', { hasText: 'hello' });
  await mine.locator('.hc-more').click();
  await ada.getByRole('menuitem', { name: 'Reply' }).click();
  await ada.locator('.hc-input').fill('@');
  await ada.locator('.hc-option').nth(4).waitFor();
  for (let i = 0; i < 4; i++) await ada.locator('.hc-input').press('ArrowDown');
  const box = await shadow(ada, (r) => {
    const rect = (s) => r.querySelector(s).getBoundingClientRect();
    const chosen = r.querySelector('.hc-option[aria-selected=true]').getBoundingClientRect();
    const list = rect('.hc-suggest');
    return { send: rect('.hc-send').bottom, widget: rect('.hc').bottom, header: rect('.hc-header').top, top: rect('.hc').top,
      chosenInList: chosen.top >= list.top - 1 && chosen.bottom <= list.bottom + 1 };
  });
  assert.ok(box.send <= box.widget + 1 && box.header >= box.top - 1, JSON.stringify(box));
  assert.ok(box.chosenInList, 'the chosen name is scrolled into the list');
  await Promise.all([ada, ...others].map((p) => p.context().close()));
});

test('the "New messages" pill sits above the list\'s bottom edge: it never covers the reply bar or the composer', async () => {
  const room = uniqueRoom('pill');
  const ada = await open({ room, name: 'Ada' });
  const bo = await open({ room, name: 'Bo' });
  for (let i = 0; i < 30; i++) {
    await bo.locator('.hc-input').fill(`line ${i}`);
    await bo.locator('.hc-input').press('Enter');
  }
  const last = ada.locator('.hc-list .hc-msg[data-seq]', { hasText: 'line 29' });
  await last.waitFor();
  await last.locator('.hc-more').click();
  await ada.getByRole('menuitem', { name: 'Reply' }).click();
  await ada.locator('.hc-input').fill('a long draft\nover\nthree lines');
  await shadow(ada, (r) => { r.querySelector('.hc-log').scrollTop = 0; });
  await bo.locator('.hc-input').fill('one more');
  await bo.locator('.hc-input').press('Enter');
  await ada.locator('.hc-pill').waitFor();
  const overlaps = await shadow(ada, (r) => {
    const pill = r.querySelector('.hc-pill').getBoundingClientRect();
    return ['.hc-replybar', '.hc-composer', '.hc-typing'].filter((s) => {
      const b = r.querySelector(s).getBoundingClientRect();
      return b.height > 0 && pill.bottom > b.top && pill.top < b.bottom;
    });
  });
  assert.deepEqual(overlaps, []);
  await Promise.all([ada.context().close(), bo.context().close()]);
});

test('in a busy room a screen reader hears a few messages, then one line that sums up the rest, not every message', async () => {
  const room = uniqueRoom('busy-sr');
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true,
    limits: { rateBurst: 1000, ratePerSec: 1000, addressBurst: 1000, addressPerSec: 1000 } });
  const page = await open({ room, site, name: 'Listener' });
  // Everything the live region ever says (it keeps only the last few).
  await shadow(page, (r) => {
    window.spoken = [];
    new MutationObserver((ms) => { for (const m of ms) for (const n of m.addedNodes) window.spoken.push(n.textContent); })
      .observe(r.querySelector('.hc-sr'), { childList: true });
  });
  const poster = await join(room, 'Ada', { site });
  // 30 messages, 40 ms apart: each its own frame, as a live event sends them.
  for (let i = 1; i <= 30; i++) {
    poster.send({ type: 'send', id: `b${i}`, message: `busy ${i}` });
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  await page.waitForFunction(() => window.events.filter(([e]) => e === 'message').length >= 30, null, { timeout: 10000 });
  const spoken = () => page.evaluate(() => window.spoken.filter((t) => !/^Ada\b.*joined|online/.test(t)));
  const early = await spoken();
  assert.deepEqual(early.filter((t) => t.includes('busy')), ['Ada: busy 1', 'Ada: busy 2', 'Ada: busy 3', 'Ada: busy 4', 'Ada: busy 5'],
    `the first few one by one: ${JSON.stringify(early)}`);
  // When the window ends, one line for the other 25.
  await page.waitForFunction(() => window.spoken.includes('25 new messages'), null, { timeout: 12000 });
  assert.equal((await spoken()).filter((t) => t.includes('busy')).length, 5, 'none of them read out one by one');
  await Promise.all([poster.close(), page.context().close()]);
});

test('in forced colours the narrow Send is still an arrow, not a square', async () => {
  const page = await open({ room: uniqueRoom('forced-arrow'), name: 'Ada' }, { viewport: { width: 320, height: 500 }, forcedColors: 'active' });
  // The arrow is a border with transparent top and bottom: forced to the
  // text colour, those drew a filled square.
  const arrow = await shadow(page, (r) => {
    const s = getComputedStyle(r.querySelector('.hc-send'), '::before');
    return { top: s.borderTopColor, bottom: s.borderBottomColor, point: s.borderInlineStartColor, width: s.borderInlineStartWidth };
  });
  assert.equal(arrow.width, '16px', 'narrow: the arrow is drawn');
  assert.equal(arrow.top, 'rgba(0, 0, 0, 0)');
  assert.equal(arrow.bottom, 'rgba(0, 0, 0, 0)');
  assert.notEqual(arrow.point, 'rgba(0, 0, 0, 0)', 'its point is seen');
  await page.context().close();
});

test('from a message being deleted (offline: greyed out, its buttons hidden), Tab leaves the list for the composer', async () => {
  const room = uniqueRoom('tab-deleting');
  const ada = await open({ room, name: 'Ada' });
  await ada.locator('.hc-input').fill('wrong room, sorry');
  await ada.locator('.hc-input').press('Enter');
  const mine = ada.locator('.hc-list .hc-msg[data-seq]', { hasText: 'wrong room, sorry' });
  await mine.waitFor();
  await ada.context().setOffline(true);
  await ada.locator('.hc-banner', { hasText: 'Offline' }).waitFor({ timeout: 15000 });
  await mine.locator('.hc-more').focus();
  await ada.keyboard.press('Enter');
  await ada.getByRole('menuitem', { name: 'Delete' }).press('Enter');
  await ada.locator('.hc-list .hc-msg[data-deleting]').waitFor();
  const focused = () => shadow(ada, (r) => r.activeElement?.className);
  assert.match(await focused(), /hc-msg/, 'focus stays on the message');
  await ada.keyboard.press('Tab');
  assert.equal(await shadow(ada, (r) => !!r.activeElement?.closest('.hc-composer')), true, `Tab goes on to the composer, not ${await focused()}`);
  await ada.context().close();
});

test('replies waiting to go (offline) are not Tab stops of their own: the list stays one Tab stop, and Tab from one reaches its quote', async () => {
  const room = uniqueRoom('tab-pending-quote');
  const bo = await open({ room, name: 'Bo' });
  await bo.locator('.hc-input').fill('who is in for Friday?');
  await bo.locator('.hc-input').press('Enter');
  const ada = await open({ room, name: 'Ada' });
  const theirs = ada.locator('.hc-list .hc-msg[data-seq]', { hasText: 'who is in for Friday?' });
  await theirs.waitFor();
  await ada.context().setOffline(true);
  await ada.locator('.hc-banner', { hasText: 'Offline' }).waitFor({ timeout: 15000 });
  for (const text of ['me', 'and my sister']) {
    await theirs.locator('.hc-more').click();
    await ada.getByRole('menuitem', { name: 'Reply' }).click();
    await ada.locator('.hc-input').fill(text);
    await ada.locator('.hc-input').press('Enter');
  }
  await ada.locator('.hc-outbox .hc-quote').nth(1).waitFor();
  const focused = () => shadow(ada, (r) => r.activeElement?.className);
  // Backwards from the composer: the list, not each reply's quote.
  await ada.locator('.hc-attach').focus();
  await ada.keyboard.press('Shift+Tab');
  assert.equal(await focused(), 'hc-log');
  // ↑ to the last reply waiting, then Tab: its quote.
  await ada.keyboard.press('End');
  assert.match(await shadow(ada, (r) => r.activeElement?.textContent), /and my sister/);
  await ada.keyboard.press('Tab');
  assert.equal(await focused(), 'hc-quote');
  await Promise.all([ada.context().close(), bo.context().close()]);
});

test("a reply's quote is named by what it shows (who, and their words), what it does is its tooltip; a hidden member's names nobody", async () => {
  const room = uniqueRoom('quote-name');
  const eve = await join(room, 'Eve');
  const bo = await join(room, 'Bo');
  const ada = await open({ room, name: 'Ada' });
  const first = await post(eve, 'lunch at noon?');
  await post(bo, 'works for me', { replyTo: first });
  const reply = messageItem(ada, 'works for me');
  const quote = reply.locator('.hc-quote');
  await quote.waitFor();
  // WCAG 2.5.3 (label in name): a speech user says what they see to press it.
  await reply.getByRole('button', { name: /^Eve ?lunch at noon\?$/ }).waitFor({ timeout: 5000 });
  assert.equal(await quote.getAttribute('title'), 'Reply to Eve: show the original');
  assert.deepEqual(await seriousViolations(ada), [], 'a reply on screen');
  // Eve hidden: her name goes from the quote's tooltip too.
  await messageItem(ada, 'lunch at noon?').locator('.hc-more').click();
  await ada.getByRole('menuitem', { name: 'Hide messages from Eve' }).click();
  await reply.getByRole('button', { name: 'Message from someone you hid' }).waitFor({ timeout: 5000 });
  assert.equal(await quote.getAttribute('title'), null);
  assert.deepEqual(await seriousViolations(ada), [], 'a reply to a hidden member');
  // Shown again: named, and its tooltip, as before.
  const line = messageItem(ada, 'lunch at noon?');
  await line.getByRole('button', { name: 'Show' }).click();
  await line.locator('.hc-more').click();
  await ada.getByRole('menuitem', { name: 'Show messages from Eve' }).click();
  await reply.getByRole('button', { name: /^Eve ?lunch at noon\?$/ }).waitFor({ timeout: 5000 });
  assert.equal(await quote.getAttribute('title'), 'Reply to Eve: show the original');
  await Promise.all([eve.close(), bo.close(), ada.context().close()]);
});

// Each axe check ran on whatever its test left on screen: none had a reply,
// and a serious violation on every reply's quote went unseen for many
// sessions. Here the widget goes through the states a visitor meets, each
// checked in the light and the dark theme, the whole list in view (axe skips
// what is scrolled out of sight).
test('every state a visitor meets has no serious axe violation, in the light and the dark theme', async () => {
  const SECRET = 'widget-assistive-axe-secret-0123456789';
  const { site, key } = await siteWithKey({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET,
    moderation: { words: ['spamword'], filterAction: 'block', receipts: true },
    limits: { addressBurst: 1000, maxConnectionsPerAddress: 100, rateBurst: 100, ratePerSec: 50 } }, 'waxe');
  const moderate = async (room, body) => {
    const res = await siteApi(key, 'POST', `/${site}/rooms/${room}/moderation`, body);
    assert.equal(res.status, 200, res.text);
  };
  const clean = async (page, state) => assert.deepEqual(await seriousViolations(page), [], state);
  for (const theme of ['light', 'dark']) {
    const room = uniqueRoom(`axe-${theme}`);
    const eve = await join(room, 'Eve', { site });
    const bo = await join(room, 'Bo', { site });
    // History: a reply, a reply quoting Eve (to be hidden), an edit, a
    // tombstone, Eve's reactions; then, live (pages of history list no
    // notices), a pinned message and its notice.
    const lunch = await post(bo, 'lunch at noon?');
    const spam = await post(eve, 'buy cheap followers');
    await post(bo, 'not for me', { replyTo: spam });
    await post(eve, 'noon works', { replyTo: lunch });
    const typo = await post(bo, 'typo here');
    assert.equal((await act(bo, { type: 'delete', target: typo })).type, 'ack');
    const six = await post(bo, 'see you at 6');
    assert.equal((await act(bo, { type: 'edit', target: six, message: 'see you at 7' })).type, 'ack');
    assert.equal((await act(eve, { type: 'react', target: lunch, emoji: '👍', on: true })).type, 'ack');
    assert.equal((await act(eve, { type: 'react', target: lunch, emoji: '🎉', on: true })).type, 'ack');
    await post(bo, 'count me in', { replyTo: lunch });
    const doors = await post(bo, 'Doors open at 6. Tickets: https://tickets.example/launch');

    const [ada, mo] = await Promise.all([
      // Tall enough for the whole list: axe skips what is scrolled out of view.
      open({ room, site, name: 'Ada', theme, height: 1500 }, { viewport: { width: 720, height: 1600 } }),
      open({ room, site, theme, token: mintToken(SECRET, { sub: 'mod-1', name: 'Mo', role: 'moderator', exp: Math.floor(Date.now() / 1000) + 3600 }) }),
    ]);
    const is = `${theme}:`;
    await moderate(room, { action: 'pin', target: doors });
    await ada.locator('.hc-list .hc-notice').waitFor();
    await mo.locator('.hc-pin').getByRole('button', { name: 'Unpin' }).waitFor();
    await clean(mo, `${is} the pinned message as a moderator sees it, with Unpin`);

    // Ada hides Eve, reacts, sends her own, a message the filter refuses, an image and a file.
    await messageItem(ada, 'buy cheap followers').locator('.hc-more').click();
    await ada.getByRole('menuitem', { name: 'Hide messages from Eve' }).click();
    await messageItem(ada, 'not for me').getByRole('button', { name: 'Message from someone you hid' }).waitFor();
    await ada.evaluate((seq) => window.chat.react(seq, '👍'), lunch);
    await messageItem(ada, 'lunch at noon?').locator('.hc-chip[aria-pressed=true]', { hasText: '2' }).waitFor();
    await ada.locator('.hc-input').fill('my own words');
    await ada.locator('.hc-input').press('Enter');
    await messageItem(ada, 'my own words').waitFor();
    await ada.locator('.hc-input').fill('buy spamword now');
    await ada.locator('.hc-input').press('Enter');
    await ada.locator('.hc-outbox .hc-msg[data-state="failed"]').getByRole('button', { name: 'Discard' }).waitFor();
    await ada.evaluate(async () => {
      const c = document.createElement('canvas');
      c.width = 320;
      c.height = 200;
      c.getContext('2d').fillRect(0, 0, 320, 200);
      const blob = await new Promise((r) => c.toBlob(r, 'image/png'));
      await window.chat.sendFile(new File([blob], 'chart.png', { type: 'image/png' }));
    });
    await ada.locator('.hc-composer input[type="file"]').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('notes\n') });
    await ada.locator('.hc-tray .hc-staged[data-state="ready"]').waitFor();
    await ada.locator('.hc-input').press('Enter');
    await ada.locator('.hc-list:not(.hc-outbox) a.hc-file').waitFor({ timeout: 15000 });
    await ada.waitForFunction(() => {
      const img = document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-list:not(.hc-outbox) .hc-thumb img');
      return img?.complete && img.naturalWidth > 0;
    }, null, { timeout: 15000 });
    // Read up to here; Bo writes while the tab is away: the "New messages" line.
    await setVisible(ada, false);
    const away = await post(bo, '@Ada while you were away');
    await ada.waitForFunction(() => window.chat.unread === 1);
    await setVisible(ada, true);
    await ada.locator('.hc-list .hc-new').waitFor();
    // A mention of Ada, "Seen by" under hers, Bo typing.
    await ada.locator('.hc-list .hc-mention').waitFor();
    bo.send({ type: 'read', seq: away });
    await ada.locator('.hc-seen').waitFor();
    bo.send({ type: 'typing' });
    await ada.locator('.hc-typing', { hasText: 'Bo' }).waitFor();
    assert.equal(await ada.locator('.hc-list .hc-msg[data-day]').count() > 0, true, 'a day label');
    await ada.locator('.hc-pin').waitFor();
    await clean(ada, `${is} a reply and its quote, a quote of a hidden member and their folded line, an edit, a tombstone, reactions, `
      + 'the pinned message, a notice, a day label, "New messages", a mention, "Seen by", typing, a failed message, an image and a file');

    // The pill, over the list scrolled up (the widget made short again), with the @mention list open.
    const frames = () => ada.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await shadow(ada, (r) => r.querySelector('.hc').style.setProperty('--_height', '420px'));
    await frames();
    await shadow(ada, (r) => { r.querySelector('.hc-log').scrollTop = 0; });
    await frames();
    await post(bo, 'one more');
    await ada.locator('.hc-pill').waitFor();
    await ada.locator('.hc-input').fill('@');
    await ada.locator('.hc-option').first().waitFor();
    await clean(ada, `${is} the "New messages" pill and the @mention list`);
    await ada.locator('.hc-input').fill('');
    await shadow(ada, (r) => r.querySelector('.hc').style.setProperty('--_height', '1500px'));

    // Offline: the banner, a message waiting to go, and the inline editor open.
    await ada.context().setOffline(true);
    await ada.locator('.hc-banner', { hasText: 'Offline' }).waitFor({ timeout: 15000 });
    await ada.locator('.hc-input').fill('sent when back');
    await ada.locator('.hc-input').press('Enter');
    await ada.locator('.hc-outbox .hc-msg[data-state="pending"]').waitFor();
    const mine = messageItem(ada, 'my own words');
    await mine.locator('.hc-more').click();
    await ada.getByRole('menuitem', { name: 'Edit' }).click();
    await mine.locator('textarea').waitFor();
    await clean(ada, `${is} offline, a message waiting to go, a failed one and the inline editor`);
    await mine.locator('textarea').press('Escape');
    await ada.context().setOffline(false);
    await ada.locator('.hc-outbox .hc-msg[data-state="pending"]').waitFor({ state: 'detached', timeout: 15000 });

    // The image viewer.
    await ada.getByRole('button', { name: 'Open image: chart' }).click();
    await ada.getByRole('dialog', { name: 'Image: chart' }).waitFor();
    await clean(ada, `${is} the image viewer`);
    await ada.keyboard.press('Escape');
    await ada.getByRole('dialog').waitFor({ state: 'detached' });

    // The report reasons open.
    const theirs = messageItem(ada, 'lunch at noon?');
    await theirs.locator('.hc-more').click();
    await ada.getByRole('menuitem', { name: 'Report' }).click();
    await theirs.locator('[role=menu][aria-label="Why report this message?"]').waitFor();
    await clean(ada, `${is} the report reasons`);
    await ada.keyboard.press('Escape');

    // Muted: the banner, the composer disabled.
    const sender = await ada.evaluate(() => window.events.find(([e, d]) => e === 'message' && d.own)[1].sender);
    await moderate(room, { action: 'mute', sender, seconds: 3600 });
    await ada.locator('.hc-roombanner:not([hidden])').waitFor();
    assert.equal(await ada.locator('.hc-input').isDisabled(), true);
    await clean(ada, `${is} muted, the composer disabled`);
    await Promise.all([eve.close(), bo.close(), ada.context().close(), mo.context().close()]);
  }
});

test('a message waiting to go when its author is banned says "Not sent" with the reason, not "Sending…" for ever', async () => {
  const { site, key } = await siteWithKey({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true }, 'wa11y');
  const room = uniqueRoom('ban');
  const eve = await open({ room, site, name: 'Eve' });
  await eve.locator('.hc-input').fill('hello');
  await eve.locator('.hc-input').press('Enter');
  await eve.waitForFunction(() => window.events.some(([e, d]) => e === 'message' && d.own));
  const sender = await eve.evaluate(() => window.events.find(([e, d]) => e === 'message' && d.own)[1].sender);
  await eve.context().setOffline(true);
  await eve.waitForFunction(() => window.events.some(([e, d]) => e === 'status' && d.status === 'reconnecting'));
  await eve.locator('.hc-input').fill('queued before the ban');
  await eve.locator('.hc-input').press('Enter');
  assert.equal((await siteApi(key, 'POST', `/${site}/rooms/${room}/moderation`, { action: 'ban', sender })).status, 200);
  await eve.context().setOffline(false);
  await eve.waitForFunction(() => window.events.some(([e, d]) => e === 'status' && d.status === 'failed'), null, { timeout: 20000 });
  const item = eve.locator('.hc-outbox [data-state="failed"]', { hasText: 'queued before the ban' });
  await item.waitFor({ timeout: 5000 });
  assert.match(await item.locator('.hc-state').textContent(), /^Not sent: .*banned/);
  assert.equal(await item.locator('[data-action="discard"]').count(), 1, 'the visitor can let it go');
  await eve.context().close();
});
