// The moderation console (/console.html) against the real worker, in Chromium,
// with raw WebSocket clients in the room: signing in (wrong key, another
// site's key, the key kept only while the page is shown), the room list and the open room
// keeping themselves up to date, a report with its
// evidence and Dismiss, Delete, Mute, Ban, Pin, slow mode and lock, what is
// in force (online, lock, slow mode, pin, mutes and bans, lifted from there),
// every one of those actions asking first (Escape, Cancel, a held Enter),
// bot posts (a retry after a lost answer posts once), hostile names and
// messages shown as text, a message's files, the strict CSP, keyboard and focus, phone width and axe.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { startServer } from '../../scripts/lib/server.mjs';
import { BASE, act, admin, answer, join, launchBrowser, mintToken, nextId, post, refused, seriousViolations, siteApi, siteWithKey, sleep, uniqueRoom } from './helpers.mjs';

const SECRET = 'console-signing-secret-0123456789';
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const config = {
  origins: [], allowNoOrigin: true, secret: SECRET,
  limits: { addressBurst: 1000, addressPerSec: 100, maxConnectionsPerAddress: 100, rateBurst: 200, ratePerSec: 50 },
};
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
const moderatorToken = () => mintToken(SECRET, { sub: 'mo-1', name: 'Mo', role: 'moderator', exp: inAnHour() });
/** Anonymous members report once per address: each its own. */
const from = (ip) => ({ headers: { 'cf-connecting-ip': ip } });

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** A page of the console, its errors recorded in `page.problems` (an alert or a script error is one). */
async function consolePage(context) {
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  page.on('dialog', (d) => { page.problems.push(`dialog: ${d.message()}`); d.dismiss(); });
  page.on('console', (m) => { if (/Content Security Policy|Refused/i.test(m.text())) page.problems.push(`console: ${m.text()}`); });
  await page.goto(`${BASE}/console.html`);
  return page;
}

async function signIn(page, site, key) {
  await page.locator('#site-id').fill(site);
  await page.locator('#site-key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** The button of `room` in the list, saying `text`. */
const roomLocator = (page, room, text = '') =>
  page.locator('.room-button', { has: page.locator('.room-name', { hasText: room }) }).filter({ hasText: text });

/** The button of `room`, once the list (which keeps itself up to date) shows it saying `text`. */
async function roomButton(page, room, text = '', timeout = 10_000) {
  const button = roomLocator(page, room, text);
  await button.waitFor({ timeout });
  return button;
}

async function openRoom(page, room) {
  await (await roomButton(page, room)).click();
  await page.locator('#room-title', { hasText: `Room ${room}` }).waitFor();
  await page.locator('#room-updated', { hasText: 'Updated' }).waitFor();
}

const focusedId = (page) => page.evaluate(() => document.activeElement.id);
const focusedText = (page) => page.evaluate(() => document.activeElement.textContent);

/** The confirm button `name` of the confirmation step open on the page. */
const confirmButton = (page, name) => page.locator('.confirm').getByRole('button', { name, exact: true });

/** The live region's text, once it says something matching `re`. */
async function status(page, re) {
  await page.locator('#status', { hasText: re }).waitFor();
  return page.locator('#status').textContent();
}

/** A real PNG of `width` x `height` in one colour: one a browser draws, unlike a bare signature. */
function png(width, height) {
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type), data]);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([head, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // 8 bits a channel, RGB
  header[9] = 2;
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3, 0x6a)]);
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(Array(height).fill(row)))), chunk('IEND', Buffer.alloc(0))]);
}

/** `c` sends `message` with `files` ([{ name, mime, bytes, alt?, width?, height? }]) uploaded and attached; its seq. */
async function postFiles(c, message, files) {
  const id = nextId();
  const attachments = [];
  for (const [file, f] of files.entries()) {
    c.send({ type: 'upload', id, file, name: f.name, size: f.bytes.length, mime: f.mime, width: f.width, height: f.height });
    const t = await c.next((x) => x.id === id && (x.type === 'error' || (x.type === 'upload' && x.file === file)));
    assert.equal(t.type, 'upload', JSON.stringify(t));
    const res = await fetch(`${BASE}${t.url}`, { method: 'PUT', body: f.bytes, headers: { 'content-type': f.mime } });
    assert.equal(res.status, 201, await res.text());
    attachments.push({ key: t.key, ...(f.alt ? { alt: f.alt } : {}) });
  }
  c.send({ type: 'send', id, message, attachments });
  const a = await answer(c, id);
  assert.equal(a.type, 'ack', JSON.stringify(a));
  return a.seq;
}

test('the console is served with a strict CSP, no framing, no referrer, never cached; no inline script or style', async () => {
  for (const path of ['/console.html', '/console']) {
    const res = await fetch(`${BASE}${path}`, { redirect: 'manual' });
    assert.equal(res.headers.get('content-security-policy'), CSP, path);
    assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer', path);
    assert.equal(res.headers.get('cache-control'), 'no-store', path);
  }
  const page = await fetch(`${BASE}/console.html`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-security-policy'), CSP, 'after the redirect to /console too');
  const html = await page.text();
  assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/, 'no inline script');
  assert.doesNotMatch(html, /\sstyle=|<style/, 'no inline style');
  assert.doesNotMatch(html, /\son[a-z]+=/, 'no inline handlers');
  const js = await fetch(`${BASE}/console.js`);
  assert.equal(js.headers.get('cache-control'), 'no-store');
  assert.doesNotMatch(await js.text(), /innerHTML|outerHTML|insertAdjacentHTML|document\.write/, 'no HTML strings');
});

test('sign in: a wrong key, another site\'s key and a bad site id show the API\'s error; the key is forgotten on leaving the page', async () => {
  const { site, key } = await siteWithKey(config, 'con');
  const other = await siteWithKey(config, 'con');
  const room = uniqueRoom('rooms');
  const ada = await join(room, 'Ada', { site });
  await post(ada, 'first');
  await post(ada, 'second');
  const context = await browser.newContext();
  const page = await consolePage(context);
  const error = page.locator('#sign-in-error');

  await signIn(page, site, `${key}x`);
  await error.filter({ hasText: '401' }).waitFor();
  assert.match(await error.textContent(), /^Could not sign in: \S.* \(401 unauthorized\)\.$/);
  assert.equal(await page.locator('#site-key').getAttribute('aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'site-key', 'focus on the field to fix');

  await signIn(page, site, other.key);
  await error.filter({ hasText: '403' }).waitFor();
  assert.match(await error.textContent(), /^Could not sign in: \S.* \(403 forbidden\)\.$/);
  await signIn(page, 'Not A Site!', key);
  await error.filter({ hasText: '400' }).waitFor();
  assert.match(await error.textContent(), /^Could not sign in: \S.* \(400 bad_request\)\.$/);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'site-id');
  assert.equal(await page.evaluate(() => sessionStorage.length + localStorage.length), 0, 'nothing kept after a failure');

  // Typed with capitals (as the site's name is written): the same site.
  await signIn(page, site.toUpperCase(), key);
  await page.locator('#workspace').waitFor();
  assert.equal(await page.locator('#sign-in').isVisible(), false);
  assert.equal(await page.locator('#who').textContent(), `Site ${site}`);
  // The room with its count and local time.
  const button = await roomButton(page, room, '2 messages');
  await button.waitFor();
  assert.match(await button.textContent(), /last active/);
  assert.ok(!page.url().includes(key.slice(4, 20)), 'never in the URL');
  const stored = await page.evaluate(() => ({ session: JSON.stringify({ ...sessionStorage }), local: JSON.stringify({ ...localStorage }) }));
  assert.ok(stored.session.includes(key), 'in sessionStorage');
  assert.ok(!stored.local.includes(key.split('_')[2]), 'never in localStorage');
  assert.equal(await page.locator('#site-key').inputValue(), '', 'the field is emptied');

  // The filter box.
  await page.locator('#room-filter').fill('zzz-no-such');
  assert.equal(await page.locator('.room-button').count(), 0);
  await page.locator('#room-filter').fill(room.slice(0, 8));
  assert.equal(await page.locator('.room-button').count(), 1);

  // Another browser profile knows nothing.
  const fresh = await consolePage(await browser.newContext());
  assert.equal(await fresh.locator('#sign-in').isVisible(), true);
  assert.equal(await fresh.locator('#site-id').inputValue(), '', 'another browser profile knows nothing');

  // Leaving the page for another page of the origin, in the same tab, forgets the key: that
  // page does not find it, and Back asks for it again (the site id, not secret, is kept).
  const kept = () => page.evaluate(() => JSON.stringify({ ...sessionStorage }));
  await page.goto(`${BASE}/health`);
  assert.ok(!(await kept()).includes(key), 'not left behind for the next page');
  await page.goBack();
  await page.locator('#sign-in').waitFor();
  assert.equal(await page.locator('#workspace').isVisible(), false);
  assert.equal(await page.locator('#site-id').inputValue(), site);
  assert.equal(await page.locator('#site-key').inputValue(), '');
  assert.ok(!(await kept()).includes(key));
  // A reload forgets it too.
  await signIn(page, site, key);
  await page.locator('#workspace').waitFor();
  assert.ok((await kept()).includes(key), 'in sessionStorage while the page is shown');
  await page.reload();
  await page.locator('#sign-in').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'gone after a reload');
  await signIn(page, site, key);
  await (await roomButton(page, room)).waitFor();

  // Sign out forgets the key.
  await page.getByRole('button', { name: `Sign out of ${site}` }).click();
  await page.locator('#sign-in').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  await status(page, /Signed out/);
  await page.reload();
  assert.equal(await page.locator('#sign-in').isVisible(), true, 'still signed out after a reload');
  assert.equal(await page.locator('#site-id').inputValue(), site, 'the site id (not secret) is remembered');
  assert.deepEqual(page.problems, []);
  await ada.close();
  await context.close();
  await fresh.context().close();
});

/** Every field on the page: what it is, its label and what it asks the browser to fill. */
const fields = (page) => page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
  .filter((f) => f.getClientRects().length)
  .map((f) => ({
    id: f.id, type: f.type, autocomplete: f.getAttribute('autocomplete'),
    label: [...f.labels].map((l) => l.textContent.trim()).join(' ') || f.getAttribute('aria-label') || '',
  })));

test('every field has a label and asks for no autofill: the site key is no login password for the browser to save', async () => {
  const { site, key } = await siteWithKey(config, 'con');
  const room = uniqueRoom('fields');
  const eve = await join(room, 'Eve', { site }, from('192.0.2.81'));
  const seq = await post(eve, 'hello');
  const context = await browser.newContext();
  const page = await consolePage(context);
  const signInFields = await fields(page);
  assert.deepEqual(signInFields, [
    { id: 'site-id', type: 'text', autocomplete: 'off', label: 'Site id' },
    { id: 'site-key', type: 'password', autocomplete: 'off', label: 'Site key' },
  ]);
  for (const id of ['site-id', 'site-key']) {
    const field = page.locator(`#${id}`);
    assert.deepEqual([await field.getAttribute('spellcheck'), await field.getAttribute('autocapitalize')], ['false', 'off'], id);
  }
  await signIn(page, site, key);
  await openRoom(page, room);
  await page.locator('.room-actions summary').click();
  await page.locator(`#m-${seq}`).getByRole('button', { name: 'Mute Eve' }).click();
  const shown = await fields(page);
  assert.deepEqual(shown.map((f) => f.id), ['room-filter', 'slow-seconds', 'bot-name', 'bot-text',
    `panel-message-${seq}-mute-for`, `panel-message-${seq}-mute-reason`]);
  for (const f of shown) {
    assert.ok(f.label, `${f.id} has a label`);
    // Text fields: nothing from the browser's address book or password manager.
    if (f.type !== 'select-one') assert.equal(f.autocomplete, 'off', f.id);
  }
  assert.deepEqual(shown.map((f) => f.label), ['Filter rooms', 'Slow mode', 'Bot name', 'Message', 'For', 'Reason (optional)']);
  assert.deepEqual(page.problems, []);
  await eve.close();
  await context.close();
});

test('a report with its evidence; Dismiss closes it (the moderators hear 0); Delete reaches the members', async () => {
  const { site, key } = await siteWithKey(config, 'con');
  const room = uniqueRoom('reports');
  const eve = await join(room, 'Eve', { site });
  const bo = await join(room, 'Bo', { site }, from('192.0.2.21'));
  const mo = await join(room, 'x', { site, token: moderatorToken() });
  const bad = await post(eve, 'buy cheap pills');
  const other = await post(eve, 'another thing');
  assert.equal((await act(bo, { type: 'report', target: bad, reason: 'spam', note: 'ads, again' })).type, 'ack');
  assert.equal((await mo.next('reported')).reports, 1);
  assert.equal((await act(eve, { type: 'edit', target: bad, message: 'have a nice day' })).type, 'ack');

  const context = await browser.newContext();
  const page = await consolePage(context);
  await signIn(page, site, key);
  await openRoom(page, room);
  const card = page.locator(`#r-${bad}`);
  await card.waitFor();
  assert.match(await card.locator('h4').textContent(), new RegExp(`Eve's message #${bad}: 1 open report`));
  const text = await card.textContent();
  for (const want of ['Reported by Bo', 'for spam', 'ads, again', 'As reported (changed since):', 'buy cheap pills', 'have a nice day', '(edited)']) {
    assert.ok(text.includes(want), `${want} in ${text}`);
  }
  // The reports come before the messages.
  const order = await page.evaluate(() => {
    const r = document.getElementById('report-list');
    const m = document.getElementById('message-list');
    return Boolean(r.compareDocumentPosition(m) & Node.DOCUMENT_POSITION_FOLLOWING);
  });
  assert.ok(order);
  await page.locator(`#m-${other}`).waitFor();

  // Dismiss, once confirmed: gone from the console and from the API; a moderator's widget hears 0.
  await card.getByRole('button', { name: `Dismiss reports on message #${bad} by Eve` }).click();
  assert.match(await card.locator('.confirm').textContent(), new RegExp(`Dismiss the open report on message #${bad} by Eve\\?`));
  await confirmButton(page, 'Dismiss reports').click();
  assert.match(await status(page, /dismissed/), new RegExp(`Reports on message #${bad} dismissed`));
  await card.waitFor({ state: 'detached' });
  assert.deepEqual(await mo.next('reported'), { type: 'reported', target: bad, reports: 0, reasons: {} });
  assert.deepEqual((await siteApi(key, 'GET', `/${site}/rooms/${room}/reports`)).body.reports, []);
  assert.equal(await page.locator('#reports-empty').isVisible(), true);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'reports-title', 'focus: the list it left');

  // Delete, from the messages, after an inline confirmation (Cancel first: nothing happens).
  const item = page.locator(`#m-${other}`);
  await item.getByRole('button', { name: `Delete message #${other} by Eve` }).click();
  const confirm = item.locator('.confirm');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await confirm.waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement.dataset.action), 'delete', 'focus back on Delete');
  await item.getByRole('button', { name: `Delete message #${other} by Eve` }).click();
  assert.match(await confirm.textContent(), /cannot be undone/);
  await confirm.getByRole('button', { name: 'Delete message' }).click();
  await status(page, new RegExp(`Message #${other} by Eve deleted`));
  await item.locator('.text.deleted').waitFor();
  const gone = await bo.next((f) => f.type === 'update' && f.target === other);
  assert.equal(gone.deleted, true);
  assert.equal(await item.locator('[data-action]').count(), 0, 'a tombstone has no actions');
  assert.equal(await page.evaluate(() => document.activeElement.id), `m-${other}`, 'focus stays on the message');
  assert.deepEqual(page.problems, []);
  await Promise.all([eve, bo, mo].map((c) => c.close()));
  await context.close();
});

test('Ban from a report card refuses the next join; Mute, Pin, slow mode and lock reach the room', async () => {
  const { site, key } = await siteWithKey(config, 'con');
  const room = uniqueRoom('ban');
  const eve = await join(room, 'Eve', { site }, from('192.0.2.31'));
  const cy = await join(room, 'Cy', { site }, from('192.0.2.32'));
  const bo = await join(room, 'Bo', { site }, from('192.0.2.33'));
  const bad = await post(eve, 'you are all idiots');
  const cyMsg = await post(cy, 'a useful tip');
  assert.equal((await act(bo, { type: 'report', target: bad, reason: 'harassment' })).type, 'ack');

  const context = await browser.newContext();
  const page = await consolePage(context);
  await signIn(page, site, key);
  await openRoom(page, room);

  // Mute Cy for 10 minutes, from the keyboard; Escape first closes the panel and returns focus.
  const cyItem = page.locator(`#m-${cyMsg}`);
  await cyItem.getByRole('button', { name: 'Mute Cy' }).focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.tagName), 'SELECT', 'focus in the panel');
  await page.keyboard.press('Escape');
  await cyItem.locator('.confirm').waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Mute Cy');
  await page.keyboard.press('Enter');
  await cyItem.getByLabel('Reason (optional)').fill('cool off');
  await cyItem.locator('.confirm').getByRole('button', { name: 'Mute Cy', exact: true }).click();
  await status(page, /Cy muted for 10 minutes/);
  const muted = await cy.next((f) => f.type === 'moderation' && f.action === 'mute');
  assert.deepEqual([muted.sender, muted.reason], [cy.welcome.sender, 'cool off']);
  assert.ok(Math.abs(muted.until - Date.now() - 600_000) < 30_000, `muted for 10 minutes: ${JSON.stringify(muted)}`);

  // Pin.
  await cyItem.getByRole('button', { name: `Pin message #${cyMsg} by Cy` }).click();
  await confirmButton(page, 'Pin message').click();
  await status(page, /pinned/);
  assert.equal((await bo.next((f) => f.type === 'moderation' && f.action === 'pin')).target, cyMsg);

  // Ban Eve for 1 hour, from the report.
  const card = page.locator(`#r-${bad}`);
  await card.getByRole('button', { name: 'Ban Eve' }).click();
  await card.getByLabel('For', { exact: true }).selectOption({ label: '1 hour' });
  await card.getByLabel('Reason (optional)').fill('abuse');
  await card.locator('.confirm').getByRole('button', { name: 'Ban Eve', exact: true }).click();
  await status(page, /Eve banned for 1 hour/);
  assert.equal((await eve.next((f) => f.type === 'error')).code, 'banned');
  const again = await refused({ room, site, v: '1', name: 'Eve' }, from('192.0.2.31'));
  assert.deepEqual([again.code, again.error.code], [4008, 'banned']);
  // The report stays open (a ban does not dismiss it); focus is back on the Ban button.
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Ban Eve');
  // Unban, from the same panel: Eve may come back.
  await page.keyboard.press('Enter');
  await card.locator('.confirm').getByRole('button', { name: 'Unban Eve', exact: true }).click();
  await status(page, /Eve unbanned/);
  const back = await join(room, 'Eve', { site }, from('192.0.2.31'));
  await back.close();

  // Room-wide: slow mode and lock.
  await page.getByLabel('Slow mode').selectOption('30');
  await page.getByRole('button', { name: 'Set slow mode' }).click();
  await confirmButton(page, 'Set slow mode').click();
  await status(page, /one message per 30 seconds/);
  const slow = await bo.next((f) => f.type === 'moderation' && f.action === 'slow');
  assert.equal(slow.seconds, 30);
  await page.getByRole('button', { name: 'Lock room', exact: true }).click();
  await confirmButton(page, 'Lock room').click();
  await status(page, /locked/);
  await bo.next((f) => f.type === 'moderation' && f.action === 'lock');
  const refusedPost = await act(bo, { type: 'send', message: 'hello?' });
  assert.equal(refusedPost.code, 'locked');
  await page.getByRole('button', { name: 'Unlock room' }).click();
  await confirmButton(page, 'Unlock room').click();
  await bo.next((f) => f.type === 'moderation' && f.action === 'unlock');

  // An action the API refuses shows its error.
  await page.route('**/moderation', (route) => route.fulfill({ status: 503, contentType: 'application/json',
    body: JSON.stringify({ error: 'unavailable', message: 'try again later' }) }));
  await page.locator('#lock').click();
  await confirmButton(page, 'Lock room').click();
  assert.match(await status(page, /503/), /Could not lock: try again later \(503 unavailable\)\./);
  assert.equal(await page.locator('#status').getAttribute('class'), 'console-status error');
  // The step stays open on the refusal, focus on its button: to try again or cancel.
  assert.equal(await focusedText(page), 'Lock room');
  assert.equal(await page.locator('#confirm-lock').isVisible(), true);
  assert.deepEqual(page.problems, []);
  await Promise.all([eve, cy, bo].map((c) => c.close().catch(() => {})));
  await context.close();
});


test('what is in force: online, lock, slow mode, pin, mutes and bans with names; Unban, Unmute, Unlock and Unpin from there', async () => {
  const { site, key } = await siteWithKey(config, 'con');
  const room = uniqueRoom('glance');
  const path = `/${site}/rooms/${room}`;
  const eve = await join(room, 'Eve', { site }, from('192.0.2.61'));
  const bo = await join(room, 'Bo', { site }, from('192.0.2.62'));
  const cy = await join(room, 'Cy', { site }, from('192.0.2.63'));
  // Never writes: the console cannot know this one's name. (Banned before it
  // ever wrote, its socket takes ~10 s to finish closing under workerd: terminated at the end.)
  const ghost = await join(room, 'Ghost', { site }, from('192.0.2.64'));
  const rules = await post(cy, 'Read the rules first');
  await post(eve, 'hello');
  const boMsg = await post(bo, 'hi');

  const context = await browser.newContext();
  const page = await consolePage(context);
  await signIn(page, site, key);
  await openRoom(page, room);
  const panel = page.locator('#room-state');
  await panel.waitFor();
  // At the top of the room, before the reports and messages.
  assert.ok(await page.evaluate(() => Boolean(document.getElementById('room-state')
    .compareDocumentPosition(document.getElementById('report-list')) & Node.DOCUMENT_POSITION_FOLLOWING)));
  assert.equal(await page.locator('#state-online').textContent(), '4 online now');
  assert.equal(await page.locator('#lock-state').textContent(), 'Not locked');
  assert.equal(await page.getByRole('button', { name: 'Unlock room' }).count(), 0, 'only what applies');
  assert.equal(await page.getByLabel('Slow mode').inputValue(), '0');
  assert.equal(await page.locator('#slow-seconds option:checked').textContent(), 'Off (in force)');
  assert.equal(await page.locator('#pinned-body').textContent(), 'Nothing pinned.');
  assert.equal(await page.locator('#muted-empty').isVisible(), true);
  assert.equal(await page.locator('#banned-empty').isVisible(), true);

  // Mute Bo for good from the console; ban Eve for an hour and the nameless one for good by the API, then Refresh.
  const boItem = page.locator(`#m-${boMsg}`);
  await boItem.getByRole('button', { name: 'Mute Bo' }).click();
  await boItem.getByLabel('For', { exact: true }).selectOption({ label: 'for good' });
  await boItem.locator('.confirm').getByRole('button', { name: 'Mute Bo', exact: true }).click();
  await status(page, /Bo muted for good/);
  const muted = page.locator('#muted-list > li');
  await muted.first().waitFor();
  assert.equal(await muted.count(), 1);
  assert.equal(await muted.locator('p').textContent(), 'Bo for good');
  assert.equal(await page.locator('#muted-title').textContent(), 'Muted (1)');
  const until = Date.now() + 3600_000;
  assert.equal((await siteApi(key, 'POST', `${path}/moderation`, { action: 'ban', sender: eve.welcome.sender, seconds: 3600 })).status, 200);
  assert.equal((await siteApi(key, 'POST', `${path}/moderation`, { action: 'ban', sender: ghost.welcome.sender })).status, 200);
  await page.getByRole('button', { name: 'Refresh' }).click();
  await status(page, /refreshed/);
  const banned = page.locator('#banned-list > li');
  assert.equal(await banned.count(), 2);
  // The soonest to end first; for good last.
  assert.match(await banned.nth(0).locator('p').textContent(), /^Eve until /);
  const datetime = await banned.nth(0).locator('time').getAttribute('datetime');
  assert.ok(Math.abs(Date.parse(datetime) - until) < 60_000, `until ${datetime}`);
  const short = ghost.welcome.sender.length > 8 ? `${ghost.welcome.sender.slice(0, 8)}…` : ghost.welcome.sender;
  assert.equal(await banned.nth(1).locator('p').textContent(), `${short} (name unknown) for good`);
  assert.equal(await banned.nth(1).locator('code').getAttribute('title'), ghost.welcome.sender);
  assert.equal(await page.locator('#banned-title').textContent(), 'Banned (2)');
  assert.equal(await page.locator('#state-online').textContent(), '2 online now', 'the banned are out');

  // Unban Eve from the list, once confirmed: she may join again, and focus goes to the next item.
  await banned.getByRole('button', { name: 'Unban Eve' }).click();
  assert.match(await banned.locator('.confirm').textContent(), new RegExp(`Unban Eve\\? They can join ${room} again\\.`));
  await confirmButton(page, 'Unban Eve').click();
  await status(page, /Eve unbanned/);
  await page.locator('#banned-list > li', { hasText: 'Eve' }).waitFor({ state: 'detached' });
  assert.equal(await banned.count(), 1);
  assert.equal(await focusedText(page), `Unban ${short}`, 'focus on the next one');
  const back = await join(room, 'Eve', { site }, from('192.0.2.61'));
  assert.equal(back.welcome.type, 'welcome');
  // From the keyboard: Enter opens the step with focus on its button, Enter again confirms.
  await page.keyboard.press('Enter');
  assert.equal(await focusedText(page), `Unban ${short}`);
  assert.equal(await page.evaluate(() => Boolean(document.activeElement.closest('.confirm'))), true, 'focus in the step');
  await page.keyboard.press('Enter');
  await status(page, new RegExp(`${short} unbanned`));
  await page.locator('#banned-empty').waitFor();
  assert.equal(await focusedId(page), 'banned-title', 'the list is empty: its heading');
  await (await join(room, 'Ghost', { site }, from('192.0.2.64'))).close();
  // Unmute Bo: he may write again.
  await muted.getByRole('button', { name: 'Unmute Bo' }).click();
  await confirmButton(page, 'Unmute Bo').click();
  await status(page, /Bo unmuted/);
  await page.locator('#muted-empty').waitFor();
  assert.equal(await focusedId(page), 'muted-title');
  await post(bo, 'thanks');

  // Lock: "Locked", a member's send is refused; focus on Unlock; Unlock (Enter, Enter) lifts it.
  await page.getByRole('button', { name: 'Lock room', exact: true }).click();
  await confirmButton(page, 'Lock room').click();
  await page.locator('#lock-state', { hasText: /^Locked$/ }).waitFor();
  assert.equal(await focusedId(page), 'unlock');
  assert.equal(await page.locator('#lock').isVisible(), false);
  assert.equal(await page.locator('.confirm').count(), 0, 'the step is closed');
  assert.equal((await act(cy, { type: 'send', message: 'hello?' })).code, 'locked');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Enter');
  await page.locator('#lock-state', { hasText: 'Not locked' }).waitFor();
  assert.equal(await focusedId(page), 'lock');
  await post(cy, 'open again');

  // Slow mode: the select shows the value in force, also one it does not offer.
  assert.equal((await siteApi(key, 'POST', `${path}/moderation`, { action: 'slow', seconds: 45 })).status, 200);
  await page.getByRole('button', { name: 'Refresh' }).click();
  await page.locator('#slow-seconds option:checked', { hasText: '45 seconds (in force)' }).waitFor({ state: 'attached' });
  assert.equal(await page.getByLabel('Slow mode').inputValue(), '45');
  await page.getByLabel('Slow mode').selectOption('10');
  await page.getByRole('button', { name: 'Set slow mode' }).click();
  await confirmButton(page, 'Set slow mode').click();
  await page.locator('#slow-seconds option:checked', { hasText: '10 seconds (in force)' }).waitFor({ state: 'attached' });
  assert.equal(await page.locator('#slow-seconds option[value="45"]').count(), 0);
  assert.equal(await page.locator('#slow-seconds option', { hasText: 'in force' }).count(), 1);
  // A choice not yet set survives a refresh that finds the same value in force.
  await page.getByLabel('Slow mode').selectOption('60');
  await page.getByRole('button', { name: 'Refresh' }).click();
  await status(page, /refreshed/);
  assert.equal(await page.getByLabel('Slow mode').inputValue(), '60');
  assert.equal(await page.locator('#slow-seconds option[value="10"]').textContent(), '10 seconds (in force)');

  // Pin from a message: the panel shows it; Unpin clears it for the members.
  await page.locator(`#m-${rules}`).getByRole('button', { name: `Pin message #${rules} by Cy` }).click();
  await confirmButton(page, 'Pin message').click();
  await status(page, /pinned/);
  const pinned = page.locator('#state-pinned');
  await pinned.locator('.text', { hasText: 'Read the rules first' }).waitFor();
  assert.equal(await pinned.locator('.name').textContent(), 'Cy');
  assert.equal((await bo.next((f) => f.type === 'pinned')).message.seq, rules);
  await pinned.getByRole('button', { name: `Unpin message #${rules} by Cy` }).click();
  await confirmButton(page, 'Unpin message').click();
  await status(page, new RegExp(`Message #${rules} by Cy unpinned`));
  const unpinned = await bo.next((f) => f.type === 'pinned');
  assert.equal(unpinned.message, undefined, JSON.stringify(unpinned));
  await page.locator('#pinned-body', { hasText: 'Nothing pinned.' }).waitFor();
  assert.equal(await focusedId(page), 'state-pinned');
  assert.equal((await siteApi(key, 'GET', path)).body.pinned, null);

  // When it cannot be read, the panel says so and both lock buttons are offered; the rest still shows.
  await page.route(`**/v1/sites/${site}/rooms/${room}`, (route) => route.fulfill({ status: 503, contentType: 'application/json',
    body: JSON.stringify({ error: 'unavailable', message: 'try again later' }) }));
  await page.getByRole('button', { name: 'Refresh' }).click();
  await page.locator('#state-error', { hasText: 'Could not read what is in force: try again later (503 unavailable).' }).waitFor();
  assert.equal(await page.locator('#lock').isVisible(), true);
  assert.equal(await page.locator('#unlock').isVisible(), true);
  assert.equal(await page.locator('#sanctions').isVisible(), false, 'no empty lists that would mislead');
  assert.equal(await page.locator(`#m-${rules}`).isVisible(), true);
  assert.deepEqual(page.problems, []);
  ghost.ws.terminate();
  await Promise.all([eve, bo, cy, back].map((c) => c.close().catch(() => {})));
  await context.close();
});

test('every action on the room asks first: one click sends nothing; Escape and Cancel give focus back; a held Enter does not confirm', async () => {
  const { site, key } = await siteWithKey(config, 'con');
  const room = uniqueRoom('ask');
  const path = `/${site}/rooms/${room}`;
  const eve = await join(room, 'Eve', { site }, from('192.0.2.71'));
  const bo = await join(room, 'Bo', { site }, from('192.0.2.72'));
  const cy = await join(room, 'Cy', { site }, from('192.0.2.73'));
  const bad = await post(eve, 'spam spam spam');
  const tip = await post(cy, 'a useful tip');
  assert.equal((await act(bo, { type: 'report', target: bad, reason: 'spam' })).type, 'ack');
  for (const body of [{ action: 'pin', target: tip }, { action: 'mute', sender: cy.welcome.sender, seconds: 600 },
    { action: 'ban', sender: eve.welcome.sender, seconds: 600 }]) {
    assert.equal((await siteApi(key, 'POST', `${path}/moderation`, body)).status, 200);
  }
  const context = await browser.newContext();
  const page = await consolePage(context);
  await signIn(page, site, key);
  await openRoom(page, room);
  await page.locator('#banned-list > li').waitFor();
  // Every request that would change something.
  const sent = [];
  page.on('request', (r) => { if (r.method() !== 'GET') sent.push(`${r.method()} ${new URL(r.url()).pathname} ${r.postData() ?? ''}`); });
  const opened = page.locator('.confirm');
  const isFocused = (locator) => locator.evaluate((node) => node === document.activeElement);

  await page.getByLabel('Slow mode').selectOption('30');
  const steps = [
    [page.locator(`#r-${bad}`).getByRole('button', { name: `Dismiss reports on message #${bad} by Eve` }),
      new RegExp(`^Dismiss the open report on message #${bad} by Eve\\? The message stays as it is`), 'Dismiss reports'],
    [page.locator(`#m-${bad}`).getByRole('button', { name: `Pin message #${bad} by Eve` }),
      new RegExp(`^Pin message #${bad} by Eve above the room, for everyone in it\\? It replaces message #${tip} by Cy\\.`), 'Pin message'],
    [page.locator('#lock'), new RegExp(`^Lock room ${room}\\? Only moderators and this console can write`), 'Lock room'],
    [page.getByRole('button', { name: 'Set slow mode' }), new RegExp(`^Set slow mode in ${room}: one message per 30 seconds per member\\?`), 'Set slow mode'],
    [page.locator('#state-pinned').getByRole('button', { name: `Unpin message #${tip} by Cy` }),
      new RegExp(`^Unpin message #${tip} by Cy\\? It is no longer shown above the room\\.`), 'Unpin message'],
    [page.locator('#muted-list').getByRole('button', { name: 'Unmute Cy' }), new RegExp(`^Unmute Cy\\? They can write in ${room} again\\.`), 'Unmute Cy'],
    [page.locator('#banned-list').getByRole('button', { name: 'Unban Eve' }), new RegExp(`^Unban Eve\\? They can join ${room} again\\.`), 'Unban Eve'],
  ];
  for (const [opener, question, label] of steps) {
    // One click: the question, focus on its button, nothing sent; Escape closes it, focus back on the opener.
    await opener.click();
    await opened.waitFor();
    assert.match(await opened.textContent(), question, label);
    assert.equal(await page.evaluate(() => document.activeElement.closest('.confirm')?.getAttribute('aria-labelledby')),
      await opened.getAttribute('aria-labelledby'), `${label}: focus in the step`);
    assert.equal(await focusedText(page), label);
    assert.equal(await page.getByRole('group', { name: question }).count(), 1, `${label}: a group named by its question`);
    await page.keyboard.press('Escape');
    await opened.waitFor({ state: 'detached' });
    assert.ok(await isFocused(opener), `${label}: Escape gives focus back`);
    // Cancel does the same.
    await opener.click();
    await opened.getByRole('button', { name: 'Cancel' }).click();
    await opened.waitFor({ state: 'detached' });
    assert.ok(await isFocused(opener), `${label}: Cancel gives focus back`);
    // Enter held down on the opener: its first press opens the step, its repeats do not confirm it.
    await opener.focus();
    await page.keyboard.down('Enter');
    await page.keyboard.down('Enter');
    await page.keyboard.down('Enter');
    await page.keyboard.up('Enter');
    assert.deepEqual(sent, [], `${label}: a held Enter sent nothing`);
    await opened.waitFor({ timeout: 5000 });
    assert.equal(await focusedText(page), label);
    await page.keyboard.press('Escape');
    await opened.waitFor({ state: 'detached' });
  }
  assert.deepEqual(sent, [], 'nothing was sent');
  const state = (await siteApi(key, 'GET', path)).body;
  assert.deepEqual([state.locked, state.slowMode, state.pinned?.seq, state.muted.length, state.banned.length], [false, 0, tip, 1, 1]);
  assert.equal((await siteApi(key, 'GET', `${path}/reports`)).body.reports.length, 1);

  // Confirmed from the keyboard (Enter, then Enter again): the room is locked; Unlock asks too.
  await page.locator('#lock').focus();
  await page.keyboard.press('Enter');
  await page.keyboard.press('Enter');
  await page.locator('#lock-state', { hasText: /^Locked$/ }).waitFor();
  assert.equal(sent.length, 1);
  assert.match(sent[0], /^POST .*\/moderation \{"action":"lock"\}$/);
  assert.equal(await focusedId(page), 'unlock');
  await page.keyboard.press('Enter');
  assert.match(await opened.textContent(), new RegExp(`^Unlock room ${room}\\? Everyone in it can write again\\.`));
  await page.keyboard.press('Escape');
  assert.equal(await focusedId(page), 'unlock');
  assert.equal(sent.length, 1);
  assert.equal((await siteApi(key, 'GET', path)).body.locked, true);
  assert.deepEqual(page.problems, []);
  await Promise.all([eve, bo, cy].map((c) => c.close().catch(() => {})));
  await context.close();
});

/** Show or hide the page as a browser does when another tab comes to the front (headless pages are always shown). */
const setVisibility = (page, state) => page.evaluate((s) => {
  Object.defineProperty(document, 'visibilityState', { value: s, configurable: true });
  Object.defineProperty(document, 'hidden', { value: s === 'hidden', configurable: true });
  document.dispatchEvent(new Event('visibilitychange'));
}, state);

test('the room list keeps itself up to date while shown, focus kept; it asks nothing while hidden, and at once when shown again', async () => {
  const { site, key } = await siteWithKey(config, 'con');
  const [first, second] = [uniqueRoom('live-a'), uniqueRoom('live-b')];
  const context = await browser.newContext();
  const page = await consolePage(context);
  const asked = []; // the page's requests for the room list
  page.on('request', (r) => { if (r.method() === 'GET' && new URL(r.url()).pathname === `/v1/sites/${site}/rooms`) asked.push(r.url()); });
  await signIn(page, site, key);
  await page.locator('#rooms-count', { hasText: 'No rooms yet' }).waitFor();

  // A member writes in a new room: it shows without a click, then its new count.
  const ada = await join(first, 'Ada', { site }, from('192.0.2.91'));
  await post(ada, 'first');
  const button = await roomButton(page, first, '1 message');
  await page.locator('#rooms-count', { hasText: /^1 room\.$/ }).waitFor();
  await button.focus();
  await page.evaluate(() => { document.activeElement.marked = true; });
  await post(ada, 'second');
  await roomButton(page, first, '2 messages');
  assert.equal(await page.evaluate(() => document.activeElement.marked === true && document.activeElement.dataset.room),
    first, 'focus stays on the same button, updated in place');
  assert.equal(await page.locator('.room-button').count(), 1);

  // Hidden (another tab in front): a room written in meanwhile is listed by the server, but the page does not ask.
  await setVisibility(page, 'hidden');
  const bo = await join(second, 'Bo', { site }, from('192.0.2.92'));
  await post(bo, 'hello');
  for (let i = 0; i < 100 && !(await siteApi(key, 'GET', `/${site}/rooms`)).body.rooms.some((r) => r.room === second); i++) await sleep(100);
  const before = asked.length;
  // Absence takes a while to show: more than two of the page's 2 s intervals.
  await sleep(4500);
  assert.equal(asked.length, before, 'nothing asked while hidden');
  assert.equal(await roomLocator(page, second).count(), 0);
  // Shown again: asked at once (no interval is running to do it).
  await setVisibility(page, 'visible');
  await roomButton(page, second, '1 message', 5000);
  await page.locator('#rooms-count', { hasText: /^2 rooms\.$/ }).waitFor();

  // The filter still applies to what comes in.
  await page.locator('#room-filter').fill(second);
  await post(ada, 'third');
  await post(bo, 'again');
  await roomButton(page, second, '2 messages');
  assert.equal(await roomLocator(page, first).count(), 0, 'filtered out, also after a refresh');
  await page.locator('#room-filter').fill('');
  await roomButton(page, first, '3 messages');
  assert.deepEqual(page.problems, []);
  await Promise.all([ada.close(), bo.close(), context.close()]);
});

test('with more rooms than loaded, the list keeps the rooms loaded up to date and leaves the others to More rooms', async () => {
  const { site, key } = await siteWithKey(config, 'con');
  const botPost = (room, message) => siteApi(key, 'POST', `/${site}/rooms/${room}/messages`, { name: 'Bot', message });
  const names = Array.from({ length: 51 }, (_, i) => `p-${String(i).padStart(2, '0')}`);
  for (const room of names) assert.equal((await botPost(room, 'hello')).status, 201);
  for (let i = 0; i < 100 && (await siteApi(key, 'GET', `/${site}/rooms?limit=100`)).body.rooms.length < 51; i++) await sleep(100);
  const context = await browser.newContext();
  const page = await consolePage(context);
  await signIn(page, site, key);
  await page.locator('#rooms-count', { hasText: /^50 rooms \(more to load\)\.$/ }).waitFor();
  const shown = () => page.locator('.room-button .room-name').allTextContents();

  // Reload rooms and More rooms that cannot read the list say so and nothing else (no "reloaded"
  // after the error); the list loaded stays, marked as maybe out of date, in a live region.
  const listRead = (url) => url.pathname === `/v1/sites/${site}/rooms`;
  await page.route(listRead, (route) => route.abort('internetdisconnected'));
  for (const button of ['Reload rooms', 'More rooms']) {
    await page.evaluate(() => { document.getElementById('status').textContent = ''; });
    await page.getByRole('button', { name: button }).click();
    await status(page, /^Could not load the rooms: Could not reach the server/);
    await sleep(300);
    assert.match(await page.locator('#status').textContent(), /^Could not load the rooms: /, `${button}: the error stays`);
    await page.getByRole('status').filter({ hasText: /^The list may be out of date: Could not reach the server/ }).waitFor();
  }
  assert.equal(await focusedId(page), 'more-rooms', 'focus stays on More rooms');
  assert.equal(await page.locator('#rooms-count').textContent(), '50 rooms (more to load).');
  await page.unroute(listRead);
  await page.getByRole('button', { name: 'Reload rooms' }).click();
  await status(page, /^Rooms reloaded: 50 rooms, more to load\.$/);
  assert.equal(await page.locator('#rooms-stale').isVisible(), false);

  // A new room among those loaded shows; the room past them, written in, stays for More.
  assert.equal((await botPost('p-00a', 'new')).status, 201);
  assert.equal((await botPost('p-50', 'again')).status, 201);
  assert.equal((await botPost('p-10', 'again')).status, 201);
  await roomButton(page, 'p-00a', '1 message');
  await roomButton(page, 'p-10', '2 messages');
  await page.locator('#rooms-count', { hasText: /^51 rooms \(more to load\)\.$/ }).waitFor();
  // A page of the list at a time: let it go round once more (the third answer comes after the second is shown).
  for (let i = 0; i < 3; i++) await page.waitForResponse((r) => r.url().includes(`/v1/sites/${site}/rooms?`));
  assert.deepEqual(await shown(), ['p-00', 'p-00a', ...names.slice(1, 50)]);
  assert.equal(await page.locator('#rooms-count').textContent(), '51 rooms (more to load).');
  // Filtered, the first room loaded that matches gets focus (not the one at its place in the whole list).
  await page.locator('#room-filter').fill('p-5');
  await page.getByRole('button', { name: 'More rooms' }).click();
  await roomButton(page, 'p-50', '2 messages');
  assert.equal(await page.locator('#more-rooms').isVisible(), false);
  assert.equal(await focusedText(page).then((t) => t.startsWith('p-50')), true, 'focus on the first room loaded');
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('with the server\'s own report intervals, a busy room\'s count reaches the list shown within seconds (10 s when nobody looks)', async () => {
  // The shared test server makes rooms report every 1.5 s: this one keeps the real intervals,
  // a busy room reporting every 10 s, every 2 s while someone lists it (the console, shown).
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'hello-chat-console-'));
  const server = await startServer({ persistTo: state });
  try {
    const base = server.url;
    const site = `con-${Date.now().toString(36)}`;
    assert.equal((await admin('PUT', `/sites/${site}`, config, { base })).status, 201);
    const made = await admin('POST', `/sites/${site}/keys`, undefined, { base });
    assert.equal(made.status, 201, made.text);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/console.html`);
    await signIn(page, site, made.body.key);
    await page.locator('#rooms-count', { hasText: 'No rooms yet' }).waitFor();
    const room = uniqueRoom('busy');
    const ada = await join(room, 'Ada', { site }, { base, ...from('192.0.2.95') });
    const started = Date.now();
    // The first message is reported at once; the next two fall within the room's report interval.
    for (const text of ['one', 'two', 'three']) await post(ada, text);
    // 2 s for the room's report, up to 2 s for the page's next look; nobody looking, it would take 10 s.
    await roomButton(page, room, '3 messages', 9000);
    const took = Date.now() - started;
    assert.ok(took < 8500, `the list showed the count after ${took} ms`);
    await ada.close();
    await context.close();
  } finally {
    await server.stop();
    fs.rmSync(state, { recursive: true, force: true });
  }
});

test('the open room keeps itself up to date while shown: messages, edits, deletes, reports, another moderator\'s lock; focus, a step and typed text kept', async () => {
  const { site, key } = await siteWithKey(config, 'con');
  const room = uniqueRoom('live-room');
  const path = `/${site}/rooms/${room}`;
  const ada = await join(room, 'Ada', { site }, from('192.0.2.101'));
  const bo = await join(room, 'Bo', { site }, from('192.0.2.102'));
  const first = await post(ada, 'first words');
  const context = await browser.newContext();
  const page = await consolePage(context);
  await signIn(page, site, key);
  await openRoom(page, room);
  assert.equal(await page.locator('#lock-state').textContent(), 'Not locked');
  await page.evaluate((id) => { document.getElementById(id).marked = true; }, `m-${first}`);

  // Text typed for the bot, not sent, with focus in it: a member's new message shows without a click.
  await page.locator('.room-actions summary').click();
  await page.getByLabel('Message', { exact: true }).fill('half a notice');
  await page.getByLabel('Message', { exact: true }).focus();
  const live = await post(ada, 'a live one');
  await page.locator(`#m-${live}`, { hasText: 'a live one' }).waitFor({ timeout: 10_000 });
  assert.equal(await focusedId(page), 'bot-text', 'focus stays in the composer');
  assert.equal(await page.getByLabel('Message', { exact: true }).inputValue(), 'half a notice');
  assert.equal(await page.evaluate((id) => document.getElementById(id).marked, `m-${first}`), true, 'cards kept, not rebuilt');
  assert.doesNotMatch(await page.locator('#status').textContent(), /a live one|new message/, 'messages are not announced');

  // A step open with a reason half typed, focus in it: the message it is about is edited meanwhile.
  const card = page.locator(`#m-${first}`);
  await card.getByRole('button', { name: 'Mute Ada' }).click();
  await card.getByLabel('Reason (optional)').fill('calm down');
  assert.equal((await act(ada, { type: 'edit', target: first, message: 'first words, edited' })).type, 'ack');
  await card.locator('.text', { hasText: 'first words, edited' }).waitFor({ timeout: 10_000 });
  assert.equal(await card.locator('.edited').count(), 1);
  assert.equal(await card.getByLabel('Reason (optional)').inputValue(), 'calm down', 'the step stays open');
  assert.equal(await page.evaluate(() => document.activeElement.id), await card.getByLabel('Reason (optional)').getAttribute('id'), 'focus stays in it');

  // A widget member reports; another moderator locks the room and deletes a message (the site API).
  assert.equal((await act(bo, { type: 'report', target: live, reason: 'spam', note: 'ads' })).type, 'ack');
  await page.locator(`#r-${live}`, { hasText: 'Reported by Bo' }).waitFor({ timeout: 10_000 });
  assert.match(await status(page, /new report/), new RegExp(`1 new report in ${room} on Ada's message #${live}`));
  assert.equal((await siteApi(key, 'POST', `${path}/moderation`, { action: 'lock' })).status, 200);
  await page.locator('#lock-state', { hasText: /^Locked$/ }).waitFor({ timeout: 10_000 });
  assert.equal(await page.locator('#unlock').isVisible(), true);
  assert.equal(await page.locator('#lock').isVisible(), false);
  assert.equal((await siteApi(key, 'DELETE', `${path}/messages/${live}`)).status, 200);
  await page.locator(`#m-${live} .text.deleted`).waitFor({ timeout: 10_000 });
  // The report went with the message.
  await page.locator(`#r-${live}`).waitFor({ state: 'detached', timeout: 10_000 });
  assert.equal(await card.getByLabel('Reason (optional)').inputValue(), 'calm down', 'the step is still open');
  assert.equal(await page.evaluate(() => document.activeElement.closest('.confirm') !== null), true, 'focus still in the step');
  assert.equal(await page.getByLabel('Message', { exact: true }).inputValue(), 'half a notice');

  // Unlocked by someone else, focus on Unlock: it goes to Lock, now shown.
  await card.locator('.confirm').getByRole('button', { name: 'Cancel' }).click();
  await page.locator('#unlock').focus();
  assert.equal((await siteApi(key, 'POST', `${path}/moderation`, { action: 'unlock' })).status, 200);
  await page.locator('#lock-state', { hasText: 'Not locked' }).waitFor({ timeout: 10_000 });
  assert.equal(await focusedId(page), 'lock');

  // A step about a message someone else deletes meanwhile closes; focus goes to the message.
  await card.getByRole('button', { name: `Delete message #${first} by Ada` }).click();
  assert.equal(await card.locator('.confirm').count(), 1);
  assert.equal((await siteApi(key, 'DELETE', `${path}/messages/${first}`)).status, 200);
  await card.locator('.text.deleted').waitFor({ timeout: 10_000 });
  assert.equal(await card.locator('.confirm').count(), 0, 'the step closed');
  assert.equal(await focusedId(page), `m-${first}`);
  assert.deepEqual(page.problems, []);
  await Promise.all([ada.close(), bo.close(), context.close()]);
});

test('the open room asks nothing while hidden or signed out, at once when shown again; a failed read says it may be out of date', async () => {
  const { site, key } = await siteWithKey(config, 'con');
  const room = uniqueRoom('live-hidden');
  const ada = await join(room, 'Ada', { site }, from('192.0.2.103'));
  await post(ada, 'hello');
  const context = await browser.newContext();
  const page = await consolePage(context);
  const asked = []; // the page's reads of the open room
  page.on('request', (r) => { if (new URL(r.url()).pathname.startsWith(`/v1/sites/${site}/rooms/${room}`)) asked.push(r.url()); });
  await signIn(page, site, key);
  await openRoom(page, room);
  // It reads the room by itself while shown.
  const opened = asked.length;
  await page.waitForRequest((r) => r.url().includes(`/rooms/${room}/messages`), { timeout: 10_000 });
  assert.ok(asked.length > opened);

  // Hidden: nothing is asked, for more than two of its intervals; a message written meanwhile waits.
  await setVisibility(page, 'hidden');
  await sleep(1000); // a read under way ends
  const before = asked.length;
  const away = await post(ada, 'while you were away');
  await sleep(7000);
  assert.equal(asked.length, before, 'nothing asked while hidden');
  assert.equal(await page.locator(`#m-${away}`).count(), 0);
  // Shown again: read at once.
  await setVisibility(page, 'visible');
  await page.locator(`#m-${away}`).waitFor({ timeout: 5000 });

  // A read that fails: the note says so, and goes once a read works again.
  await page.route(`**/rooms/${room}/reports*`, (route) => route.fulfill({ status: 503, contentType: 'application/json',
    body: JSON.stringify({ error: 'unavailable', message: 'try again later' }) }));
  // In a live region of its own: heard, not only seen.
  await page.getByRole('status').filter({ hasText: 'The room may be out of date: try again later (503 unavailable). Trying again.' })
    .waitFor({ timeout: 10_000 });
  assert.equal(await page.locator('#room-stale').getAttribute('role'), 'status');
  const later = await post(ada, 'after the outage');
  await page.unroute(`**/rooms/${room}/reports*`);
  // Refresh, which reads the room afresh, takes the note away at once (it
  // stayed until the backed-off poll came round, saying "refreshed" under it).
  await page.locator('#refresh').click();
  await page.locator(`#m-${later}`).waitFor({ timeout: 5_000 });
  assert.equal(await page.locator('#room-stale').isVisible(), false);

  // Signed out: nothing more is asked.
  await page.locator('#sign-out').click();
  await page.locator('#sign-in').waitFor();
  await sleep(1000);
  const out = asked.length;
  await sleep(7000);
  assert.equal(asked.length, out, 'nothing asked once signed out');
  assert.deepEqual(page.problems, []);
  await Promise.all([ada.close(), context.close()]);
});

test('the open room, shown again after more than a page of messages, has no hole; a report coming in above keeps the owner\'s place', async () => {
  const { site, key } = await siteWithKey(config, 'con');
  const room = uniqueRoom('live-gap');
  const ada = await join(room, 'Ada', { site }, from('192.0.2.104'));
  const bo = await join(room, 'Bo', { site }, from('192.0.2.105'));
  const start = await post(ada, 'the start');
  const context = await browser.newContext();
  const page = await consolePage(context);
  await signIn(page, site, key);
  await openRoom(page, room);
  await page.evaluate((id) => { document.getElementById(id).marked = true; }, `m-${start}`);

  // 60 messages while hidden: more than the latest page (50) the room reads each time.
  await setVisibility(page, 'hidden');
  const seqs = [];
  for (let i = 0; i < 60; i++) {
    const res = await siteApi(key, 'POST', `/${site}/rooms/${room}/messages`, { name: 'Bot', message: `note ${i}` });
    assert.equal(res.status, 201, res.text);
    seqs.push(res.body.seq);
  }
  await setVisibility(page, 'visible');
  await page.locator(`#m-${seqs.at(-1)}`).waitFor({ timeout: 10_000 });
  assert.deepEqual(await page.locator('#message-list .card').evaluateAll((cards) => cards.map((c) => Number(c.dataset.seq))),
    [start, ...seqs], 'every message, in order');
  assert.equal(await page.evaluate((id) => document.getElementById(id).marked, `m-${start}`), true, 'the first card kept');
  assert.equal(await page.locator('#earlier').isVisible(), false, 'nothing earlier to load');

  // Reading a message half-way down: a report shown above it does not move it.
  const middle = page.locator(`#m-${seqs[30]}`);
  await middle.evaluate((card) => card.scrollIntoView({ block: 'center' }));
  const top = await middle.evaluate((card) => card.getBoundingClientRect().top);
  assert.equal((await act(bo, { type: 'report', target: start, reason: 'spam' })).type, 'ack');
  await page.locator(`#r-${start}`).waitFor({ timeout: 10_000 });
  const after = await middle.evaluate((card) => card.getBoundingClientRect().top);
  assert.ok(Math.abs(after - top) < 2, `the message read stays in place: ${top} then ${after}`);
  assert.deepEqual(page.problems, []);
  await Promise.all([ada.close(), bo.close(), context.close()]);
});

test('posting as the bot reaches members with role bot; a retry after a lost answer posts once', async () => {
  const { site, key } = await siteWithKey(config, 'con');
  const room = uniqueRoom('bot');
  const ada = await join(room, 'Ada', { site });
  await post(ada, 'is anyone there?');
  const context = await browser.newContext();
  const page = await consolePage(context);
  await signIn(page, site, key);
  await openRoom(page, room);
  await page.locator('.room-actions summary').click();
  await page.getByLabel('Bot name').fill('Helpdesk');
  await page.getByLabel('Message', { exact: true }).fill('We are here until 6pm.');

  // The first answer is lost (the request reached the server); the retry uses the same id.
  let lost = 0;
  const ids = [];
  await page.route('**/messages', async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    ids.push(JSON.parse(route.request().postData()).id);
    if (lost++ === 0) {
      await route.fetch();
      return route.abort('connectionreset');
    }
    return route.continue();
  });
  await page.getByRole('button', { name: 'Post as bot' }).click();
  await status(page, /Could not post/);
  const live = await ada.next('message');
  assert.deepEqual([live.name, live.role, live.message], ['Helpdesk', 'bot', 'We are here until 6pm.']);
  await page.getByRole('button', { name: 'Post as bot' }).click();
  await status(page, /Posted in/);
  assert.equal(ids.length, 2);
  assert.equal(ids[0], ids[1], 'the same id on the retry');
  assert.match(ids[0], /^console-[0-9a-f]{24}$/);
  await sleep(500);
  assert.equal(ada.all('message').length, 1, 'posted once');
  const shown = page.locator('#message-list .card', { hasText: 'We are here until 6pm.' });
  await shown.waitFor();
  assert.equal(await shown.count(), 1);
  assert.equal(await shown.locator('.badge').textContent(), 'bot');
  assert.equal(await page.getByLabel('Message', { exact: true }).inputValue(), '', 'the composer is emptied');

  // A new text is a new message.
  await page.getByLabel('Message', { exact: true }).fill('Second notice.');
  await page.getByRole('button', { name: 'Post as bot' }).click();
  await status(page, /Posted in/);
  assert.equal((await ada.next('message')).message, 'Second notice.');
  assert.notEqual(ids.at(-1), ids[0]);
  // (The status may still say the first "Posted in": the answer is in when the box is emptied.)
  await page.waitForFunction(() => document.getElementById('bot-text').value === '');

  // The box counts against the site's longest message (here 2,000), as the
  // server does (an emoji is one character); past it, the refusal reads as words.
  const box = page.getByLabel('Message', { exact: true });
  await box.fill('😀'.repeat(2000));
  assert.equal(await page.locator('#bot-count').textContent(), '2000 of 2000 characters.');
  assert.equal(await box.getAttribute('aria-invalid'), null);
  await box.press('x');
  assert.equal(await page.locator('#bot-count').textContent(), '2001 of 2000 characters: 1 too many.');
  assert.equal(await box.getAttribute('aria-invalid'), 'true');
  assert.equal(await box.evaluate((b) => b.getAttribute('aria-describedby')), 'bot-count');
  await page.getByRole('button', { name: 'Post as bot' }).click();
  assert.match(await status(page, /Could not post/), /^Could not post: message has 2001 characters; the limit is 2000 \(400 too_long\)\.$/);
  assert.deepEqual(page.problems, []);
  await ada.close();
  await context.close();
});

test('hostile names, messages and notes are shown as text; Earlier pages back', async () => {
  const { site, key } = await siteWithKey(config, 'con');
  const room = uniqueRoom('xss');
  const hostile = '<img src=x onerror="window.__xss=1;alert(1)">';
  const eve = await join(room, `Eve${hostile}`.slice(0, 32), { site }, from('192.0.2.41'));
  const bo = await join(room, 'Bo', { site }, from('192.0.2.42'));
  const name = eve.welcome.name;
  const first = await post(eve, `hi ${hostile}<script>window.__xss=2</script>`);
  for (let i = 0; i < 55; i++) await post(bo, `filler ${i}`);
  assert.equal((await act(bo, { type: 'report', target: first, reason: 'other', note: hostile })).type, 'ack');

  const context = await browser.newContext();
  const page = await consolePage(context);
  await signIn(page, site, key);
  await openRoom(page, room);
  const card = page.locator(`#r-${first}`);
  await card.waitFor();
  assert.ok((await card.locator('h4').textContent()).includes(name), 'the name as text');
  assert.ok((await card.locator('.note').textContent()).includes(hostile), 'the note as text');
  assert.ok((await card.locator('.evidence .text').textContent()).includes(hostile));
  assert.ok((await card.getByRole('button', { name: `Ban ${name}` }).count()) === 1, 'the button says whom');

  // 50 messages at first; Earlier brings the rest, focus on the newest of them.
  assert.equal(await page.locator('#message-list > li').count(), 50);
  await page.getByRole('button', { name: 'Earlier messages' }).click();
  await page.locator(`#m-${first}`).waitFor();
  assert.equal(await page.locator('#message-list > li').count(), 56);
  assert.equal(await page.locator('#earlier').isVisible(), false);
  assert.equal(await page.evaluate(() => document.activeElement.id), `m-${first + 5}`);
  const msg = page.locator(`#m-${first}`);
  assert.ok((await msg.locator('.text').textContent()).includes('<script>window.__xss=2</script>'));
  assert.ok((await msg.locator('.name').textContent()).includes('<img'));

  // In the panel of what is in force: the pinned message, the banned and muted names.
  const path = `/${site}/rooms/${room}`;
  assert.equal((await siteApi(key, 'POST', `${path}/moderation`, { action: 'pin', target: first })).status, 200);
  assert.equal((await siteApi(key, 'POST', `${path}/moderation`, { action: 'ban', sender: eve.welcome.sender })).status, 200);
  assert.equal((await siteApi(key, 'POST', `${path}/moderation`, { action: 'mute', sender: eve.welcome.sender, seconds: 600 })).status, 200);
  await page.getByRole('button', { name: 'Refresh' }).click();
  await page.locator('#banned-list > li').waitFor();
  assert.equal(await page.locator('#banned-list .name').textContent(), name);
  assert.equal(await page.locator('#muted-list .name').textContent(), name);
  assert.equal(await page.locator('#banned-list').getByRole('button', { name: `Unban ${name}`, exact: true }).count(), 1);
  assert.equal(await page.locator('#state-pinned .name').textContent(), name);
  assert.ok((await page.locator('#state-pinned .text').textContent()).includes('<script>window.__xss=2</script>'));

  assert.equal(await page.locator('main img, main script').count(), 0, 'no element from the text');
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.deepEqual(page.problems, []);
  await Promise.all([eve, bo].map((c) => c.close()));
  await context.close();
});

test('a message\'s files show in its card, its report card and the pinned message: links by name, images as thumbnails', async () => {
  const { site, key } = await siteWithKey(config, 'con');
  const room = uniqueRoom('files');
  const eve = await join(room, 'Eve', { site }, from('192.0.2.111'));
  const bo = await join(room, 'Bo', { site }, from('192.0.2.112'));
  // A name that would be markup if it were not text (the server keeps what follows a slash only).
  const notes = '<b onmouseover=alert(3)>notes.txt';
  const seq = await postFiles(eve, '', [
    { name: 'big-picture.png', mime: 'image/png', bytes: png(640, 480), width: 640, height: 480, alt: 'a grey rectangle' },
    { name: notes, mime: 'text/plain', bytes: Buffer.from('minutes of the call\n') },
  ]);
  assert.equal((await act(bo, { type: 'report', target: seq, reason: 'spam', note: 'look at the picture' })).type, 'ack');
  // The files as the site API gives them (`attachments`, with signed URLs).
  const shown = (await siteApi(key, 'GET', `/${site}/rooms/${room}/messages`)).body.messages.find((m) => m.seq === seq);
  assert.deepEqual(shown.attachments.map((f) => [f.name, f.mime]), [['big-picture.png', 'image/png'], [notes, 'text/plain']]);

  const context = await browser.newContext();
  const page = await consolePage(context);
  await signIn(page, site, key);
  await openRoom(page, room);
  /** The files a part of the page shows: each link's name, target, image (alt, drawn, its size on screen). */
  const files = (scope) => page.locator(`${scope} ul.files > li`).evaluateAll((items) => items.map((li) => {
    const a = li.querySelector('a');
    const img = li.querySelector('img');
    const box = img?.getBoundingClientRect();
    return {
      name: a.querySelector('.file-name').textContent,
      path: new URL(a.href).pathname,
      newTab: a.target === '_blank' && a.relList.contains('noopener'),
      img: img && { alt: img.alt, drawn: img.complete && img.naturalWidth === 640, fits: box.width <= 160 && box.height <= 120 && box.width > 0 },
    };
  }));
  const image = { alt: 'a grey rectangle', drawn: true, fits: true };
  const wanted = [
    { name: 'big-picture.png', path: new URL(shown.attachments[0].url, BASE).pathname, newTab: true, img: image },
    { name: notes, path: new URL(shown.attachments[1].url, BASE).pathname, newTab: true, img: null },
  ];
  // Thumbnails load lazily: each is brought into view first.
  const loaded = async (scope) => {
    await page.locator(`${scope} ul.files img`).scrollIntoViewIfNeeded();
    await page.waitForFunction((sel) => [...document.querySelectorAll(`${sel} ul.files img`)]
      .every((img) => img.complete && img.naturalWidth > 0), scope);
  };
  await page.locator(`#m-${seq} ul.files`).waitFor();
  await loaded(`#m-${seq}`);
  assert.deepEqual(await files(`#m-${seq}`), wanted, 'the message card');
  // The report card: the message now with its files, the evidence with their names.
  await loaded(`#r-${seq}`);
  assert.deepEqual(await files(`#r-${seq}`), wanted, 'the report card');
  assert.ok((await page.locator(`#r-${seq} .evidence`).textContent()).includes(`Files: big-picture.png, ${notes}`), 'the evidence');
  // Pinned, above the room.
  assert.equal((await siteApi(key, 'POST', `/${site}/rooms/${room}/moderation`, { action: 'pin', target: seq })).status, 200);
  await page.locator('#state-pinned ul.files').waitFor({ timeout: 10_000 });
  await loaded('#state-pinned');
  assert.deepEqual(await files('#state-pinned'), wanted, 'the pinned message');
  // The room list says where the site's storage for files goes.
  const bytes = shown.attachments.reduce((n, f) => n + f.size, 0);
  await page.locator('#reload-rooms').click();
  await page.locator(`#room-list li[data-room="${room}"] .room-meta`, { hasText: 'KB of files' }).waitFor({ timeout: 10_000 });
  assert.match(await page.locator(`#room-list li[data-room="${room}"] .room-meta`).textContent(),
    new RegExp(`^1 open report, 1 message, ${Math.round(bytes / 1024)} KB of files, last active`));
  assert.match(await page.locator('#site-storage').textContent(), /^Files: \d+ KB of 5\.0 GB stored\.$/);
  // Elements only for the thumbnails: the name stays text.
  assert.equal(await page.locator('main img').count(), 3);
  assert.equal(await page.locator('main b').count(), 0);
  assert.deepEqual(page.problems, []);
  await Promise.all([eve.close(), bo.close(), context.close()]);
});

test('a room that cannot be opened shows nothing of the last one: no report count, no Earlier or More reports', async () => {
  const { site, key } = await siteWithKey(config, 'con');
  const [busy, quiet] = [uniqueRoom('busy'), uniqueRoom('quiet')];
  const ada = await join(busy, 'Ada', { site }, from('192.0.2.113'));
  const bo = await join(busy, 'Bo', { site }, from('192.0.2.114'));
  const first = await post(ada, 'first');
  for (let i = 0; i < 54; i++) await post(ada, `filler ${i}`);
  assert.equal((await act(bo, { type: 'report', target: first, reason: 'spam' })).type, 'ack');
  const only = (await siteApi(key, 'POST', `/${site}/rooms/${quiet}/messages`, { name: 'Bot', message: 'the only message' })).body.seq;
  const context = await browser.newContext();
  const page = await consolePage(context);
  const asked = [];
  page.on('request', (r) => asked.push(r.url()));
  await signIn(page, site, key);
  await openRoom(page, busy);
  await page.locator(`#r-${first}`).waitFor();
  assert.equal(await page.locator('#reports-title').textContent(), 'Open reports (1)');
  assert.equal(await page.locator('#earlier').isVisible(), true);

  // The other room's reads wait, then fail (the network went down).
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  const quietRead = (url) => url.pathname.startsWith(`/v1/sites/${site}/rooms/${quiet}`);
  await page.route(quietRead, async (route) => { await held; await route.abort('internetdisconnected'); });
  await (await roomButton(page, quiet)).click();
  await page.locator('#room-title', { hasText: `Room ${quiet}` }).waitFor();
  const leftovers = () => page.evaluate(() => ({
    reports: document.getElementById('reports-title').textContent,
    shown: ['reports-empty', 'more-reports', 'earlier', 'messages-empty'].filter((id) => !document.getElementById(id).hidden),
    cards: document.querySelectorAll('#report-list > li, #message-list > li').length,
  }));
  const nothing = { reports: 'Open reports', shown: [], cards: 0 };
  assert.deepEqual(await leftovers(), nothing, 'while it loads');
  release();
  await status(page, `Could not load room ${quiet}`);
  assert.deepEqual(await leftovers(), nothing, 'once it could not be loaded');
  await page.unroute(quietRead);

  // Read again by itself once the network is back: its own state, nothing paged from the last room's place.
  await page.locator(`#m-${only}`).waitFor({ timeout: 15_000 });
  assert.deepEqual(await leftovers(), { reports: 'Open reports', shown: ['reports-empty'], cards: 1 });
  assert.deepEqual(asked.filter((u) => /[?&]before=null/.test(u)), []);
  assert.deepEqual(page.problems, []);
  await Promise.all([ada.close(), bo.close(), context.close()]);
});

test('the console fits a 360 px screen with the longest names and has no serious accessibility violations, in both themes', async () => {
  // The longest site id and member name there can be (32 characters), in one word: buttons named
  // after them ("Sign out of …", "Ban …", "Unmute …") must wrap.
  const site = `con${randomBytes(16).toString('hex').slice(0, 29)}`;
  assert.equal((await admin('PUT', `/sites/${site}`, config)).status, 201);
  const { key } = (await admin('POST', `/sites/${site}/keys`)).body;
  const room = uniqueRoom('axe');
  const eve = await join(room, 'christopheralexandermontgomery12', { site }, from('192.0.2.51'));
  const bo = await join(room, 'Bo', { site }, from('192.0.2.52'));
  const name = eve.welcome.name;
  assert.equal(name.length, 32);
  const bad = await post(eve, 'a message long enough to wrap on a phone screen, with a verylongwordthatdoesnotbreakeasilyatall');
  await post(bo, 'reply');
  assert.equal((await act(bo, { type: 'report', target: bad, reason: 'spam', note: 'note' })).type, 'ack');
  // The panel of what is in force with something in each part.
  const moderate = (body) => siteApi(key, 'POST', `/${site}/rooms/${room}/moderation`, body);
  assert.equal((await moderate({ action: 'pin', target: bad })).status, 200);
  assert.equal((await moderate({ action: 'mute', sender: eve.welcome.sender, seconds: 600 })).status, 200);
  const cy = await join(room, 'Cy', { site }, from('192.0.2.53'));
  assert.equal((await moderate({ action: 'ban', sender: cy.welcome.sender })).status, 200);
  assert.equal((await moderate({ action: 'lock' })).status, 200);
  // bypassCSP: axe is injected as an inline script (the CSP itself is checked above).
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, bypassCSP: true });
  for (const theme of ['light', 'dark']) {
    const page = await context.newPage();
    await page.addInitScript((t) => localStorage.setItem('hello-chat-demo-theme', t), theme);
    await page.goto(`${BASE}/console.html`);
    // Measured against the 360 px asked for, not innerWidth: a phone widens its layout viewport
    // (and innerWidth with it) to what is too wide.
    const fits = async (what) => {
      const { by, wide } = await page.evaluate(() => ({
        by: document.documentElement.scrollWidth - 360,
        wide: [...document.querySelectorAll('body *')].filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > 360.5)
          .map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className} "${e.textContent.slice(0, 40)}"`),
      }));
      assert.ok(by <= 0 && !wide.length, `${theme}: ${what} scrolls sideways by ${by}px at 360 px: ${wide.join(', ')}`);
    };
    // One name, its state in aria-pressed: "Light theme, pressed" would say the opposite of what is on.
    const toggle = page.getByRole('button', { name: 'Dark theme', exact: true });
    assert.equal(await toggle.count(), 1, `${theme}: the theme toggle keeps its name`);
    assert.equal(await toggle.getAttribute('aria-pressed'), String(theme === 'dark'), `${theme}: pressed when dark`);
    assert.deepEqual(await page.getByRole('heading', { level: 1 }).allTextContents(), ['Sign in to your site']);
    assert.deepEqual(await seriousViolations(page), [], `${theme}: sign in`);
    await signIn(page, site, `${key}x`);
    await page.locator('#sign-in-error', { hasText: '401' }).waitFor();
    assert.deepEqual(await seriousViolations(page), [], `${theme}: sign-in error`);
    await signIn(page, site, key);
    await page.locator('#workspace').waitFor();
    // Signed in, the page still has its h1 (the sign-in one is hidden with its form).
    assert.deepEqual(await page.getByRole('heading', { level: 1 }).allTextContents(), [`Moderation console: site ${site}`]);
    await fits('the header with the site id');
    await openRoom(page, room);
    await page.locator(`#r-${bad}`).waitFor();
    await page.locator('#banned-list > li', { hasText: '(name unknown)' }).waitFor();
    await page.locator('#muted-list > li', { hasText: name }).waitFor();
    await page.locator('#state-pinned .text').waitFor();
    await page.locator('.room-actions summary').click();
    await page.locator(`#m-${bad}`).getByRole('button', { name: `Ban ${name}` }).click();
    await fits('a room');
    assert.deepEqual(await seriousViolations(page), [], `${theme}: a room`);
    // A confirmation step inside a row of the banned list.
    await page.locator('#banned-list').getByRole('button', { name: /^Unban / }).click();
    await page.locator('#banned-list .confirm').waitFor();
    await fits('the unban step');
    assert.deepEqual(await seriousViolations(page), [], `${theme}: an unban step`);
    await page.evaluate(() => sessionStorage.clear());
    await page.close();
  }
  // Banned before it ever wrote, cy's socket takes ~10 s to finish closing under workerd: not waited for.
  cy.ws.terminate();
  await Promise.all([eve, bo].map((c) => c.close()));
  await context.close();
});

test('a key revoked while signed in sends the owner back to sign in with the error', async () => {
  const { site, key, keyId } = await siteWithKey(config, 'con');
  const context = await browser.newContext();
  const page = await consolePage(context);
  await signIn(page, site, key);
  await page.locator('#workspace').waitFor();
  await page.locator('#rooms-count', { hasText: 'No rooms yet' }).waitFor();
  assert.equal((await admin('DELETE', `/sites/${site}/keys/${keyId}`)).status, 200);
  await page.getByRole('button', { name: 'Reload rooms' }).click();
  await page.locator('#sign-in-error', { hasText: '401' }).waitFor();
  assert.match(await page.locator('#sign-in-error').textContent(), /The site key was refused: \S.* \(401 unauthorized\)\. Sign in again\./);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  await context.close();
});

test('a room opens with its own slow mode and lock (GET the room), not the last room\'s choice', async () => {
  const { site, key } = await siteWithKey(config, 'con');
  const [slow, calm] = [uniqueRoom('slow'), uniqueRoom('calm')];
  for (const room of [slow, calm]) {
    const bo = await join(room, 'Bo', { site }, from('192.0.2.41'));
    await post(bo, `hello in ${room}`);
    await bo.close();
  }
  for (const body of [{ action: 'slow', seconds: 30 }, { action: 'lock' }]) {
    assert.equal((await siteApi(key, 'POST', `/${site}/rooms/${slow}/moderation`, body)).status, 200);
  }
  const context = await browser.newContext();
  const page = await consolePage(context);
  await signIn(page, site, key);
  await openRoom(page, slow);
  assert.equal(await page.locator('#slow-seconds').inputValue(), '30', 'the room\'s slow mode');
  const state = page.locator('#room-state');
  await state.getByRole('button', { name: 'Unlock room' }).waitFor();
  await openRoom(page, calm);
  assert.equal(await page.locator('#slow-seconds').inputValue(), '0', 'not the last room\'s');
  await state.getByRole('button', { name: 'Lock room' }).waitFor();
  assert.equal(await state.getByRole('button', { name: 'Unlock room' }).count(), 0);
  assert.match(await state.textContent(), /Not locked/);
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('one action at a time, said so; a result that comes after the owner opened another room names its room', async () => {
  const { site, key } = await siteWithKey(config, 'con');
  const [first, second] = [uniqueRoom('first'), uniqueRoom('second')];
  const eve = await join(first, 'Eve', { site }, from('192.0.2.51'));
  const seq = await post(eve, 'one to delete');
  const other = await post(eve, 'one to keep');
  const bo = await join(second, 'Bo', { site }, from('192.0.2.52'));
  await post(bo, 'hello in the second room');
  const context = await browser.newContext();
  const page = await consolePage(context);
  await signIn(page, site, key);
  await openRoom(page, second);
  await openRoom(page, first);
  // Hold the deletion's answer until released.
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route(`**/v1/sites/${site}/rooms/${first}/messages/${seq}`, async (route) => { await held; await route.continue(); });
  const item = page.locator(`#m-${seq}`);
  await item.getByRole('button', { name: `Delete message #${seq} by Eve` }).click();
  await item.locator('.confirm').getByRole('button', { name: 'Delete message' }).click();
  await page.locator(`#m-${other}`).getByRole('button', { name: `Pin message #${other} by Eve` }).click();
  await confirmButton(page, 'Pin message').click();
  assert.match(await status(page, /Still working/), /Still working on the last action/);
  await openRoom(page, second);
  release();
  assert.match(await status(page, /deleted/), new RegExp(`^In ${first}: Message #${seq} by Eve deleted`));
  assert.equal((await siteApi(key, 'GET', `/${site}/rooms/${first}`)).body.pinned, null, 'the click meanwhile did nothing');
  assert.deepEqual(page.problems, []);
  await Promise.all([eve.close(), bo.close(), context.close()]);
});

test('a step opened while the last action\'s room is read again stays open, with its focus', async () => {
  const { site, key } = await siteWithKey(config, 'con');
  const room = uniqueRoom('next');
  const eve = await join(room, 'Eve', { site }, from('192.0.2.56'));
  const cy = await join(room, 'Cy', { site }, from('192.0.2.57'));
  const tip = await post(cy, 'a useful tip');
  const rule = await post(eve, 'house rules: be kind');
  const context = await browser.newContext();
  const page = await consolePage(context);
  await signIn(page, site, key);
  await openRoom(page, room);
  // The reads after the mute (the action is done and said so) answer slowly.
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route(`**/v1/sites/${site}/rooms/${room}/reports*`, async (route) => { await held; await route.continue(); });
  const cyItem = page.locator(`#m-${tip}`);
  await cyItem.getByRole('button', { name: 'Mute Cy' }).click();
  await cyItem.locator('.confirm').getByRole('button', { name: 'Mute Cy', exact: true }).click();
  await status(page, /Cy muted for 10 minutes/);
  // The owner goes on at once: Pin, on another message.
  await page.locator(`#m-${rule}`).getByRole('button', { name: `Pin message #${rule} by Eve` }).click();
  await confirmButton(page, 'Pin message').waitFor();
  const read = page.waitForResponse((r) => r.url().includes(`/rooms/${room}/reports`));
  release();
  await read;
  await page.locator(`#m-${tip}[aria-busy]`).waitFor({ state: 'detached' });
  await sleep(300);
  assert.equal(await page.locator(`#m-${rule} .confirm`).count(), 1, 'the Pin step is still open');
  assert.equal(await focusedText(page), 'Pin message', 'focus stays in it');
  await confirmButton(page, 'Pin message').click();
  await status(page, /pinned/);
  assert.equal((await siteApi(key, 'GET', `/${site}/rooms/${room}`)).body.pinned?.seq, rule);
  assert.deepEqual(page.problems, []);
  await Promise.all([eve.close(), cy.close(), context.close()]);
});

test('a room read for one site never shows in the same room of another site signed into meanwhile (a Delete there would hit another message)', async () => {
  const a = await siteWithKey(config, 'con');
  const b = await siteWithKey(config, 'con');
  const room = uniqueRoom('lobby'); // the same room name on both sites
  const eve = await join(room, 'Eve', { site: a.site }, from('192.0.2.61'));
  await post(eve, 'written on site A');
  const bo = await join(room, 'Bo', { site: b.site }, from('192.0.2.62'));
  await post(bo, 'written on site B');
  const context = await browser.newContext();
  const page = await consolePage(context);
  await signIn(page, a.site, a.key);
  await openRoom(page, room);
  // Site A's room is read again (Refresh), slowly: its messages come after the owner moved on.
  let release;
  const held = new Promise((r) => { release = r; });
  let asked;
  const seen = new Promise((r) => { asked = r; });
  await page.route(`**/v1/sites/${a.site}/rooms/${room}/messages*`, async (route) => { asked(); await held; await route.continue(); });
  await page.getByRole('button', { name: 'Refresh' }).click();
  await seen;
  await page.getByRole('button', { name: `Sign out of ${a.site}` }).click();
  await signIn(page, b.site, b.key);
  await openRoom(page, room);
  await page.locator('#message-list', { hasText: 'written on site B' }).waitFor();
  const landed = page.waitForResponse((r) => r.url().includes(`/v1/sites/${a.site}/rooms/${room}/messages`));
  release();
  await landed;
  // Checked while site A's answer is handled, and after the next look at B.
  const texts = [];
  for (let i = 0; i < 20; i++) {
    texts.push(...await page.locator('#message-list .text').allTextContents());
    await sleep(200);
  }
  assert.deepEqual([...new Set(texts)], ['written on site B']);
  assert.deepEqual(page.problems, []);
  await Promise.all([eve.close(), bo.close(), context.close()]);
});

test('a confirmation step never stays open over another message: the room erased and written again reuses the seq', async () => {
  const { site, key } = await siteWithKey(config, 'con');
  const room = uniqueRoom('again');
  const eve = await join(room, 'Eve', { site }, from('192.0.2.63'));
  const older = await post(eve, 'an older one');
  const seq = await post(eve, 'eve wrote this');
  const context = await browser.newContext();
  const page = await consolePage(context);
  await signIn(page, site, key);
  await openRoom(page, room);
  await page.locator(`#m-${seq}`).getByRole('button', { name: `Delete message #${seq} by Eve` }).click();
  await page.locator(`#m-${seq} .confirm`).waitFor();
  // The room is erased and written in again between two of the console's looks at it.
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route(`**/v1/sites/${site}/rooms/${room}/messages*`, async (route) => { await held; await route.continue(); });
  await sleep(3500); // a look under way, held
  assert.equal((await siteApi(key, 'DELETE', `/${site}/rooms/${room}`)).status, 200);
  await eve.closed;
  const mallory = await join(room, 'Mallory', { site }, from('192.0.2.64'));
  for (const text of ['mallory one', 'mallory two', 'mallory three']) await post(mallory, text);
  release();
  await page.locator(`#m-${seq}`, { hasText: 'mallory two' }).waitFor();
  await sleep(300);
  assert.equal(await page.locator('.confirm').count(), 0, 'the step about Eve\'s message closed with it');
  assert.equal(await page.locator(`#m-${older}`).textContent().then((t) => t.includes('mallory one')), true,
    'no card of the erased room is left: its seq is another message now');
  assert.equal(await page.locator('#message-list', { hasText: 'eve wrote this' }).count(), 0);
  assert.deepEqual(page.problems, []);
  await Promise.all([mallory.close(), context.close()]);
});

test('a Dismiss step asked about some reports does not stay open to dismiss one that came in since', async () => {
  const { site, key } = await siteWithKey(config, 'con');
  const room = uniqueRoom('dismiss');
  const eve = await join(room, 'Eve', { site }, from('192.0.2.65'));
  const bo = await join(room, 'Bo', { site }, from('192.0.2.66'));
  const cy = await join(room, 'Cy', { site }, from('192.0.2.67'));
  const bad = await post(eve, 'rude words');
  assert.equal((await act(bo, { type: 'report', target: bad, reason: 'spam' })).type, 'ack');
  const context = await browser.newContext();
  const page = await consolePage(context);
  await signIn(page, site, key);
  await openRoom(page, room);
  const card = page.locator(`#r-${bad}`);
  await card.getByRole('button', { name: `Dismiss reports on message #${bad} by Eve` }).click();
  assert.match(await card.locator('.confirm').textContent(), /Dismiss the open report on/);
  // A second report, of harassment, comes in while the owner reads the question about the first.
  assert.equal((await act(cy, { type: 'report', target: bad, reason: 'harassment', note: 'threats' })).type, 'ack');
  await card.locator('h4', { hasText: '2 open reports' }).waitFor({ timeout: 10_000 });
  await sleep(300);
  const step = await card.locator('.confirm').count() ? await card.locator('.confirm').textContent() : '';
  assert.ok(!step || /the 2 open reports/.test(step), `the step does not ask about one report only: ${step}`);
  assert.deepEqual(page.problems, []);
  await Promise.all([eve.close(), bo.close(), cy.close(), context.close()]);
});

test('a right-to-left message and its report read as members see them; signing out leaves nothing of the site for the next', async () => {
  const { site, key } = await siteWithKey(config, 'con');
  const room = uniqueRoom('rtl');
  const words = 'هل هذا صحيح؟ نعم 100%!';
  const mo = await join(room, 'محمد', { site }, from('192.0.2.120'));
  const ada = await join(room, 'Ada', { site }, from('192.0.2.121'));
  const seq = await post(mo, words);
  assert.equal((await act(ada, { type: 'report', target: seq, reason: 'spam' })).type, 'ack');
  const context = await browser.newContext();
  const page = await consolePage(context);
  await signIn(page, site, key);
  await openRoom(page, room);
  // Read right to left, as the widget shows it: its last character ("!") at
  // the left end, its first (ه) at the right; not "100 هل هذا صحيح؟ نعم%!".
  const texts = page.locator('.text', { hasText: 'صحيح' });
  await texts.first().waitFor();
  for (const p of await texts.all()) {
    const [first, last] = await p.evaluate((node) => {
      const text = node.firstChild;
      const at = (i) => { const r = document.createRange(); r.setStart(text, i); r.setEnd(text, i + 1); return r.getBoundingClientRect().x; };
      return [at(0), at(text.length - 1)];
    });
    assert.ok(last < first, `"${await p.textContent()}" reads left to right (first character at ${first}, last at ${last})`);
  }
  // Signed out, then into another site: the filter and the bot's draft are not carried over.
  await page.locator('#room-filter').fill('rt');
  await page.locator('.room-actions summary').first().click();
  await page.locator('#bot-text').fill('a draft for the first site');
  await page.locator('#sign-out').click();
  await page.locator('#sign-in').waitFor();
  const other = await siteWithKey(config, 'con');
  await signIn(page, other.site, other.key);
  await page.locator('#rooms-title').waitFor();
  assert.deepEqual([await page.locator('#room-filter').inputValue(), await page.locator('#bot-text').inputValue()], ['', '']);
  assert.deepEqual(page.problems, []);
  await Promise.all([mo.close(), ada.close(), context.close()]);
});

test('the room list shows where reports wait, and says when one comes in a room other than the open one', async () => {
  const { site, key } = await siteWithKey(config, 'con');
  const [open, other] = [uniqueRoom('rep-open'), uniqueRoom('rep-other')];
  const ada = await join(open, 'Ada', { site }, from('192.0.2.130'));
  const eve = await join(other, 'Eve', { site }, from('192.0.2.131'));
  const bo = await join(other, 'Bo', { site }, from('192.0.2.132'));
  await post(ada, 'hello');
  const spam = await post(eve, 'buy cheap stuff');
  const context = await browser.newContext();
  const page = await consolePage(context);
  await signIn(page, site, key);
  await openRoom(page, open);
  await roomButton(page, other, '1 message');
  assert.equal((await act(bo, { type: 'report', target: spam, reason: 'spam' })).type, 'ack');
  // On the room's line, and said (the list is watched: within a few seconds).
  await roomButton(page, other, '1 open report', 15_000);
  await status(page, new RegExp(`^1 new report in room ${other}\\.$`));
  // Dismissed (by the site's API here): the line no longer asks for the owner.
  assert.equal((await siteApi(key, 'POST', `/${site}/rooms/${other}/moderation`, { action: 'dismiss', target: spam })).status, 200);
  await page.locator('.room-button', { has: page.locator('.room-name', { hasText: other }) }).filter({ hasNotText: 'open report' }).waitFor({ timeout: 15_000 });
  const list = await siteApi(key, 'GET', `/${site}/rooms`);
  assert.deepEqual(list.body.rooms.map((r) => [r.room, r.openReports]).sort(), [[open, 0], [other, 0]].sort());
  assert.deepEqual(page.problems, []);
  await Promise.all([ada.close(), eve.close(), bo.close(), context.close()]);
});

test('with a room open, a skip link at the top of the page goes straight to it (a long room list is many Tabs away)', async () => {
  const { site, key } = await siteWithKey(config, 'conskip');
  const rooms = ['a-room', 'b-room', 'c-room'].map((r) => `${r}-${Date.now().toString(36)}`);
  for (const room of rooms) {
    const res = await siteApi(key, 'POST', `/${site}/rooms/${room}/messages`, { name: 'Bot', message: 'hello' });
    assert.equal(res.status, 201, res.text);
  }
  const context = await browser.newContext();
  const page = await consolePage(context);
  await signIn(page, site, key);
  await page.locator('#workspace').waitFor();
  const skip = page.locator('#skip-room');
  assert.equal(await skip.isHidden(), true, 'no room open: no link');
  await openRoom(page, rooms[2]);
  // From the top of the page: the console's skip link (the first Tab stop), then the room's.
  await page.locator('a.skip').first().focus();
  await page.keyboard.press('Tab');
  assert.equal(await focusedId(page), 'skip-room');
  assert.equal(await skip.textContent(), `Skip to room ${rooms[2]}`);
  await page.keyboard.press('Enter');
  assert.equal(await focusedId(page), 'room-title');
  assert.deepEqual(page.problems, []);
  await context.close();
});
