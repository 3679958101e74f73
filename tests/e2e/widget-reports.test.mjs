// Reporting a message in the widget, in real Chromium against the real
// worker, from the keyboard only: "Report" in the menu of others' messages,
// the reason chosen from a small menu (Escape cancels, focus comes back to
// the message), "Reported." read out; the moderator's flag with its count,
// live and on joining, and "Dismiss reports".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSite, join, launchBrowser, mintToken, uniqueRoom, waitForStatus, widgetPage, messageItem as item, seriousViolations } from './helpers.mjs';

const SECRET = 'widget-reports-secret-0123456789';
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

async function open(options) {
  const page = await widgetPage(await browser.newContext(), options);
  await waitForStatus(page, 'connected');
  return page;
}

const shadow = (page, f) => page.evaluate(f);
const focused = (page) => shadow(page, () => document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement?.className ?? 'the page');
const focusedText = (page) => shadow(page, () => document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement?.textContent);
const said = (page) => shadow(page, () => [...document.querySelector('[data-hello-chat-host]').shadowRoot.querySelectorAll('.hc-sr p')].map((p) => p.textContent));
const labels = (menu) => menu.locator('[role=menuitem]').evaluateAll((items) => items.map((i) => i.textContent));


/** Move focus with the arrows to the menu item named `name` and press Enter. */
async function choose(page, menu, name) {
  const names = await labels(menu);
  const at = names.indexOf(name);
  assert.ok(at >= 0, `${name} in ${JSON.stringify(names)}`);
  await page.keyboard.press('Home');
  for (let i = 0; i < at; i++) await page.keyboard.press('ArrowRight');
  assert.equal(await focusedText(page), name);
  await page.keyboard.press('Enter');
}

test('a visitor reports a message from the keyboard; the moderator sees the flag and dismisses it', async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET,
    limits: { addressBurst: 1000, maxConnectionsPerAddress: 100 } }, 'wrep');
  const room = uniqueRoom('wreport');
  const mo = await open({ room, site, token: mintToken(SECRET, { sub: 'mod-1', name: 'Mo', role: 'moderator', exp: inAnHour() }) });
  const ada = await open({ room, site, name: 'Ada' });
  const bo = await open({ room, site, name: 'Bo' });
  await ada.locator('.hc-input').fill('buy cheap pills');
  await ada.locator('.hc-input').press('Enter');
  await bo.locator('.hc-input').fill('my own words');
  await bo.locator('.hc-input').press('Enter');
  const theirs = item(bo, 'buy cheap pills');
  await theirs.waitFor();
  await item(bo, 'my own words').waitFor();

  // No "Report" on one's own message.
  const own = item(bo, 'my own words');
  await own.locator('.hc-more').focus();
  await bo.keyboard.press('Enter');
  assert.ok(!(await labels(own.locator('[role=menu]'))).includes('Report'));
  await bo.keyboard.press('Escape');

  // Others' messages: Report, then a reason; Escape cancels back to the message.
  await theirs.locator('.hc-more').focus();
  await bo.keyboard.press('Enter');
  const menu = theirs.locator('[role=menu]');
  await choose(bo, menu, 'Report');
  const why = theirs.locator('[role=menu][aria-label="Why report this message?"]');
  await why.waitFor();
  assert.deepEqual(await labels(why), ['Spam', 'Harassment', 'Something else']);
  assert.match(await why.evaluate((m) => getComputedStyle(m, '::before').content), /^"Why report this message\?"/, 'the question is asked on screen too');
  assert.equal(await focusedText(bo), 'Spam', 'focus on the first reason');
  assert.deepEqual(await seriousViolations(bo), [], 'the choice is accessible');
  await bo.keyboard.press('Escape');
  await why.waitFor({ state: 'detached' });
  assert.equal(await focused(bo), 'hc-more', 'focus back on the message');
  assert.equal(await mo.locator('.hc-flag').count(), 0, 'nothing was reported');

  await bo.keyboard.press('Enter');
  await choose(bo, menu, 'Report');
  await why.waitFor();
  await bo.keyboard.press('ArrowDown');
  assert.equal(await focusedText(bo), 'Harassment');
  await bo.keyboard.press('Enter');
  await why.waitFor({ state: 'detached' });
  assert.equal(await focused(bo), 'hc-more', 'focus back on the message');
  await bo.waitForFunction(() => [...document.querySelector('[data-hello-chat-host]').shadowRoot.querySelectorAll('.hc-sr p')]
    .some((p) => p.textContent === 'Reported. Moderators will review it.'));
  // The menu says so now.
  await bo.keyboard.press('Enter');
  const reported = menu.getByRole('menuitem', { name: 'Reported' });
  await reported.waitFor();
  assert.equal(await reported.getAttribute('aria-disabled'), 'true');
  assert.ok(!(await labels(menu)).includes('Report'));
  await bo.keyboard.press('Escape');

  // The moderator sees a flag with the count; the author and the reporter do not.
  const flagged = item(mo, 'buy cheap pills');
  const flag = flagged.locator('.hc-flag');
  await flag.waitFor();
  assert.equal(await flag.textContent(), '⚑ 1');
  assert.equal(await flag.getAttribute('aria-label'), '1 report: Harassment 1', 'the count, and why');
  assert.equal(await flag.getAttribute('title'), '1 report: Harassment 1', 'on hover too');
  assert.equal(await flag.getAttribute('role'), 'img');
  for (const p of [ada, bo]) assert.equal(await p.locator('.hc-flag').count(), 0);
  // Said to the moderator as it came in, and told to the page (a badge, a sound).
  await mo.waitForFunction(() => [...document.querySelector('[data-hello-chat-host]').shadowRoot.querySelectorAll('.hc-sr p')]
    .some((p) => p.textContent === 'New report on a message from Ada.'));
  const seq = Number(await flagged.getAttribute('data-seq'));
  const told = await mo.evaluate(() => window.events.filter(([e]) => e === 'reports').map(([, d]) => d));
  assert.deepEqual(told.at(-1), { reports: [{ target: seq, reports: 1, reasons: { harassment: 1 } }], all: false }, JSON.stringify(told));
  assert.deepEqual(told[0], { reports: [], all: true }, 'on joining: none');
  for (const p of [ada, bo]) {
    assert.equal((await said(p)).filter((l) => l.startsWith('New report')).length, 0);
    assert.equal(await p.evaluate(() => window.events.filter(([e]) => e === 'reports').length), 0, 'members hear of none');
  }

  // A moderator who joins later sees it too.
  const mo2 = await open({ room, site, token: mintToken(SECRET, { sub: 'mod-2', name: 'Mia', role: 'moderator', exp: inAnHour() }) });
  await item(mo2, 'buy cheap pills').locator('.hc-flag', { hasText: '⚑ 1' }).waitFor();

  // Dismissed from the moderator's menu: the flag goes for both moderators.
  await flagged.locator('.hc-more').focus();
  await mo.keyboard.press('Enter');
  const modMenu = flagged.locator('[role=menu]');
  assert.ok(!(await labels(modMenu)).includes('Report'), 'moderators remove instead');
  await choose(mo, modMenu, 'Dismiss reports');
  await flag.waitFor({ state: 'detached' });
  await item(mo2, 'buy cheap pills').locator('.hc-flag').waitFor({ state: 'detached' });
  assert.equal(await focused(mo), 'hc-more');
  await Promise.all([mo, mo2, ada, bo].map((p) => p.context().close()));
});

test('a moderator sees the flag on a message under another of its sender\'s (no name line of its own)', async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET,
    limits: { addressBurst: 1000, maxConnectionsPerAddress: 100 } }, 'wrepg');
  const room = uniqueRoom('wreport-grouped');
  const eve = await join(room, 'Eve', { site });
  const cy = await join(room, 'Cy', { site });
  eve.send({ type: 'send', id: 'e1', message: 'hello all' });
  await eve.next('ack');
  eve.send({ type: 'send', id: 'e2', message: 'buy followers here' });
  const { seq } = await eve.next('ack');
  const mo = await open({ room, site, token: mintToken(SECRET, { sub: 'mod-1', name: 'Mo', role: 'moderator', exp: inAnHour() }) });
  const grouped = item(mo, 'buy followers here');
  await grouped.waitFor();
  assert.ok(await grouped.evaluate((li) => li.classList.contains('hc-grouped')), 'shown under the first, without a name line');
  cy.send({ type: 'report', id: 'r1', target: seq, reason: 'spam' });
  await cy.next('ack');
  await grouped.locator('.hc-flag', { hasText: '⚑ 1' }).waitFor({ state: 'visible' });
  assert.equal(await grouped.locator('.hc-name').isVisible(), false, 'still no name line');
  await Promise.all([eve.close(), cy.close(), mo.context().close()]);
});

test('a raid: in a locked room members can still report (moderators lock rooms when reports matter most)', async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET,
    limits: { addressBurst: 1000, maxConnectionsPerAddress: 100 } }, 'wreplock');
  const room = uniqueRoom('wreplock');
  const mo = await open({ room, site, token: mintToken(SECRET, { sub: 'mod-1', name: 'Mo', role: 'moderator', exp: inAnHour() }) });
  const eve = await open({ room, site, name: 'Eve' });
  const bo = await open({ room, site, name: 'Bo' });
  await eve.locator('.hc-input').fill('raid raid raid');
  await eve.locator('.hc-input').press('Enter');
  const theirs = item(bo, 'raid raid raid');
  await theirs.waitFor();
  // Another moderator locks the room (from a raw client).
  const raw = await join(room, 'x', { site, token: mintToken(SECRET, { sub: 'mod-2', name: 'Max', role: 'moderator', exp: inAnHour() }) });
  raw.send({ type: 'moderate', id: 'lock1', action: 'lock' });
  await bo.locator('.hc-roombanner').waitFor();
  await theirs.locator('.hc-more').click();
  const menu = theirs.locator('[role=menu]');
  await menu.getByRole('menuitem', { name: 'Report' }).click();
  await theirs.locator('[role=menu][aria-label="Why report this message?"]').getByRole('menuitem', { name: 'Spam' }).click();
  await bo.waitForFunction(() => [...document.querySelector('[data-hello-chat-host]').shadowRoot.querySelectorAll('.hc-sr p')]
    .some((p) => p.textContent === 'Reported. Moderators will review it.'));
  await item(mo, 'raid raid raid').locator('.hc-flag').waitFor();
  await raw.close();
  await Promise.all([mo, eve, bo].map((p) => p.context().close()));
});

test('reports coming in a burst are said once, then the latest when ten seconds are over; each is told to the page', async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET,
    limits: { addressBurst: 1000, maxConnectionsPerAddress: 100 } }, 'wrepburst');
  const room = uniqueRoom('report-burst');
  const mo = await open({ room, site, token: mintToken(SECRET, { sub: 'mod-1', name: 'Mo', role: 'moderator', exp: inAnHour() }) });
  const [eve, carl, bo] = await Promise.all(['Eve', 'Carl', 'Bo'].map((n) => join(room, n, { site })));
  const seqs = [];
  for (const c of [eve, carl]) {
    c.send({ type: 'send', id: 's1', message: `${c.welcome.name} says something` });
    seqs.push((await c.next('ack')).seq);
  }
  await item(mo, 'Carl says something').waitFor();
  for (const [i, target] of seqs.entries()) {
    bo.send({ type: 'report', id: `r${i}`, target, reason: 'spam' });
    await bo.next('ack');
  }
  const news = () => said(mo).then((lines) => lines.filter((l) => l.startsWith('New report')));
  await mo.waitForFunction(() => window.events.filter(([e, d]) => e === 'reports' && !d.all).length === 2);
  assert.deepEqual(await news(), ['New report on a message from Eve.'], 'one at once');
  await mo.waitForFunction(() => [...document.querySelector('[data-hello-chat-host]').shadowRoot.querySelectorAll('.hc-sr p')]
    .some((p) => p.textContent === 'New report on a message from Carl.'), null, { timeout: 15_000 });
  assert.equal((await news()).length, 2);
  for (const c of [eve, carl, bo]) c.close();
  await mo.context().close();
});
