// The message lifecycle and moderation in the widget, in real Chromium
// against the real worker: the actions menu from the keyboard, edit,
// delete, react, reply, @mentions, a moderator's Remove / Mute / Ban, and
// accessibility of what opens.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { act, createSite, sleep, join, launchBrowser, mintToken, post, siteApi, siteWithKey, uniqueRoom, waitForStatus, widgetPage, messageItem as item, seriousViolations } from './helpers.mjs';

const SECRET = 'widget-moderation-secret-0123456789';
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** A widget page for `options`, connected (in a new browser context, or `context`). */
async function open(options, context) {
  const page = await widgetPage(context ?? await browser.newContext(), options);
  await waitForStatus(page, 'connected');
  return page;
}



test('history is not read out on joining; new messages are, and a catch-up is summed up', async () => {
  const room = uniqueRoom('announce');
  const ada = await open({ room, name: 'Ada' });
  for (const text of ['one', 'two', 'three']) {
    await ada.locator('.hc-input').fill(text);
    await ada.locator('.hc-input').press('Enter');
  }
  // All three in the room before Cy joins: one still on its way would reach
  // Cy live, and be read out.
  await item(ada, 'three').waitFor();
  const cy = await open({ room, name: 'Cy' });
  await item(cy, 'three').waitFor();
  const said = () => cy.evaluate(() => [...document.querySelector('[data-hello-chat-host]').shadowRoot.querySelectorAll('.hc-sr p')].map((p) => p.textContent));
  assert.deepEqual(await said(), [], 'the join page is history');
  await ada.locator('.hc-input').fill('four');
  await ada.locator('.hc-input').press('Enter');
  await item(cy, 'four').waitFor();
  assert.deepEqual(await said(), ['Ada: four']);
  await Promise.all([ada.context().close(), cy.context().close()]);
});

test('an edit the room could not take keeps the editor open with the text and says why; an unchanged one is no edit', async () => {
  const room = uniqueRoom('edit-refused');
  const ada = await open({ room, name: 'Ada' });
  await ada.locator('.hc-input').fill('first draft');
  await ada.locator('.hc-input').press('Enter');
  const mine = item(ada, 'first draft');
  await mine.waitFor();
  const edit = async () => {
    await mine.locator('.hc-more').click();
    await mine.getByRole('menuitem', { name: 'Edit' }).click();
    return mine.locator('textarea');
  };
  const said = () => ada.evaluate(() => [...document.querySelector('[data-hello-chat-host]').shadowRoot.querySelectorAll('.hc-sr p')].map((p) => p.textContent));

  // Over the limit (2,000 by default): still there, with the reason shown and read out.
  let editor = await edit();
  const long = 'x'.repeat(2500);
  await editor.fill(long);
  await editor.press('Enter');
  await mine.locator('.hc-dialog .hc-err', { hasText: 'Not sent:' }).waitFor();
  assert.equal(await editor.inputValue(), long, 'what was typed is kept');
  assert.equal(await editor.getAttribute('aria-invalid'), 'true');
  assert.ok((await said()).some((s) => s.startsWith('Not sent:')), 'read out');
  assert.equal(await ada.evaluate(() => document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement?.tagName), 'TEXTAREA', 'focus stays in the editor');
  // Emptied: the same.
  await editor.fill('   ');
  await editor.press('Enter');
  await mine.locator('.hc-dialog .hc-err', { hasText: 'empty' }).waitFor();
  // Cancel, then save it unchanged: the editor closes and the message is not "(edited)".
  await mine.getByRole('button', { name: 'Cancel' }).click();
  editor = await edit();
  await editor.press('Enter');
  await editor.waitFor({ state: 'detached' });
  await ada.locator('.hc-input').fill('later');
  await ada.locator('.hc-input').press('Enter');
  await item(ada, 'later').waitFor();
  const raw = await join(room, 'Raw');
  assert.deepEqual(raw.history.messages.map((m) => [m.message, m.edited ?? false]), [['first draft', false], ['later', false]]);
  assert.equal(await mine.locator('.hc-edited').count(), 0);
  raw.close();
  await ada.context().close();
});

test('an edit the room refuses after it was sent (its window closed) opens again with the text and the reason', async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, moderation: { editWindowSecs: 2 } }, 'wedit');
  const room = uniqueRoom('edit-late');
  const ada = await open({ room, site, name: 'Ada' });
  await ada.locator('.hc-input').fill('quick one');
  await ada.locator('.hc-input').press('Enter');
  const mine = item(ada, 'quick one');
  await mine.locator('.hc-more').click();
  await mine.getByRole('menuitem', { name: 'Edit' }).click();
  await mine.locator('textarea').fill('quick one, on second thought');
  await new Promise((r) => setTimeout(r, 2500));
  await mine.locator('textarea').press('Enter');
  await mine.locator('.hc-dialog .hc-err', { hasText: 'no longer be edited' }).waitFor();
  assert.equal(await mine.locator('textarea').inputValue(), 'quick one, on second thought', 'what was typed comes back');
  assert.equal(await mine.locator('.hc-edited').count(), 0);
  // The page edits through the API while the visitor types in the page's own
  // field: the refusal is read out, but no editor opens and focus stays put.
  await mine.getByRole('button', { name: 'Cancel' }).click();
  await ada.evaluate(() => document.body.insertAdjacentHTML('beforeend', '<input id="host-field">'));
  await ada.locator('#host-field').focus();
  const seq = Number(await mine.getAttribute('data-seq'));
  await ada.evaluate((s) => window.chat.edit(s, 'from the page'), seq);
  await ada.waitForFunction(() => window.events.some(([e, d]) => e === 'error' && d.code === 'too_late'));
  assert.equal(await ada.evaluate(() => document.activeElement?.id), 'host-field');
  assert.equal(await mine.locator('textarea').count(), 0);
  await ada.context().close();
});

test('the actions menu works from the keyboard; authors edit, react, reply and delete, and others see it', async () => {
  const room = uniqueRoom('menu');
  const ada = await open({ room, name: 'Ada' });
  const bo = await open({ room, name: 'Bo' });
  await ada.locator('.hc-input').fill('helo wrold');
  await ada.locator('.hc-input').press('Enter');
  await item(bo, 'helo wrold').waitFor();

  // Keyboard: the actions button opens a menu, arrows move, Escape closes and gives focus back.
  const mine = item(ada, 'helo wrold');
  await mine.locator('.hc-more').focus();
  await ada.keyboard.press('Enter');
  const menu = mine.locator('[role=menu]');
  await menu.waitFor();
  assert.equal(await ada.evaluate(() => document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement?.getAttribute('role')), 'menuitem');
  await ada.keyboard.press('ArrowRight');
  assert.deepEqual(await menu.locator('[role=menuitem]').evaluateAll((items) => items.map((i) => i.textContent).slice(-3)), ['Reply', 'Edit', 'Delete']);
  assert.deepEqual(await seriousViolations(ada), [], 'the open menu is accessible');
  await ada.keyboard.press('Escape');
  await menu.waitFor({ state: 'detached' });
  assert.equal(await ada.evaluate(() => document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement?.className), 'hc-more');
  // Shift+Tab out of the open menu also closes it, back on ⋯ (not out of the widget).
  await ada.keyboard.press('Enter');
  await menu.waitFor();
  await ada.keyboard.press('Shift+Tab');
  await menu.waitFor({ state: 'detached' });
  assert.equal(await ada.evaluate(() => document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement?.className), 'hc-more');
  assert.equal(await mine.locator('.hc-more').getAttribute('aria-expanded'), 'false');

  // React from the keyboard, then take it back from the chip: the message is
  // redrawn each time, and focus stays on it, never falls to the page.
  const focusedClass = () => ada.evaluate(() => document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement?.className ?? 'the page');
  await ada.keyboard.press('Enter');
  await menu.waitFor();
  assert.equal(await mine.locator('.hc-more').getAttribute('aria-expanded'), 'true');
  await ada.keyboard.press('Enter');
  await mine.locator('.hc-chip', { hasText: '👍 1' }).waitFor();
  assert.equal(await focusedClass(), 'hc-more', 'back on ⋯ after the redraw');
  await mine.locator('.hc-chip').focus();
  await ada.keyboard.press('Enter');
  await mine.locator('.hc-chip').waitFor({ state: 'detached' });
  assert.equal(await focusedClass(), 'hc-more', 'the chip went away: focus on ⋯, not the page');

  // Edit inline. Bo reacts meanwhile: Ada's message is redrawn, and her
  // editor stays open with what she typed, focus still in it.
  await mine.locator('.hc-more').click();
  await mine.getByRole('menuitem', { name: 'Edit' }).click();
  const editor = mine.locator('textarea');
  await editor.fill('hello world');
  const theirs = item(bo, 'helo wrold');
  await theirs.locator('.hc-more').click();
  await theirs.getByRole('menuitem', { name: 'React with 👍' }).click();
  await theirs.locator('.hc-chip[aria-pressed=true]', { hasText: '👍 1' }).waitFor();
  await mine.locator('.hc-chip[aria-pressed=false]', { hasText: '👍 1' }).waitFor();
  assert.equal(await editor.inputValue(), 'hello world', 'the editor survived the redraw');
  assert.equal(await ada.evaluate(() => document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement?.value), 'hello world');
  // Enter saves, everyone sees "(edited)".
  await ada.keyboard.press('Enter');
  await item(bo, 'hello world').locator('.hc-edited').waitFor();
  await item(ada, 'hello world').locator('.hc-edited').waitFor();
  await item(bo, 'hello world').locator('.hc-chip[aria-pressed=true]', { hasText: '👍 1' }).waitFor();

  // Reply: a bar above the composer, then a quote that leads back to the original.
  const edited = item(bo, 'hello world');
  await edited.locator('.hc-more').click();
  await edited.getByRole('menuitem', { name: 'Reply' }).click();
  await bo.locator('.hc-replybar', { hasText: 'Replying to Ada' }).waitFor();
  await bo.locator('.hc-input').fill('agreed');
  await bo.locator('.hc-input').press('Enter');
  const reply = item(ada, 'agreed');
  await reply.locator('.hc-quote', { hasText: 'hello world' }).click();
  assert.equal(await ada.evaluate(() => document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement?.querySelector('.hc-text')?.textContent), 'hello world');

  // Delete: a tombstone everywhere.
  const original = item(ada, 'hello world');
  await original.locator('.hc-more').click();
  await original.getByRole('menuitem', { name: 'Delete' }).click();
  await bo.locator('.hc-list .hc-msg.hc-deleted .hc-text', { hasText: 'Message deleted' }).waitFor();
  await ada.locator('.hc-list .hc-msg.hc-deleted').waitFor();
  assert.match(await focusedClass(), /hc-msg hc-own.*hc-deleted/, 'focus stays on the message, now a tombstone');
  // The quote of it in Bo's reply no longer shows its text, on either page,
  // and says why (not "Ada …", a message cut short).
  for (const page of [ada, bo]) {
    await item(page, 'agreed').locator('.hc-quote', { hasText: 'AdaMessage deleted' }).waitFor();
  }
  await Promise.all([ada.context().close(), bo.context().close()]);
});

test('one menu at a time: another message\'s ⋯ closes the open menu, ⋯ pressed again closes its own, a tap elsewhere (on the host page too) closes it', async () => {
  const room = uniqueRoom('one-menu');
  const bo = await join(room, 'Bo');
  for (const text of ['first', 'second']) await post(bo, text);
  const ada = await open({ room, name: 'Ada' });
  const [first, second] = [item(ada, 'first'), item(ada, 'second')];
  await second.waitFor();
  await first.locator('.hc-more').click();
  await first.locator('[role=menu]').waitFor();
  await second.locator('.hc-more').click();
  await second.locator('[role=menu]').waitFor();
  assert.equal(await ada.locator('[role=menu]').count(), 1, 'the first menu closed');
  assert.equal(await first.locator('.hc-more').getAttribute('aria-expanded'), 'false');
  // ⋯ again: closed, focus on it.
  await second.locator('.hc-more').click();
  assert.equal(await ada.locator('[role=menu]').count(), 0);
  assert.equal(await second.locator('.hc-more').getAttribute('aria-expanded'), 'false');
  assert.equal(await ada.evaluate(() => document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement?.className), 'hc-more');
  // A popup, as native menus: a tap in the composer closes it, and the composer keeps focus.
  await second.locator('.hc-more').click();
  await second.locator('[role=menu]').waitFor();
  await ada.locator('.hc-input').click();
  await second.locator('[role=menu]').waitFor({ state: 'detached', timeout: 2000 });
  assert.equal(await second.locator('.hc-more').getAttribute('aria-expanded'), 'false');
  assert.equal(await ada.evaluate(() => document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement?.className), 'hc-input');
  // So does a click on another message; a click inside the menu's own message does not.
  await first.locator('.hc-more').click();
  await first.locator('[role=menu]').waitFor();
  await first.locator('.hc-text').click();
  assert.equal(await first.locator('[role=menu]').count(), 1, 'still open after a click on its own message');
  await second.locator('.hc-text').click();
  await first.locator('[role=menu]').waitFor({ state: 'detached', timeout: 2000 });
  // And so does a click on the host page, outside the widget.
  await ada.evaluate(() => document.body.insertAdjacentHTML('afterbegin', '<p id="article">The host page\'s own text</p>'));
  await first.locator('.hc-more').click();
  await first.locator('[role=menu]').waitFor();
  await ada.locator('#article').click();
  await first.locator('[role=menu]').waitFor({ state: 'detached', timeout: 2000 });
  assert.equal(await first.locator('.hc-more').getAttribute('aria-expanded'), 'false');
  await Promise.all([bo.close(), ada.context().close()]);
});

test('Enter held down acts once: saving an edit does not go on to open the menu and react, a chip toggles once', async () => {
  const room = uniqueRoom('held');
  const ada = await open({ room, name: 'Ada' });
  await ada.locator('.hc-input').fill('helo');
  await ada.locator('.hc-input').press('Enter');
  const mine = item(ada, 'helo');
  await mine.waitFor();
  await mine.locator('.hc-more').click();
  await mine.getByRole('menuitem', { name: 'Edit' }).click();
  await mine.locator('textarea').fill('hello');
  // A key held down: one keydown, then the keyboard's repeats (repeat: true),
  // which go to whatever has focus by then (⋯, once the editor closed).
  const hold = async () => {
    for (let i = 0; i < 6; i++) await ada.keyboard.down('Enter');
    await ada.keyboard.up('Enter');
  };
  await hold();
  const saved = item(ada, 'hello');
  await saved.locator('.hc-edited').waitFor();
  await sleep(500);
  assert.equal(await saved.locator('[role=menu]').count(), 0, 'no menu opened by the repeats');
  assert.equal(await saved.locator('.hc-chip').count(), 0, 'no reaction added by the repeats');
  assert.equal(await saved.locator('.hc-more').getAttribute('aria-expanded'), 'false');
  // Held on a reaction chip: one toggle, not one per repeat.
  await saved.locator('.hc-more').click();
  await saved.getByRole('menuitem', { name: 'React with 👍' }).click();
  const chip = saved.locator('.hc-chip', { hasText: '👍 1' });
  await chip.waitFor();
  await chip.focus();
  await hold();
  await chip.waitFor({ state: 'detached' });
  await sleep(500);
  assert.equal(await saved.locator('.hc-chip').count(), 0, 'taken back once, not put back by a repeat');
  // Held to pick an @name: the name goes in, the half-written message is not sent.
  const bo = await open({ room, name: 'Bo' });
  await ada.locator('.hc-input').pressSequentially('thanks @B');
  await ada.locator('[role=listbox] [role=option]', { hasText: '@Bo' }).waitFor();
  await hold();
  await sleep(500);
  assert.equal(await ada.locator('.hc-input').inputValue(), 'thanks @Bo ');
  assert.equal(await item(bo, 'thanks').count(), 0, 'nothing sent');
  await Promise.all([ada.context().close(), bo.context().close()]);
});

test('the handle edits, reacts, replies and removes, and reports every change as an update event', async () => {
  const room = uniqueRoom('handle');
  const page = await open({ room, name: 'Ada' });
  await page.evaluate(() => {
    window.updates = [];
    window.chat.on('update', (u) => window.updates.push(u));
    window.chat.send('first');
  });
  await item(page, 'first').waitFor();
  const seq = Number(await item(page, 'first').getAttribute('data-seq'));
  const ids = await page.evaluate((s) => [window.chat.edit(s, 'first!'), window.chat.react(s, '🎉'), window.chat.reply(s, 'second')], seq);
  assert.ok(ids.every((id) => /^[0-9a-f]{32}$/.test(id)), JSON.stringify(ids));
  await page.waitForFunction(() => window.updates.length >= 2, null, { timeout: 15000 }).catch(async (err) => {
    const seen = await page.evaluate(() => JSON.stringify({ updates: window.updates, events: window.events }));
    throw new Error(`${err.message}\n${seen}`);
  });
  const [edited, reacted] = await page.evaluate(() => window.updates);
  assert.deepEqual([edited.seq, edited.message, typeof edited.edited], [seq, 'first!', 'number']);
  assert.deepEqual(reacted.reactions, [{ emoji: '🎉', count: 1, mine: true }]);
  assert.ok(reacted.eventSeq > edited.eventSeq);
  // The reply's quote follows a later edit of the original.
  const quote = item(page, 'second').locator('.hc-quote');
  await quote.filter({ hasText: 'first!' }).waitFor();
  await page.evaluate((s) => window.chat.edit(s, 'first, edited'), seq);
  await quote.filter({ hasText: 'first, edited' }).waitFor();
  await page.evaluate((s) => window.chat.remove(s), seq);
  await page.waitForFunction(() => window.updates.some((u) => u.deleted));
  await page.context().close();
});

test('@mentions: online names are offered, Enter completes, the person mentioned sees it highlighted', async () => {
  const room = uniqueRoom('mention');
  const ada = await open({ room, name: 'Ada' });
  const bo = await open({ room, name: 'Bo' });
  const input = bo.locator('.hc-input');
  await input.pressSequentially('thanks @a');
  await bo.locator('[role=listbox] [role=option]', { hasText: '@Ada' }).waitFor();
  assert.equal(await input.getAttribute('aria-activedescendant'), 'hc-opt-0');
  await input.press('Enter');
  assert.equal(await input.inputValue(), 'thanks @Ada ');
  await input.press('Enter');
  await item(ada, 'thanks @Ada').and(ada.locator('.hc-mention')).waitFor();
  // Only `@Ada` as a word of its own: not a longer name, not an address.
  for (const text of ['@Adam can you check?', 'mail me at x@ada.example', 'last one, @ADA.']) {
    await input.fill(text);
    await input.press('Enter');
  }
  await item(ada, 'last one').waitFor();
  assert.deepEqual(await ada.locator('.hc-list .hc-msg.hc-mention .hc-text').allTextContents(), ['thanks @Ada', 'last one, @ADA.']);
  await Promise.all([ada.context().close(), bo.context().close()]);
});

test('@mentions: the list follows the caret; Enter once it left the @word sends the text as typed, and sending closes the list', async () => {
  const room = uniqueRoom('mention-caret');
  const ada = await open({ room, name: 'Ada' });
  const bo = await open({ room, name: 'Bo' });
  const input = bo.locator('.hc-input');
  const list = bo.locator('[role=listbox]');
  // Back to the start to fix a typo, then Enter: the message goes as typed,
  // not "@Ada " put at the caret.
  await input.pressSequentially('thnaks @A');
  await list.locator('[role=option]', { hasText: '@Ada' }).waitFor();
  await input.press('Home');
  await input.press('Enter');
  await item(ada, 'thnaks @A').waitFor();
  assert.equal(await input.inputValue(), '');
  assert.equal(await list.isVisible(), false, 'no list left over the empty composer');
  // Arrows still pick in the list while the caret is in the @word.
  await input.pressSequentially('hi @');
  await list.locator('[role=option]').first().waitFor();
  await input.press('ArrowDown');
  await input.press('ArrowUp');
  await input.press('Enter');
  assert.equal(await input.inputValue(), 'hi @Ada ');
  // Sent with the Send button while names are offered: the list goes too,
  // and Enter in the empty composer then puts no name in it.
  await input.fill('');
  await input.pressSequentially('ok @A');
  await list.locator('[role=option]').first().waitFor();
  await bo.locator('.hc-send').click();
  await item(ada, 'ok @A').waitFor();
  assert.equal(await list.isVisible(), false);
  await input.press('Enter');
  assert.equal(await input.inputValue(), '');
  await Promise.all([ada.context().close(), bo.context().close()]);
});

test('a visitor muted with another behind the same address sees it at once, and can write again when it is lifted', async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET,
    limits: { addressBurst: 1000, maxConnectionsPerAddress: 100 } }, 'wmod');
  const room = uniqueRoom('same-address');
  // Every test client is 127.0.0.1: Eve and Bo are two people behind one NAT.
  const [eve, bo] = [await open({ room, site, name: 'Eve' }), await open({ room, site, name: 'Bo' })];
  const mo = await join(room, 'x', { site, token: mintToken(SECRET, { sub: 'mod-1', name: 'Mo', role: 'moderator', exp: inAnHour() }) });
  const { sender } = mo.welcome.members.find((m) => m.name === 'Eve');
  await act(mo, { type: 'moderate', action: 'mute', sender, seconds: 600 });
  for (const page of [eve, bo]) {
    await page.locator('.hc-roombanner', { hasText: 'You are muted until' }).waitFor();
    assert.equal(await page.locator('.hc-input').isDisabled(), true);
  }
  await act(mo, { type: 'moderate', action: 'unmute', sender });
  for (const page of [eve, bo]) {
    await page.locator('.hc-roombanner', { hasText: 'You are muted until' }).waitFor({ state: 'hidden', timeout: 5000 });
    assert.equal(await page.locator('.hc-input').isDisabled(), false);
  }
  await bo.locator('.hc-input').fill('free again');
  await bo.locator('.hc-input').press('Enter');
  await item(eve, 'free again').waitFor();
  await mo.close();
  await Promise.all([eve.context().close(), bo.context().close()]);
});

test('a moderator removes, mutes and bans from the menu; the member sees each', async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET,
    limits: { addressBurst: 1000, maxConnectionsPerAddress: 100 } }, 'wmod');
  const room = uniqueRoom('moderate');
  const token = mintToken(SECRET, { sub: 'mod-1', name: 'Mo', role: 'moderator', exp: inAnHour() });
  const mo = await open({ room, site, token });
  const eve = await open({ room, site, name: 'Eve' });
  for (const text of ['spam one', 'spam two']) {
    await eve.locator('.hc-input').fill(text);
    await eve.locator('.hc-input').press('Enter');
  }
  await item(mo, 'spam two').waitFor();

  // Remove: a tombstone and a notice on the member's screen.
  const one = item(mo, 'spam one');
  await one.locator('.hc-more').click();
  await one.getByRole('menuitem', { name: 'Remove' }).click();
  await eve.locator('.hc-notice', { hasText: 'A message was removed by a moderator.' }).waitFor();
  await eve.locator('.hc-list .hc-msg.hc-deleted').waitFor();

  // Mute for 10 minutes with a reason: the member's composer is disabled, with a banner.
  const two = item(mo, 'spam two');
  await two.locator('.hc-more').click();
  await two.getByRole('menuitem', { name: 'Mute' }).click();
  const form = two.locator('[role=group]');
  await form.getByLabel('Duration').selectOption('600');
  await form.getByLabel('Reason (optional)').fill('calm down');
  assert.deepEqual(await seriousViolations(mo), [], 'the moderator form is accessible');
  // Enter in the reason confirms, as in any form. Eve is typing a message.
  await eve.locator('.hc-input').fill('one more');
  await eve.locator('.hc-input').focus();
  await form.getByLabel('Reason (optional)').press('Enter');
  await eve.locator('.hc-roombanner', { hasText: 'You are muted until' }).waitFor();
  assert.equal(await eve.locator('.hc-input').isDisabled(), true);
  assert.equal(await eve.locator('.hc-send').isDisabled(), true, 'Send too, even with text that fits');
  // Her keyboard focus stays in the widget, not on the page's body.
  assert.equal(await eve.evaluate(() => document.activeElement?.hasAttribute('data-hello-chat-host')
    && Boolean(document.activeElement.shadowRoot.activeElement)), true, 'focus kept in the widget');
  // Both see why.
  // Both see why, and for how long (a second moderator can tell a timeout from for good).
  await mo.locator('.hc-notice', { hasText: /^Eve was muted by Mo until \d\d:\d\d( [AP]M)?\. Reason: calm down$/ }).waitFor();
  await eve.locator('.hc-notice', { hasText: /^Eve was muted by Mo until .+\. Reason: calm down$/ }).waitFor();

  // Ban: the member's widget stops for good.
  await two.locator('.hc-more').click();
  await two.getByRole('menuitem', { name: 'Ban' }).click();
  await two.locator('[role=group]').getByRole('button', { name: 'Ban' }).click();
  await waitForStatus(eve, 'failed');
  const failed = await eve.evaluate(() => window.events.find(([e, d]) => e === 'status' && d.status === 'failed')[1]);
  assert.equal(failed.code, 4008);
  await eve.locator('.hc-banner', { hasText: 'banned' }).waitFor();
  assert.equal(await eve.locator('.hc-online').textContent(), '', 'no count of a room she is out of');

  // Another moderator's message: removable, but no Mute or Ban (the room refuses those).
  const max = await open({ room, site, token: mintToken(SECRET, { sub: 'mod-2', name: 'Max', role: 'moderator', exp: inAnHour() }) });
  await max.locator('.hc-input').fill('a moderator slip');
  await max.locator('.hc-input').press('Enter');
  const slip = item(mo, 'a moderator slip');
  await slip.locator('.hc-more').click();
  const offered = await slip.locator('[role=menuitem]').evaluateAll((items) => items.map((i) => i.textContent));
  assert.ok(offered.includes('Remove') && !offered.includes('Mute') && !offered.includes('Ban'), offered.join());
  await slip.getByRole('menuitem', { name: 'Remove' }).click();
  await max.locator('.hc-list .hc-msg.hc-own.hc-deleted').waitFor();
  await Promise.all([mo.context().close(), eve.context().close(), max.context().close()]);
});

test("a moderator's edit of someone else's message is announced in the list, not passed off as the author's", async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], secret: SECRET }, 'wmodedit');
  const room = uniqueRoom('modedit');
  const mo = await open({ room, site, token: mintToken(SECRET, { sub: 'mod-1', name: 'Mo', role: 'moderator', exp: inAnHour() }) });
  const eve = await open({ room, site, name: 'Eve' });
  await eve.evaluate(() => window.chat.on('moderation', (d) => window.events.push(['moderation', d])));
  await eve.locator('.hc-input').fill('call me on 555 0100');
  await eve.locator('.hc-input').press('Enter');
  const theirs = item(mo, 'call me on 555 0100');
  await theirs.waitFor();
  const seq = Number(await theirs.getAttribute('data-seq'));
  assert.ok(await mo.evaluate((seq) => window.chat.edit(seq, 'call me on [removed]'), seq));
  const edited = eve.locator(`.hc-list .hc-msg[data-seq="${seq}"]`);
  await edited.locator('.hc-text', { hasText: 'call me on [removed]' }).waitFor();
  await eve.locator('.hc-notice', { hasText: 'A message was edited by a moderator.' }).waitFor();
  await mo.locator('.hc-notice', { hasText: 'A message was edited by a moderator.' }).waitFor();
  const notice = await eve.evaluate(() => window.events.find(([e, d]) => e === 'moderation' && d.action === 'edit')?.[1]);
  assert.deepEqual([notice.target, notice.name, notice.by], [seq, 'Eve', 'Mo']);
  assert.equal(await mo.locator('.hc-msg[data-state="failed"], .hc-err').count(), 0, "the moderator's edit went");
  // Eve's own edit is hers: no line.
  const id = await eve.evaluate((seq) => window.chat.edit(seq, 'call me later'), seq);
  assert.ok(id);
  await item(mo, 'call me later').waitFor();
  assert.equal(await mo.locator('.hc-notice', { hasText: 'edited by a moderator' }).count(), 1);
  await Promise.all([mo.context().close(), eve.context().close()]);
});

test('replying to a message a moderator then removes: the reply bar goes with it (its text is not kept on screen), the draft stays', async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET }, 'wreplygone');
  const room = uniqueRoom('reply-removed');
  const eve = await join(room, 'Eve', { site });
  const target = await post(eve, 'something abusive');
  const mo = await join(room, 'Mo', { site, token: mintToken(SECRET, { sub: 'mod-1', name: 'Mo', role: 'moderator', exp: inAnHour() }) });
  const ada = await open({ room, site, name: 'Ada' });
  const theirs = item(ada, 'something abusive');
  await theirs.locator('.hc-more').click();
  await theirs.getByRole('menuitem', { name: 'Reply' }).click();
  const bar = ada.locator('.hc-replybar');
  await bar.getByText('something abusive').waitFor();
  await ada.locator('.hc-input').fill('please stop');
  mo.send({ type: 'moderate', id: 'm1', action: 'delete', target });
  await ada.locator('.hc-list .hc-msg.hc-deleted').waitFor();
  await bar.waitFor({ state: 'hidden' });
  assert.equal(await ada.locator('.hc').getByText('something abusive').count(), 0, 'the removed text is nowhere in the widget');
  assert.equal(await ada.locator('.hc-input').inputValue(), 'please stop');
  await ada.locator('.hc-input').press('Enter');
  const sent = item(ada, 'please stop');
  await sent.waitFor();
  assert.equal(await sent.locator('.hc-quote').count(), 0, 'sent as a message of its own, quoting nothing');
  await Promise.all([eve.close(), mo.close(), ada.context().close()]);
});

test('replying to a message its author then edits: the reply bar quotes what it says now', async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET }, 'wreplyedit');
  const room = uniqueRoom('reply-edited');
  const eve = await join(room, 'Eve', { site });
  const target = await post(eve, 'meet at 5');
  const ada = await open({ room, site, name: 'Ada' });
  const theirs = item(ada, 'meet at 5');
  await theirs.locator('.hc-more').click();
  await theirs.getByRole('menuitem', { name: 'Reply' }).click();
  const bar = ada.locator('.hc-replybar');
  await bar.getByText('meet at 5').waitFor();
  await ada.locator('.hc-input').fill('ok');
  // Ada goes on typing in a field of the page meanwhile: it keeps her focus.
  await ada.evaluate(() => {
    const field = document.createElement('input');
    field.id = 'host-field';
    document.body.append(field);
    field.focus();
  });
  assert.equal((await act(eve, { type: 'edit', target, message: 'meet at 6 instead' })).type, 'ack');
  await item(ada, 'meet at 6 instead').waitFor();
  await bar.getByText('meet at 6 instead').waitFor({ timeout: 5000 });
  assert.equal((await act(eve, { type: 'react', target, emoji: '👍', on: true })).type, 'ack');
  await item(ada, 'meet at 6 instead').locator('.hc-chip').waitFor();
  assert.equal(await ada.evaluate(() => document.activeElement.id), 'host-field', 'the page\'s field keeps the focus');
  assert.equal(await ada.locator('.hc-input').inputValue(), 'ok', 'the draft stays');
  await Promise.all([eve.close(), ada.context().close()]);
});

test('a reply waiting to go (slow mode) whose original a moderator removes no longer quotes the removed text', async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET }, 'wpendquote');
  const room = uniqueRoom('pending-quote');
  const eve = await join(room, 'Eve', { site });
  const target = await post(eve, 'something abusive');
  const mo = await join(room, 'Mo', { site, token: mintToken(SECRET, { sub: 'mod-1', name: 'Mo', role: 'moderator', exp: inAnHour() }) });
  mo.send({ type: 'moderate', id: 'slow', action: 'slow', seconds: 60 });
  const ada = await open({ room, site, name: 'Ada' });
  await ada.locator('.hc-roombanner', { hasText: 'Slow mode' }).waitFor();
  await ada.locator('.hc-input').fill('hi all');
  await ada.locator('.hc-input').press('Enter');
  await item(ada, 'hi all').waitFor();
  const theirs = item(ada, 'something abusive');
  await theirs.locator('.hc-more').click();
  await theirs.getByRole('menuitem', { name: 'Reply' }).click();
  await ada.locator('.hc-input').fill('please stop');
  await ada.locator('.hc-input').press('Enter');
  const pending = ada.locator('.hc-outbox .hc-msg', { hasText: 'please stop' });
  await pending.locator('.hc-quote', { hasText: 'something abusive' }).waitFor();
  mo.send({ type: 'moderate', id: 'm1', action: 'delete', target });
  await ada.locator('.hc-list .hc-msg.hc-deleted').waitFor();
  assert.equal(await pending.count(), 1, 'still waiting for slow mode');
  assert.equal(await ada.locator('.hc').getByText('something abusive').count(), 0, 'the removed text is nowhere in the widget');
  await Promise.all([eve.close(), mo.close(), ada.context().close()]);
});

test('a moderator pins a message above the list for everyone, late joiners included; it follows edits and goes when unpinned or deleted', async () => {
  const { site, key } = await siteWithKey({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET,
    limits: { addressBurst: 1000, maxConnectionsPerAddress: 100, rateBurst: 100, ratePerSec: 50 } }, 'wpin');
  const room = uniqueRoom('pin');
  const mo = await open({ room, site, token: mintToken(SECRET, { sub: 'mod-1', name: 'Mo', role: 'moderator', exp: inAnHour() }) });
  const eve = await open({ room, site, name: 'Eve' });
  await eve.locator('.hc-input').fill('Doors open at 6. Tickets: https://tickets.example/launch');
  await eve.locator('.hc-input').press('Enter');
  const original = item(mo, 'Doors open at 6');
  await original.waitFor();
  // A member's menu has no Pin; a moderator's has, for anyone's message.
  await item(eve, 'Doors open at 6').locator('.hc-more').click();
  assert.equal(await item(eve, 'Doors open at 6').getByRole('menuitem', { name: 'Pin' }).count(), 0);
  await eve.keyboard.press('Escape');
  await original.locator('.hc-more').click();
  await original.getByRole('menuitem', { name: 'Pin' }).click();
  for (const page of [mo, eve]) {
    await page.locator('.hc-notice', { hasText: 'Mo pinned a message.' }).waitFor();
    await page.locator('.hc-pin', { hasText: 'Doors open at 6' }).waitFor();
  }
  const bar = eve.getByRole('region', { name: 'Pinned message' });
  assert.match(await bar.textContent(), /^📌 EveDoors open at 6/);
  assert.equal(await bar.getByRole('link').getAttribute('href'), 'https://tickets.example/launch', 'its link works');
  assert.equal(await bar.getByRole('button', { name: 'Unpin' }).count(), 0, 'no Unpin for a member');
  assert.deepEqual(await seriousViolations(eve), [], 'the bar is accessible');

  // Someone arriving much later sees it at once, however far up it is.
  for (let i = 0; i < 60; i++) {
    const posted = await siteApi(key, 'POST', `/${site}/rooms/${room}/messages`, { name: 'Bot', message: `filler ${i}` });
    assert.equal(posted.status, 201, posted.text);
  }
  const cy = await open({ room, site, name: 'Cy' });
  await cy.locator('.hc-pin', { hasText: 'Doors open at 6' }).waitFor();
  assert.equal(await item(cy, 'Doors open at 6').count(), 0, 'not in the first page');
  // Its author's name in the bar goes to it, far up as it is.
  await cy.getByRole('button', { name: '📌 Eve' }).click();
  await item(cy, 'Doors open at 6').waitFor();
  assert.equal(await cy.evaluate(() => document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement?.querySelector('.hc-text')?.textContent),
    'Doors open at 6. Tickets: https://tickets.example/launch', 'focused there');

  // Its author cannot rewrite it under the pin (the room refuses it too);
  // a moderator can: the bar follows, and a keyboard user on its link stays there.
  const mine = item(eve, 'Doors open at 6');
  await mine.locator('.hc-more').click();
  assert.equal(await mine.getByRole('menuitem', { name: 'Edit' }).count(), 0, 'no Edit for its author while pinned');
  await eve.keyboard.press('Escape');
  await cy.locator('.hc-pin a').focus();
  const max = await join(room, 'Max', { site, token: mintToken(SECRET, { sub: 'mod-2', name: 'Max', role: 'moderator', exp: inAnHour() }) });
  const pinnedSeq = Number(await mine.getAttribute('data-seq'));
  assert.equal((await act(max, { type: 'edit', target: pinnedSeq, message: 'Doors open at 7 now. Tickets: https://tickets.example/launch' })).type, 'ack');
  await max.close();
  await cy.locator('.hc-pin', { hasText: 'Doors open at 7 now' }).waitFor();
  assert.equal(await cy.evaluate(() => document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement?.getAttribute('href')),
    'https://tickets.example/launch', 'focus is still on the link');

  // Unpinned from the bar: gone for everyone.
  await mo.locator('.hc-pin').getByRole('button', { name: 'Unpin' }).click();
  for (const page of [mo, eve, cy]) await page.locator('.hc-pin').waitFor({ state: 'hidden' });
  await eve.locator('.hc-notice', { hasText: 'Mo unpinned a message.' }).waitFor();

  // The site's server pins too (its API takes the protocol's actions); a delete unpins.
  const edited = item(eve, 'Doors open at 7');
  const seq = Number(await edited.getAttribute('data-seq'));
  const pinned = await siteApi(key, 'POST', `/${site}/rooms/${room}/moderation`, { action: 'pin', target: seq });
  assert.equal(pinned.status, 200, pinned.text);
  await cy.locator('.hc-pin', { hasText: 'Doors open at 7' }).waitFor();
  const missing = await siteApi(key, 'POST', `/${site}/rooms/${room}/moderation`, { action: 'pin', target: 99999 });
  assert.equal(missing.status, 404, missing.text);
  await edited.locator('.hc-more').click();
  await edited.getByRole('menuitem', { name: 'Delete' }).click();
  for (const page of [mo, eve, cy]) await page.locator('.hc-pin').waitFor({ state: 'hidden' });
  await Promise.all([mo.context().close(), eve.context().close(), cy.context().close()]);
});

test('a visitor hides a member who bothers them: their messages fold to one line, quiet, until shown again; kept across visits', async () => {
  const room = uniqueRoom('hide');
  const eve = await join(room, 'Eve');
  const bo = await join(room, 'Bo');
  const ada = await open({ room, name: 'Ada' });
  await post(eve, 'buy cheap followers now');
  const first = item(ada, 'buy cheap followers');
  await first.waitFor();
  // From the keyboard: the message's menu, then "Hide messages from Eve".
  await first.focus();
  await ada.keyboard.press('Tab');
  await ada.keyboard.press('Enter');
  await first.getByRole('menuitem', { name: 'Hide messages from Eve' }).click();
  const folded = (page, text) => item(page, text).locator('.hc-hidden', { hasText: 'Message from someone you hid' });
  await folded(ada, 'buy cheap followers').waitFor();
  assert.equal(await item(ada, 'buy cheap followers').locator('.hc-text').isVisible(), false, 'the text is out of sight');
  // What they say next arrives folded and quiet; others are untouched.
  await ada.evaluate(() => {
    const sr = document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-sr');
    window.said = [];
    new MutationObserver(() => window.said.push(sr.textContent)).observe(sr, { childList: true, characterData: true, subtree: true });
  });
  await post(eve, 'last chance, click here');
  await post(bo, 'hello from Bo');
  await item(ada, 'hello from Bo').locator('.hc-text').waitFor();
  await folded(ada, 'last chance').waitFor();
  const flags = await ada.evaluate(() => window.events.filter(([e]) => e === 'message').map(([, d]) => [d.message, d.hidden ?? false]));
  assert.deepEqual(flags.slice(-2), [['last chance, click here', true], ['hello from Bo', false]]);
  const said = await ada.evaluate(() => window.said.join(' | '));
  assert.match(said, /hello from Bo/);
  assert.doesNotMatch(said, /last chance/, 'not read out');
  // Tab from a folded message reaches its Show, which shows that one message.
  await item(ada, 'last chance').focus();
  await ada.keyboard.press('Tab');
  assert.equal(await ada.evaluate(() => document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement?.textContent), 'Show');
  await ada.keyboard.press('Enter');
  await item(ada, 'last chance').locator('.hc-text').waitFor();
  assert.equal(await folded(ada, 'buy cheap followers').count(), 1, 'only that one');
  // Another visit in this browser: still hidden.
  const again = await widgetPage(ada.context(), { room, name: 'Ada' });
  await waitForStatus(again, 'connected');
  await folded(again, 'buy cheap followers').waitFor();
  await folded(again, 'last chance').waitFor();
  // The shown message's menu offers to show them all again.
  const shown = item(ada, 'last chance');
  await shown.locator('.hc-more').click();
  await shown.getByRole('menuitem', { name: 'Show messages from Eve' }).click();
  await item(ada, 'buy cheap followers').locator('.hc-text').waitFor();
  assert.equal(await ada.locator('.hc-hidden').count(), 0);
  await Promise.all([eve.close(), bo.close(), ada.context().close()]);
});

test("a hidden member stays out of sight elsewhere: in others' replies' quotes, in the typing line, the @mention list and the unread count", async () => {
  const room = uniqueRoom('hide-traces');
  const eve = await join(room, 'Eve');
  const bo = await join(room, 'Bo');
  const ada = await open({ room, name: 'Ada' });
  const first = await post(eve, 'you are all idiots');
  await item(ada, 'you are all idiots').locator('.hc-more').click();
  await item(ada, 'you are all idiots').getByRole('menuitem', { name: 'Hide messages from Eve' }).click();
  // Bo answers her: his reply shows, her words in its quote do not.
  await post(bo, 'calm down please', { replyTo: first });
  const quote = item(ada, 'calm down please').locator('.hc-quote');
  await quote.waitFor();
  // (What it says instead is drawn by CSS: innerText leaves it out.)
  const shown = (q) => [q.innerText, getComputedStyle(q, '::after').content];
  assert.deepEqual(await quote.evaluate(shown), ['', '"Message from someone you hid"']);
  // Her edit redraws the quote: still no word of hers, nor her name in its tooltip.
  assert.equal((await act(eve, { type: 'edit', target: first, message: 'you are all idiots!!' })).type, 'ack');
  await ada.waitForFunction(() => document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-quote').textContent.includes('!!'));
  assert.deepEqual(await quote.evaluate(shown), ['', '"Message from someone you hid"']);
  assert.equal(await quote.getAttribute('title'), null);
  // Shown again, the quote is as it was.
  const line = item(ada, 'you are all idiots');
  await line.getByRole('button', { name: 'Show' }).click();
  await line.locator('.hc-more').click();
  await line.getByRole('menuitem', { name: 'Show messages from Eve' }).click();
  await ada.waitForFunction(() => document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-quote').innerText.includes('you are all idiots'));
  await line.locator('.hc-more').click();
  await line.getByRole('menuitem', { name: 'Hide messages from Eve' }).click();
  await ada.waitForFunction(() => document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-quote').innerText === '');
  assert.deepEqual(await quote.evaluate(shown), ['', '"Message from someone you hid"']);
  // Her typing is not shown; Bo's is.
  eve.send({ type: 'typing' });
  bo.send({ type: 'typing' });
  await ada.locator('.hc-typing', { hasText: 'Bo is typing' }).waitFor();
  // The @mention list offers Bo, not her.
  const input = ada.locator('.hc-input');
  await input.pressSequentially('@');
  await ada.locator('[role=listbox] [role=option]', { hasText: '@Bo' }).waitFor();
  assert.deepEqual(await ada.locator('[role=listbox] [role=option]').allTextContents(), ['@Bo']);
  await input.fill('');
  // Away (a background tab): her messages add nothing to the unread count, Bo's do.
  await ada.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await post(eve, '@Ada answer me');
  await post(eve, '@Ada hello??');
  await post(bo, 'anyone around?');
  await item(ada, 'anyone around?').waitFor();
  const counts = await ada.evaluate(() => window.events.filter(([e]) => e === 'unread').map(([, d]) => d.count));
  assert.equal(counts.at(-1), 1, `unread: ${JSON.stringify(counts)}`);
  await Promise.all([eve.close(), bo.close(), ada.context().close()]);
});

test('a quote of a message far up goes to it: the page around it is shown, and the latest is a jump away', async () => {
  const { site, key } = await siteWithKey({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true,
    limits: { rateBurst: 100, ratePerSec: 50 } }, 'wjump');
  const room = uniqueRoom('jump');
  const post = async (body) => {
    const res = await siteApi(key, 'POST', `/${site}/rooms/${room}/messages`, { name: 'Bot', ...body });
    assert.equal(res.status, 201, res.text);
    return res.body.seq;
  };
  const original = await post({ message: 'the question from long ago' });
  for (let i = 0; i < 60; i++) await post({ message: `filler ${i}` });
  await post({ message: 'an answer, at last', replyTo: original });
  const ada = await open({ room, site, name: 'Ada' });
  const answer = item(ada, 'an answer, at last');
  await answer.waitFor();
  assert.equal(await item(ada, 'the question from long ago').count(), 0, 'far up, not listed');
  await answer.locator('.hc-quote').click();
  await item(ada, 'the question from long ago').waitFor();
  assert.equal(await ada.evaluate(() => document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement?.querySelector('.hc-text')?.textContent),
    'the question from long ago', 'focused there');
  // The newest are no longer listed: the pill goes back to them.
  await ada.locator('.hc-pill').click();
  await item(ada, 'an answer, at last').waitFor();
  assert.equal(await item(ada, 'the question from long ago').count(), 0);
  await ada.context().close();
});

test('a timed mute lifts by itself: the banner goes and the composer works again', async () => {
  const { site, key } = await siteWithKey({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET }, 'wmute');
  const room = uniqueRoom('mute-ends');
  const eve = await open({ room, site, name: 'Eve' });
  await eve.locator('.hc-input').fill('hello');
  await eve.locator('.hc-input').press('Enter');
  await eve.waitForFunction(() => window.events.some(([e, d]) => e === 'message' && d.own));
  const sender = await eve.evaluate(() => window.events.find(([e, d]) => e === 'message' && d.own)[1].sender);
  const muted = await siteApi(key, 'POST', `/${site}/rooms/${room}/moderation`, { action: 'mute', sender, seconds: 4 });
  assert.equal(muted.status, 200, muted.text);
  await eve.locator('.hc-roombanner', { hasText: 'You are muted until' }).waitFor();
  assert.equal(await eve.locator('.hc-input').isDisabled(), true);
  // The room announces no end: the widget knows when it is.
  await eve.locator('.hc-roombanner', { hasText: 'muted' }).waitFor({ state: 'hidden', timeout: 10_000 });
  assert.equal(await eve.locator('.hc-input').isDisabled(), false);
  await eve.locator('.hc-input').fill('back again');
  await eve.locator('.hc-input').press('Enter');
  await eve.locator('.hc-list:not(.hc-outbox) .hc-msg.hc-own', { hasText: 'back again' }).waitFor();
  await eve.context().close();
});

test('a timed ban says until when, and the widget joins again once it has ended; a ban for good says no end', async () => {
  const { site, key } = await siteWithKey({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET }, 'wban');
  const room = uniqueRoom('ban-ends');
  const eve = await open({ room, site, name: 'Eve' });
  await eve.locator('.hc-input').fill('hello');
  await eve.locator('.hc-input').press('Enter');
  await eve.waitForFunction(() => window.events.some(([e, d]) => e === 'message' && d.own));
  const sender = await eve.evaluate(() => window.events.find(([e, d]) => e === 'message' && d.own)[1].sender);
  // Muted first: that banner must not linger under the ban's.
  const muted = await siteApi(key, 'POST', `/${site}/rooms/${room}/moderation`, { action: 'mute', sender, seconds: 600 });
  assert.equal(muted.status, 200, muted.text);
  await eve.locator('.hc-roombanner', { hasText: 'You are muted until' }).waitFor();
  const banned = await siteApi(key, 'POST', `/${site}/rooms/${room}/moderation`, { action: 'ban', sender, seconds: 5 });
  assert.equal(banned.status, 200, banned.text);
  await eve.locator('.hc-banner', { hasText: 'You are banned from this room until' }).waitFor();
  assert.equal(await eve.locator('.hc-roombanner').isHidden(), true, 'no stale mute banner');
  const failed = await eve.evaluate(() => window.events.find(([e, d]) => e === 'status' && d.status === 'failed')[1]);
  assert.equal(failed.code, 4008);
  assert.ok(failed.until > Date.now() && failed.until < Date.now() + 6_000, JSON.stringify(failed));
  // Over: she is back without reloading (still muted: the mute outlasts the ban).
  await eve.waitForFunction(() => window.events.filter(([e]) => e === 'status').at(-1)[1].status === 'connected',
    null, { timeout: 20_000 });
  await eve.locator('.hc-banner', { hasText: 'banned' }).waitFor({ state: 'hidden' });
  await eve.locator('.hc-roombanner', { hasText: 'You are muted until' }).waitFor();
  const lifted = await siteApi(key, 'POST', `/${site}/rooms/${room}/moderation`, { action: 'unmute', sender });
  assert.equal(lifted.status, 200, lifted.text);
  await eve.locator('.hc-input:not([disabled])').fill('back again');
  await eve.locator('.hc-input').press('Enter');
  await eve.locator('.hc-list:not(.hc-outbox) .hc-msg.hc-own', { hasText: 'back again' }).waitFor();

  // For good: no end said, none given.
  const forGood = await siteApi(key, 'POST', `/${site}/rooms/${room}/moderation`, { action: 'ban', sender });
  assert.equal(forGood.status, 200, forGood.text);
  await eve.waitForFunction(() => window.events.filter(([e, d]) => e === 'status' && d.status === 'failed').length === 2);
  const last = await eve.evaluate(() => window.events.filter(([e, d]) => e === 'status' && d.status === 'failed')[1][1]);
  assert.equal(last.until, undefined);
  await eve.locator('.hc-banner', { hasText: "Can't connect: you are banned from this room" }).waitFor();
  await eve.context().close();
});

test('a moderator is told the room is read-only or slow for members (and can still write); unbans and long mutes say who and until when (with the date)', async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET }, 'wmodbanner');
  const room = uniqueRoom('mod-banner');
  const mo = await open({ room, site, token: mintToken(SECRET, { sub: 'mod-1', name: 'Mo', role: 'moderator', exp: inAnHour() }) });
  const eve = await open({ room, site, name: 'Eve' });
  const max = await join(room, 'Max', { site, token: mintToken(SECRET, { sub: 'mod-2', name: 'Max', role: 'moderator', exp: inAnHour() }) });
  max.send({ type: 'moderate', id: 'l1', action: 'lock' });
  await mo.locator('.hc-roombanner', { hasText: 'Read-only for members; moderators can still write.' }).waitFor();
  await eve.locator('.hc-roombanner', { hasText: 'This room is read-only.' }).waitFor();
  assert.equal(await mo.locator('.hc-input').isDisabled(), false);
  max.send({ type: 'moderate', id: 'l2', action: 'unlock' });
  max.send({ type: 'moderate', id: 's1', action: 'slow', seconds: 30 });
  await mo.locator('.hc-roombanner', { hasText: 'Slow mode for members: one message every 30 s.' }).waitFor();
  await eve.locator('.hc-roombanner', { hasText: 'Slow mode: one message every 30 s.' }).waitFor();
  max.send({ type: 'moderate', id: 's2', action: 'slow', seconds: 0 });
  await mo.locator('.hc-roombanner').waitFor({ state: 'hidden' });
  // A mute of two days says its day, not a time that could be tomorrow's.
  await eve.locator('.hc-input').fill('hello');
  await eve.locator('.hc-input').press('Enter');
  await item(mo, 'hello').waitFor();
  const sender = await item(mo, 'hello').getAttribute('data-sender');
  max.send({ type: 'moderate', id: 'm1', action: 'mute', sender, seconds: 2 * 86400 });
  const day = new Date(Date.now() + 2 * 86400_000).toLocaleDateString('en-US', { month: 'long', day: 'numeric' });
  await mo.locator('.hc-notice', { hasText: new RegExp(`^Eve was muted by Max until ${day} at \\d`) }).waitFor();
  await eve.locator('.hc-roombanner', { hasText: new RegExp(`^You are muted until ${day} at \\d`) }).waitFor();
  max.send({ type: 'moderate', id: 'b1', action: 'ban', sender });
  await mo.locator('.hc-notice', { hasText: 'Eve was banned by Max.' }).waitFor();
  max.send({ type: 'moderate', id: 'b2', action: 'unban', sender });
  await mo.locator('.hc-notice', { hasText: 'Eve was unbanned by Max.' }).waitFor();
  max.close();
  await Promise.all([mo.context().close(), eve.context().close()]);
});

test('an open menu or form stays put in a busy room: new messages show the pill instead of scrolling it away', async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET,
    limits: { addressBurst: 1000 } }, 'wbusy');
  const room = uniqueRoom('busy-menu');
  const mo = await open({ room, site, token: mintToken(SECRET, { sub: 'mod-1', name: 'Mo', role: 'moderator', exp: inAnHour() }) });
  const crowd = await join(room, 'Crowd', { site });
  const troll = await join(room, 'Troll', { site });
  troll.send({ type: 'send', id: 't1', message: 'buy followers now' });
  await item(mo, 'buy followers now').waitFor();
  const inView = (locator) => locator.evaluate((el) => {
    const log = el.closest('.hc-log').getBoundingClientRect();
    const box = el.getBoundingClientRect();
    return box.top >= log.top - 1 && box.bottom <= log.bottom + 1;
  });
  for (const [opens, what] of [[async (li) => li.locator('.hc-more').click(), '[role=menu]'],
    [async (li) => { await li.locator('.hc-more').click(); await li.getByRole('menuitem', { name: 'Mute' }).click(); }, '[role=group]']]) {
    const li = item(mo, 'buy followers now');
    await opens(li);
    const open = li.locator(what);
    await open.waitFor();
    assert.equal(await inView(open), true);
    const before = await mo.locator('.hc-list .hc-msg').count();
    for (let i = 0; i < 8; i++) {
      crowd.send({ type: 'send', id: `${what === '[role=menu]' ? 'm' : 'f'}${i}`, message: `chatter ${i} ${'long enough to take a line '.repeat(3)}` });
      await crowd.next('ack');
    }
    await mo.waitForFunction((n) => document.querySelector('[data-hello-chat-host]').shadowRoot.querySelectorAll('.hc-list .hc-msg').length >= n, before + 8);
    await mo.waitForTimeout(200);
    assert.equal(await inView(open), true, `${what} still where the moderator is looking`);
    await mo.locator('.hc-pill').waitFor();
    await mo.keyboard.press('Escape');
    await open.waitFor({ state: 'hidden' });
    await mo.locator('.hc-pill').click();
    await mo.waitForFunction(() => { const log = document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-log'); return log.scrollTop + log.clientHeight >= log.scrollHeight - 2; });
  }
  // A form left open far up, out of sight, holds nothing: at the bottom,
  // the list follows new messages again.
  const li = item(mo, 'buy followers now');
  await li.locator('.hc-more').click();
  await li.getByRole('menuitem', { name: 'Mute' }).click();
  await li.locator('[role=group]').waitFor();
  crowd.send({ type: 'send', id: 'x0', message: `more chatter ${'long enough to take a line '.repeat(3)}` });
  await mo.locator('.hc-pill').waitFor();
  await mo.locator('.hc-pill').click();
  await mo.locator('.hc-composer .hc-input, .hc-input').first().focus();
  const atBottom = () => mo.evaluate(() => { const log = document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('.hc-log'); return log.scrollTop + log.clientHeight >= log.scrollHeight - 2; });
  assert.equal(await inView(li.locator('[role=group]')), false, 'the form is out of sight');
  for (let i = 1; i <= 3; i++) {
    crowd.send({ type: 'send', id: `x${i}`, message: `still more ${i} ${'long enough to take a line '.repeat(3)}` });
    await item(mo, `still more ${i}`).waitFor();
  }
  await mo.waitForTimeout(200);
  assert.equal(await atBottom(), true, 'the list followed');
  crowd.close();
  troll.close();
  await mo.context().close();
});

test('a removed message keeps Mute and Ban for moderators (not for members), and a Ban form being filled survives another moderator removing it', async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET,
    limits: { addressBurst: 1000, maxConnectionsPerAddress: 100 } }, 'wtomb');
  const room = uniqueRoom('tombstone-ban');
  const max = await open({ room, site, token: mintToken(SECRET, { sub: 'mod-2', name: 'Max', role: 'moderator', exp: inAnHour() }) });
  const ada = await open({ room, site, name: 'Ada' });
  const mo = await join(room, 'Mo', { site, token: mintToken(SECRET, { sub: 'mod-1', name: 'Mo', role: 'moderator', exp: inAnHour() }) });
  const troll = await join(room, 'Troll', { site });
  for (const [id, message] of [['t1', 'slur one'], ['t2', 'slur two']]) {
    troll.send({ type: 'send', id, message });
    await troll.next('ack');
  }
  await item(max, 'slur two').waitFor();
  const seqOf = async (text) => Number(await item(max, text).getAttribute('data-seq'));
  const [one, two] = [await seqOf('slur one'), await seqOf('slur two')];
  // Max is filling in a ban on "slur two" when Mo removes it.
  const li = max.locator(`.hc-list .hc-msg[data-seq="${two}"]`);
  await li.locator('.hc-more').click();
  await li.getByRole('menuitem', { name: 'Ban' }).click();
  await li.locator('[role=group]').getByLabel('Reason (optional)').fill('repeated slurs');
  mo.send({ type: 'moderate', id: 'd1', action: 'delete', target: two });
  await max.locator(`.hc-list .hc-msg.hc-deleted[data-seq="${two}"]`).waitFor();
  const form = li.locator('[role=group]');
  assert.equal(await form.getByLabel('Reason (optional)').inputValue(), 'repeated slurs', 'the form and what was typed stay');
  // Removed first, banned after: from the tombstone of "slur one".
  mo.send({ type: 'moderate', id: 'd2', action: 'delete', target: one });
  const tomb = max.locator(`.hc-list .hc-msg.hc-deleted[data-seq="${one}"]`);
  await tomb.waitFor();
  await tomb.locator('.hc-more').click();
  const offered = await tomb.locator('[role=menuitem]').evaluateAll((items) => items.map((i) => i.textContent));
  assert.deepEqual(offered, ['Mute', 'Ban']);
  await max.keyboard.press('Escape');
  // A member sees tombstones without any menu.
  await ada.locator(`.hc-list .hc-msg.hc-deleted[data-seq="${one}"]`).waitFor();
  assert.equal(await ada.locator('.hc-list .hc-msg.hc-deleted .hc-more').count(), 0);
  // The ban goes, with its reason.
  await form.getByRole('button', { name: 'Ban' }).click();
  await troll.next('error');
  await max.locator('.hc-notice', { hasText: /^Troll was banned by Max.* Reason: repeated slurs$/ }).waitFor();
  mo.close();
  await Promise.all([max.context().close(), ada.context().close()]);
});

test('a cleanup of many removals is quiet for others (tombstones in place, no line or read-out each); the author of a removed message is told', async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET,
    limits: { addressBurst: 1000 } }, 'wclean');
  const room = uniqueRoom('cleanup');
  let ada = await open({ room, site, name: 'Ada' });
  const mo = await join(room, 'Mo', { site, token: mintToken(SECRET, { sub: 'mod-1', name: 'Mo', role: 'moderator', exp: inAnHour() }) });
  const spammer = await join(room, 'Spammer', { site });
  const seqs = [];
  for (let i = 0; i < 8; i++) {
    spammer.send({ type: 'send', id: `s${i}`, message: `spam ${i}` });
    seqs.push((await spammer.next('ack')).seq);
  }
  await item(ada, 'spam 7').waitFor();
  await ada.locator('.hc-input').fill('a real question');
  await ada.locator('.hc-input').press('Enter');
  await ada.locator('.hc-list:not(.hc-outbox) .hc-msg.hc-own', { hasText: 'a real question' }).waitFor();
  const mine = Number(await ada.locator('.hc-list .hc-msg.hc-own').getAttribute('data-seq'));
  for (const [i, target] of seqs.entries()) mo.send({ type: 'moderate', id: `d${i}`, action: 'delete', target });
  await ada.waitForFunction((n) => document.querySelector('[data-hello-chat-host]').shadowRoot.querySelectorAll('.hc-list .hc-msg.hc-deleted').length === n, seqs.length);
  mo.send({ type: 'moderate', id: 'dm', action: 'delete', target: mine });
  await ada.locator('.hc-notice', { hasText: 'A message was removed by a moderator.' }).waitFor();
  assert.equal(await ada.locator('.hc-notice').count(), 1, 'one line: about her own message');
  const said = await ada.evaluate(() => [...document.querySelector('[data-hello-chat-host]').shadowRoot.querySelectorAll('.hc-sr p')].map((p) => p.textContent));
  assert.equal(said.filter((l) => /removed/.test(l)).length, 1, JSON.stringify(said));
  // Her message far up, out of the list (older than the join page after a
  // reload): she is still told.
  await ada.locator('.hc-input').fill('old words');
  await ada.locator('.hc-input').press('Enter');
  await ada.locator('.hc-list:not(.hc-outbox) .hc-msg.hc-own', { hasText: 'old words' }).waitFor();
  const old = Number(await ada.locator('.hc-list .hc-msg.hc-own', { hasText: 'old words' }).getAttribute('data-seq'));
  const crowd = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => join(room, `Crowd${i}`, { site })));
  for (const [i, c] of crowd.entries()) {
    for (let j = 0; j < 9; j++) {
      c.send({ type: 'send', id: `c${i}-${j}`, message: `chatter ${i}.${j}` });
      await c.next('ack');
    }
  }
  const context = ada.context();
  await ada.close();
  ada = await open({ room, site, name: 'Ada' }, context);
  await item(ada, 'chatter 5.8').waitFor();
  assert.equal(await ada.locator('.hc-list .hc-msg', { hasText: 'old words' }).count(), 0, 'not in the list');
  mo.send({ type: 'moderate', id: 'dold', action: 'delete', target: old });
  await ada.locator('.hc-notice', { hasText: 'A message was removed by a moderator.' }).waitFor();
  for (const c of crowd) c.close();
  mo.close();
  spammer.close();
  await ada.context().close();
});

test('a moderator lifts a mute or a ban from the menu: Unmute and Unban are offered while one is in force, after a reload too', async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET,
    limits: { addressBurst: 1000, maxConnectionsPerAddress: 100 } }, 'wlift');
  const room = uniqueRoom('lift');
  const token = mintToken(SECRET, { sub: 'mod-1', name: 'Mo', role: 'moderator', exp: inAnHour() });
  let mo = await open({ room, site, token });
  const eve = await open({ room, site, token: mintToken(SECRET, { sub: 'eve-1', name: 'Eve', exp: inAnHour() }) });
  await eve.locator('.hc-input').fill('oops');
  await eve.locator('.hc-input').press('Enter');
  const offered = async (page) => {
    const li = item(page, 'oops');
    await li.locator('.hc-more').click();
    const names = await li.locator('[role=menuitem]').evaluateAll((items) => items.map((i) => i.textContent));
    await page.keyboard.press('Escape');
    return names.filter((n) => /mute|ban/i.test(n));
  };
  await item(mo, 'oops').waitFor();
  assert.deepEqual(await offered(mo), ['Mute', 'Ban']);
  // Muted for good by mistake...
  const li = item(mo, 'oops');
  await li.locator('.hc-more').click();
  await li.getByRole('menuitem', { name: 'Mute' }).click();
  await li.locator('[role=group]').getByLabel('Duration').selectOption({ label: 'For good' });
  await li.locator('[role=group]').getByRole('button', { name: 'Mute' }).click();
  await eve.locator('.hc-roombanner', { hasText: 'You are muted in this room.' }).waitFor();
  assert.deepEqual(await offered(mo), ['Unmute', 'Ban']);
  // ...and the moderator reloads: the room tells them what is in force.
  await mo.context().close();
  mo = await open({ room, site, token });
  await item(mo, 'oops').waitFor();
  assert.deepEqual(await offered(mo), ['Unmute', 'Ban']);
  await item(mo, 'oops').locator('.hc-more').click();
  await item(mo, 'oops').getByRole('menuitem', { name: 'Unmute' }).click();
  await eve.locator('.hc-roombanner').waitFor({ state: 'hidden' });
  await mo.locator('.hc-notice', { hasText: 'Eve can write again.' }).waitFor();
  assert.deepEqual(await offered(mo), ['Mute', 'Ban']);
  assert.equal(await mo.evaluate(() => document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement?.className), 'hc-more', 'focus back on ⋯');
  // A ban, lifted the same way.
  await item(mo, 'oops').locator('.hc-more').click();
  await item(mo, 'oops').getByRole('menuitem', { name: 'Ban' }).click();
  await item(mo, 'oops').locator('[role=group]').getByRole('button', { name: 'Ban' }).click();
  await waitForStatus(eve, 'failed');
  assert.deepEqual(await offered(mo), ['Mute', 'Unban']);
  await item(mo, 'oops').locator('.hc-more').click();
  await item(mo, 'oops').getByRole('menuitem', { name: 'Unban' }).click();
  await mo.locator('.hc-notice', { hasText: 'Eve was unbanned by Mo.' }).waitFor();
  assert.deepEqual(await offered(mo), ['Mute', 'Ban']);
  await Promise.all([mo.context().close(), eve.context().close()]);
});

test("a purge's tombstones keep Mute and Ban for moderators; an erased member's and a moderator's get no menu", async () => {
  const { site, key } = await siteWithKey({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET,
    limits: { addressBurst: 1000, maxConnectionsPerAddress: 100 } }, 'wpurge');
  const room = uniqueRoom('purge-menu');
  const max = await open({ room, site, token: mintToken(SECRET, { sub: 'mod-2', name: 'Max', role: 'moderator', exp: inAnHour() }) });
  const mo = await join(room, 'Mo', { site, token: mintToken(SECRET, { sub: 'mod-1', name: 'Mo', role: 'moderator', exp: inAnHour() }) });
  const troll = await join(room, 'Troll', { site });
  const vic = await join(room, 'Vic', { site, token: mintToken(SECRET, { sub: 'vic-1', name: 'Vic', exp: inAnHour() }) });
  for (const [c, text] of [[troll, 'troll post'], [vic, 'vic post'], [mo, 'mo post']]) {
    c.send({ type: 'send', id: 'p1', message: text });
    await c.next('ack');
  }
  await item(max, 'mo post').waitFor();
  const seq = async (text) => item(max, text).getAttribute('data-seq');
  const [trollSeq, vicSeq, moSeq] = [await seq('troll post'), await seq('vic post'), await seq('mo post')];
  mo.send({ type: 'moderate', id: 'g1', action: 'purge', sender: troll.welcome.sender });
  const purged = max.locator(`.hc-list .hc-msg.hc-deleted[data-seq="${trollSeq}"]`);
  await purged.waitFor();
  await purged.locator('.hc-more').click();
  assert.deepEqual(await purged.locator('[role=menuitem]').evaluateAll((items) => items.map((i) => i.textContent)), ['Mute', 'Ban']);
  await max.keyboard.press('Escape');
  const erased = await siteApi(key, 'DELETE', `/${site}/users/vic-1`);
  assert.equal(erased.status, 200, erased.text);
  const gone = max.locator(`.hc-list .hc-msg.hc-deleted[data-seq="${vicSeq}"]`);
  await gone.waitFor();
  assert.equal(await gone.locator('.hc-more').count(), 0, 'nobody left to mute');
  mo.send({ type: 'moderate', id: 'd1', action: 'delete', target: Number(moSeq) });
  const mod = max.locator(`.hc-list .hc-msg.hc-deleted[data-seq="${moSeq}"]`);
  await mod.waitFor();
  assert.equal(await mod.locator('.hc-more').count(), 0, "a moderator's: no Mute or Ban, so no menu");
  for (const c of [mo, troll, vic]) c.close();
  await max.context().close();
});

test("the site's server posts as a bot and erases a user; an open widget shows the one and forgets the other", async () => {
  const { site, key } = await siteWithKey({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET,
    limits: { addressBurst: 1000, maxConnectionsPerAddress: 100, rateBurst: 100 }, moderation: { receipts: true } }, 'wapi');
  const room = uniqueRoom('server');
  const adaToken = mintToken(SECRET, { sub: 'ada-1', name: 'Ada', role: 'moderator', exp: inAnHour() });
  const ada = await open({ room, site, token: adaToken });
  const bo = await open({ room, site, name: 'Bo' });
  await ada.locator('.hc-input').fill('my phone is 555-0100');
  await ada.locator('.hc-input').press('Enter');
  await item(bo, 'my phone is 555-0100').waitFor();
  // Bo quotes her; she, a moderator, mutes him; another moderator names
  // her in a notice with a reason. All of it shows her name in Bo's page.
  const hers = item(bo, 'my phone is 555-0100');
  const adaSender = await hers.getAttribute('data-sender');
  await bo.evaluate((s) => window.chat.reply(s, 'call you later'), Number(await hers.getAttribute('data-seq')));
  const reply = item(bo, 'call you later');
  // (Her name and text in the quote of his own reply: the room sends a
  // reply to its sender too, as the ack cannot carry them.)
  await reply.locator('.hc-quote', { hasText: 'Ada' }).filter({ hasText: '555-0100' }).waitFor();
  // Her open page reads his reply: "Seen by" names her.
  assert.equal(await reply.locator('.hc-seen').getAttribute('title'), 'Seen by Ada');
  const adaRaw = await join(room, 'Ada', { site, token: adaToken });
  adaRaw.send({ type: 'moderate', id: 'm1', action: 'mute', sender: await reply.getAttribute('data-sender'), seconds: 600 });
  const mo = await join(room, 'Mo', { site, token: mintToken(SECRET, { sub: 'mo-1', name: 'Mo', role: 'moderator', exp: inAnHour() }) });
  mo.send({ type: 'moderate', id: 'm2', action: 'unmute', sender: adaSender, reason: 'Ada said sorry' });
  await bo.locator('.hc-notice', { hasText: 'Bo was muted by Ada until' }).waitFor();
  await bo.locator('.hc-notice', { hasText: 'Ada can write again.' }).waitFor();
  // Mo quotes her 50 messages further on: Cy, who opens then, shows that
  // quote without its original (not in her join page).
  for (let i = 0; i < 50; i++) mo.send({ type: 'send', id: `f${i}`, message: `filler ${i}` });
  mo.send({ type: 'send', id: 'q1', message: 'as she said', replyTo: Number(await hers.getAttribute('data-seq')) });
  await mo.next((f) => f.type === 'ack' && f.id === 'q1');
  const cy = await open({ room, site, name: 'Cy' });
  const far = item(cy, 'as she said');
  await far.locator('.hc-quote', { hasText: '555-0100' }).waitFor();
  assert.equal(await item(cy, 'my phone is 555-0100').count(), 0, 'her message is not in Cy\'s page');

  const posted = await siteApi(key, 'POST', `/${site}/rooms/${room}/messages`, { name: 'Helpdesk', message: 'We are online until 6pm.' });
  assert.equal(posted.status, 201, posted.text);
  const bot = item(bo, 'We are online until 6pm.');
  await bot.waitFor();
  assert.equal(await bot.getAttribute('data-role'), 'bot');
  await bot.locator('.hc-role', { hasText: 'Bot' }).waitFor();
  // She reacts to it: Bo's page counts her.
  adaRaw.send({ type: 'react', id: 'r1', target: Number(await bot.getAttribute('data-seq')), emoji: '👍', on: true });
  await bot.locator('.hc-chip', { hasText: '👍 1' }).waitFor();

  const erased = await siteApi(key, 'DELETE', `/${site}/users/ada-1`);
  assert.equal(erased.status, 200, erased.text);
  // One message, one reaction; two notices named her (one she gave, one about her).
  assert.deepEqual([erased.body.erased, erased.body.notices, erased.body.reactions, erased.body.rooms], [1, 2, 1, 1], erased.text);
  // Her reaction is taken back on the open page too.
  await bot.locator('.hc-chip').waitFor({ state: 'detached' });
  await bo.locator('.hc-notice', { hasText: "A member's data was erased at their request." }).waitFor();
  await bo.locator('.hc-list .hc-msg.hc-deleted').waitFor();
  await reply.locator('.hc-quote', { hasText: 'Someone' }).waitFor();
  // Nothing of hers is left in the open page: not her text (in her message
  // or in Bo's quote of it), not her name (on her tombstone, in the quote,
  // in the notice she gave, in the notice about her).
  const shown = await bo.locator('.hc-log').textContent();
  assert.ok(!shown.includes('555-0100'), shown);
  assert.ok(!shown.includes('Ada'), shown);
  await bo.locator('.hc-notice', { hasText: 'Bo was muted by Someone until' }).waitFor();
  await bo.locator('.hc-notice', { hasText: 'Someone can write again.' }).waitFor();
  const seenBy = await bo.locator('.hc-seen').evaluateAll((els) => els.map((e) => e.title));
  assert.ok(!seenBy.join().includes('Ada'), `"Seen by" forgot her: ${seenBy}`);
  // Nor in Cy's, whose quote of her had no original to follow.
  await far.locator('.hc-quote', { hasText: 'Someone' }).waitFor();
  const cyShown = await cy.locator('.hc-log').textContent();
  assert.ok(!cyShown.includes('555-0100') && !cyShown.includes('Ada'), cyShown);
  // Nor in what the room sends a newcomer: the reason about her is gone too.
  const late = await join(room, 'Late', { site });
  const page = JSON.stringify(late.history);
  assert.ok(!page.includes('Ada') && !page.includes('555-0100'), page);
  await Promise.all([ada.context().close(), bo.context().close(), cy.context().close(), adaRaw.close(), mo.close(), late.close()]);
});

test("a purge of a crafted sender is refused by the room and tombstones nothing (a widget would not use it as a selector either)", async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET,
    limits: { addressBurst: 1000, maxConnectionsPerAddress: 100 } }, 'wsel');
  const room = uniqueRoom('selector');
  const bo = await open({ room, site, name: 'Bo' });
  for (const text of ['first of mine', 'second of mine']) {
    await bo.locator('.hc-input').fill(text);
    await bo.locator('.hc-input').press('Enter');
  }
  await item(bo, 'second of mine').waitFor();
  // A moderator's client (or a broken one) purges a "sender" that closes the
  // attribute selector and matches every message.
  const mo = await join(room, 'Mo', { site, token: mintToken(SECRET, { sub: 'mo-sel', name: 'Mo', role: 'moderator', exp: inAnHour() }) });
  mo.send({ type: 'moderate', id: 'p1', action: 'purge', sender: '"],.hc-msg,.hc-quote,[x="' });
  const answer = await mo.next((f) => (f.type === 'ack' || f.type === 'error') && f.id === 'p1');
  assert.equal(answer.code, 'bad_frame', 'a sender key is base64url');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await bo.locator('.hc-notice').count(), 0, 'no notice');
  assert.equal(await bo.locator('.hc-list .hc-msg.hc-deleted').count(), 0, 'no message tombstoned');
  await item(bo, 'first of mine').waitFor();
  await Promise.all([bo.context().close(), mo.close()]);
});

test('a site that changes its rules is followed by open widgets: new reaction emoji offered, the new length counted', async () => {
  const { site, key } = await siteWithKey({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true }, 'wrules');
  const room = uniqueRoom('rules');
  const ada = await open({ room, site, name: 'Ada' });
  await ada.locator('.hc-input').fill('react here');
  await ada.locator('.hc-input').press('Enter');
  const mine = item(ada, 'react here');
  await mine.waitFor();
  const patched = await siteApi(key, 'PATCH', `/${site}`, { moderation: { emoji: ['🦀', '🎉'] }, limits: { maxMessageChars: 100 } });
  assert.equal(patched.status, 200, patched.text);
  // No reconnect: the open widget learns them from the room (the site tells
  // its rooms in the background, after the PATCH has answered): the counter
  // shows the new length once the `rules` frame is in, and a menu opened
  // then offers the new emoji.
  await ada.locator('.hc-input').fill('x'.repeat(95));
  await ada.locator('.hc-counter', { hasText: /^5$/ }).waitFor({ timeout: 10000 });
  await mine.locator('.hc-more').click();
  await ada.getByRole('menuitem', { name: 'React with 🦀' }).waitFor({ timeout: 5000 });
  assert.equal(await ada.getByRole('menuitem', { name: 'React with 👍' }).count(), 0);
  await ada.keyboard.press('Escape');
  await ada.context().close();
});

test('↑ in an empty composer edits the visitor\'s last message; Enter saves, Escape cancels, and focus comes back to the composer', async () => {
  const room = uniqueRoom('up-edit');
  const ada = await open({ room, name: 'Ada' });
  const bo = await join(room, 'Bo');
  const input = ada.locator('.hc-input').first();
  for (const text of ['first one', 'second one']) {
    await input.fill(text);
    await input.press('Enter');
    await item(ada, text).waitFor();
  }
  bo.send({ type: 'send', id: 'b1', message: 'from Bo, last in the list' });
  await item(ada, 'from Bo').waitFor();
  const composerFocused = () => ada.evaluate(() => {
    const a = document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement;
    return a?.classList.contains('hc-input') && !a.dataset.role;
  });
  // Not with text in the composer: there ↑ moves the caret.
  await input.fill('a draft');
  await input.press('ArrowUp');
  assert.equal(await ada.locator('[data-role=edit]').count(), 0);
  await input.fill('');
  await input.press('ArrowUp');
  const editor = item(ada, 'second one').locator('[data-role=edit]');
  await editor.waitFor();
  assert.equal(await editor.inputValue(), 'second one', 'the last of the visitor\'s own messages, not Bo\'s');
  assert.ok(await editor.evaluate((e) => e.getRootNode().activeElement === e), 'the editor has focus');
  await editor.press('Escape');
  await editor.waitFor({ state: 'detached' });
  assert.ok(await composerFocused(), 'Escape returns to the composer');
  await input.press('ArrowUp');
  await editor.fill('second one, fixed');
  await editor.press('Enter');
  await item(ada, 'second one, fixed').locator('.hc-edited').waitFor();
  assert.ok(await composerFocused(), 'saving returns to the composer');
  const edited = await bo.next((f) => f.type === 'update');
  assert.equal(edited.message, 'second one, fixed');
  await Promise.all([bo.close(), ada.context().close()]);
});

test('on a message grouped under the one before it, "(edited)" shows under its own bubble, not above it', async () => {
  const room = uniqueRoom('edited-grouped');
  const ada = await open({ room, name: 'Ada' });
  const bo = await open({ room, name: 'Bo' });
  for (const text of ['first', 'second', 'third']) {
    await ada.locator('.hc-input').fill(text);
    await ada.locator('.hc-input').press('Enter');
  }
  await item(bo, 'third').waitFor();
  const seq = Number(await item(ada, 'second').getAttribute('data-seq'));
  await ada.evaluate((seq) => window.chat.edit(seq, 'second, fixed'), seq);
  for (const page of [ada, bo]) {
    const second = item(page, 'second, fixed');
    await second.locator('.hc-edited').waitFor();
    assert.match(await second.getAttribute('class'), /hc-grouped/);
    const [mark, bubble] = await Promise.all([second.locator('.hc-edited'), second.locator('.hc-text')].map((l) => l.boundingBox()));
    assert.ok(mark.y >= bubble.y + bubble.height - 1, `"(edited)" at ${mark.y}, above its bubble (${bubble.y}..${bubble.y + bubble.height})`);
  }
  await Promise.all([ada.context().close(), bo.context().close()]);
});

test('↑ does not open an editor while an IME composes, nor on an older message while the last one is still being sent', async () => {
  const room = uniqueRoom('up-edit-pending');
  const ada = await open({ room, name: 'Ada' });
  const input = ada.locator('.hc-input').first();
  await input.fill('sent already');
  await input.press('Enter');
  await item(ada, 'sent already').waitFor();
  // An IME's ↑ (picking a candidate) in a composer that shows nothing yet.
  await input.evaluate((e) => {
    e.focus();
    e.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowUp', isComposing: true, bubbles: true, cancelable: true, composed: true }));
  });
  assert.equal(await ada.locator('[data-role=edit]').count(), 0, 'no editor while composing');
  // The last message still in the outbox: ↑ must not edit the one before it.
  await ada.context().setOffline(true);
  await input.fill('still on its way');
  await input.press('Enter');
  await ada.locator('.hc-outbox li', { hasText: 'still on its way' }).waitFor();
  await input.press('ArrowUp');
  await ada.waitForTimeout(300);
  assert.equal(await ada.locator('[data-role=edit]').count(), 0, 'no editor on "sent already"');
  await ada.context().setOffline(false);
  await item(ada, 'still on its way').waitFor({ timeout: 15000 });
  await input.press('ArrowUp');
  const editor = item(ada, 'still on its way').locator('[data-role=edit]');
  await editor.waitFor();
  await ada.context().close();
});

test('an edit opened with ↑ and refused by the room opens again; closing it then returns to the composer, not to ⋯', async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, moderation: { editWindowSecs: 2 } }, 'wupedit');
  const room = uniqueRoom('up-edit-late');
  const ada = await open({ room, site, name: 'Ada' });
  const input = ada.locator('.hc-input').first();
  await input.fill('quick one');
  await input.press('Enter');
  const mine = item(ada, 'quick one');
  await mine.waitFor();
  await input.press('ArrowUp');
  const editor = mine.locator('[data-role=edit]');
  await editor.fill('quick one, on second thought');
  await new Promise((r) => setTimeout(r, 2500));
  await editor.press('Enter');
  await mine.locator('.hc-dialog .hc-err', { hasText: 'no longer be edited' }).waitFor();
  await editor.press('Escape');
  await editor.waitFor({ state: 'detached' });
  const active = await ada.evaluate(() => {
    const a = document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement;
    return a?.className;
  });
  assert.equal(active, 'hc-input', 'back in the composer, where ↑ was pressed');
  await ada.context().close();
});

test('an edit saved offline shows at once, and Edit again starts from it; one the room refuses on reconnecting gives the old text back', async () => {
  const room = uniqueRoom('offline-edit');
  const ada = await open({ room, name: 'Ada' });
  const bo = await open({ room, name: 'Bo' });
  await ada.locator('.hc-input').fill('see you at 5');
  await ada.locator('.hc-input').press('Enter');
  const mine = item(ada, 'see you at 5');
  await mine.waitFor();
  await item(bo, 'see you at 5').waitFor();
  await ada.context().setOffline(true);
  await ada.locator('.hc-banner', { hasText: 'Offline' }).waitFor({ timeout: 15000 });
  await mine.locator('.hc-more').click();
  await mine.getByRole('menuitem', { name: 'Edit' }).click();
  await mine.locator('[data-role=edit]').fill('see you at 6');
  await mine.locator('[data-role=edit]').press('Enter');
  // Shown at once, as a message sent offline is: not the old text, as if it were lost.
  const edited = item(ada, 'see you at 6');
  await edited.waitFor({ timeout: 2000 });
  await edited.locator('.hc-more').click();
  await edited.getByRole('menuitem', { name: 'Edit' }).click();
  assert.equal(await edited.locator('[data-role=edit]').inputValue(), 'see you at 6', 'Edit again starts from the edit');
  await ada.keyboard.press('Escape');
  await ada.context().setOffline(false);
  await item(bo, 'see you at 6').locator('.hc-edited').waitFor({ timeout: 15000 });
  await edited.locator('.hc-edited').waitFor();

  // Its window closed while offline: refused on reconnecting, the editor
  // opens again with it, and closing it shows the text the room has.
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, moderation: { editWindowSecs: 2 } }, 'wofflineedit');
  const cy = await open({ room: uniqueRoom('offline-edit-late'), site, name: 'Cy' });
  await cy.locator('.hc-input').fill('quick one');
  await cy.locator('.hc-input').press('Enter');
  const late = cy.locator('.hc-list .hc-msg[data-seq]');
  await late.waitFor();
  await late.locator('.hc-more').click();
  await late.getByRole('menuitem', { name: 'Edit' }).click();
  await cy.context().setOffline(true);
  await cy.locator('.hc-banner', { hasText: 'Offline' }).waitFor({ timeout: 15000 });
  await sleep(2500);
  await late.locator('[data-role=edit]').fill('quick one, on second thought');
  await late.locator('[data-role=edit]').press('Enter');
  await late.locator('.hc-text', { hasText: 'on second thought' }).waitFor({ timeout: 2000 });
  await cy.context().setOffline(false);
  await late.locator('.hc-dialog .hc-err', { hasText: 'no longer be edited' }).waitFor({ timeout: 15000 });
  assert.equal(await late.locator('[data-role=edit]').inputValue(), 'quick one, on second thought', 'the edit is given back');
  await cy.keyboard.press('Escape');
  await late.locator('[data-role=edit]').waitFor({ state: 'detached' });
  assert.equal(await late.locator('.hc-text').textContent(), 'quick one', 'the text the room has');
  await Promise.all([ada.context().close(), bo.context().close(), cy.context().close()]);
});

test('offline, a reaction shows at once, a delete greys its message out (asked twice, sent once), a reply quotes what it answers; a take-back refused on reconnecting puts the reaction back', async () => {
  const { site, key } = await siteWithKey({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true }, 'woffact');
  const room = uniqueRoom('offline-acts');
  const ada = await open({ room, site, name: 'Ada' });
  const bo = await open({ room, site, name: 'Bo' });
  await bo.locator('.hc-input').fill('pick a day');
  await bo.locator('.hc-input').press('Enter');
  for (const text of ['typo here', 'second thought']) {
    await ada.locator('.hc-input').fill(text);
    await ada.locator('.hc-input').press('Enter');
    await item(ada, text).waitFor();
  }
  await item(ada, 'pick a day').waitFor();
  const offline = async (page) => {
    await page.context().setOffline(true);
    await page.locator('.hc-banner', { hasText: 'Offline' }).waitFor({ timeout: 15000 });
  };
  await offline(ada);

  const theirs = item(ada, 'pick a day');
  await theirs.locator('.hc-more').click();
  await ada.getByRole('menuitem', { name: 'React with 👍' }).click();
  const chip = theirs.locator('.hc-chip[aria-pressed=true]', { hasText: '👍 1' });
  await chip.waitFor({ timeout: 2000 });
  const typo = item(ada, 'typo here');
  for (let i = 0; i < 2; i++) {
    // A second Delete (from the page's handle: the menu is gone) is the same one.
    if (i) await ada.evaluate((seq) => window.chat.remove(seq), Number(await typo.getAttribute('data-seq')));
    else {
      await typo.locator('.hc-more').click();
      await ada.getByRole('menuitem', { name: 'Delete' }).click();
    }
  }
  await ada.locator('.hc-list .hc-msg[data-deleting]', { hasText: 'typo here' }).waitFor({ timeout: 2000 });
  assert.equal(await typo.locator('.hc-more').isVisible(), false, 'no Delete again from its menu');
  assert.equal(await ada.evaluate(() => document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement?.textContent.includes('typo here')), true,
    'focus stays with the message, not the page');
  await theirs.locator('.hc-more').click();
  await ada.getByRole('menuitem', { name: 'Reply' }).click();
  await ada.locator('.hc-input').fill('tuesday');
  await ada.locator('.hc-input').press('Enter');
  const quote = ada.locator('.hc-outbox .hc-msg', { hasText: 'tuesday' }).locator('.hc-quote');
  assert.equal(await quote.textContent({ timeout: 2000 }), 'Bopick a day', 'the pending reply quotes Bo');
  // Greyed out, still legible; the quote named by what it shows.
  assert.deepEqual(await seriousViolations(ada), [], 'a message being deleted and a pending reply');

  await ada.context().setOffline(false);
  await item(bo, 'pick a day').locator('.hc-chip', { hasText: '👍 1' }).waitFor({ timeout: 15000 });
  await bo.locator('.hc-list .hc-msg[data-seq]', { hasText: 'tuesday' }).locator('.hc-quote', { hasText: 'pick a day' }).waitFor();
  await item(bo, 'typo here').waitFor({ state: 'detached' });
  await item(ada, 'typo here').waitFor({ state: 'detached' });
  assert.equal(await ada.locator('.hc-msg[data-deleting]').count(), 0);
  assert.deepEqual(await ada.evaluate(() => window.events.filter(([e]) => e === 'error')), [], 'no refusal for the second Delete');

  // Taken back, and deleted, offline; the room is locked meanwhile: the
  // reaction's take-back is refused on reconnecting, and the chip is back;
  // the delete goes (an author may always delete their own message).
  await offline(ada);
  await chip.click();
  await chip.waitFor({ state: 'detached', timeout: 2000 });
  const second = item(ada, 'second thought');
  await second.locator('.hc-more').click();
  await ada.getByRole('menuitem', { name: 'Delete' }).click();
  await ada.locator('.hc-list .hc-msg[data-deleting]', { hasText: 'second thought' }).waitFor({ timeout: 2000 });
  const lock = await siteApi(key, 'POST', `/${site}/rooms/${room}/moderation`, { action: 'lock' });
  assert.equal(lock.status, 200, lock.text);
  await ada.context().setOffline(false);
  await ada.waitForFunction(() => window.events.some(([e, d]) => e === 'error' && d.code === 'locked'), null, { timeout: 15000 });
  await chip.waitFor();
  await second.waitFor({ state: 'detached' });
  assert.equal(await ada.locator('.hc-msg[data-deleting]').count(), 0, 'not greyed out any more');
  await Promise.all([ada.context().close(), bo.context().close()]);
});

test('a reaction or an edit on its way stays shown when someone else\'s reaction to the message arrives first', async () => {
  const room = uniqueRoom('react-race');
  const context = await browser.newContext();
  // Ada's frames held back until released (a slow uplink): Bo's change
  // comes in between.
  await context.addInitScript(() => {
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (data) {
      if (!window.held) return send.call(this, data);
      window.held.push(() => send.call(this, data));
    };
    window.release = () => {
      const held = window.held;
      window.held = null;
      for (const go of held) go();
    };
  });
  const ada = await widgetPage(context, { room, name: 'Ada' });
  await waitForStatus(ada, 'connected');
  await ada.evaluate(() => window.chat.on('update', (d) => window.events.push(['update', d])));
  const bo = await open({ room, name: 'Bo' });
  await bo.locator('.hc-input').fill('pizza tonight?');
  await bo.locator('.hc-input').press('Enter');
  const theirs = item(ada, 'pizza tonight?');
  await theirs.waitFor();
  await ada.locator('.hc-input').fill('at 7');
  await ada.locator('.hc-input').press('Enter');
  await item(bo, 'at 7').waitFor();
  await ada.evaluate(() => { window.held = []; });
  await theirs.locator('.hc-more').click();
  await ada.getByRole('menuitem', { name: 'React with 👍' }).click();
  await theirs.locator('.hc-chip[aria-pressed=true]', { hasText: '👍 1' }).waitFor({ timeout: 2000 });
  await item(bo, 'pizza tonight?').locator('.hc-more').click();
  await bo.getByRole('menuitem', { name: 'React with 👍' }).click();
  // Bo's reaction reaches Ada while hers is still on its way: both count.
  await ada.waitForFunction(() => window.events.some(([e]) => e === 'update'));
  const chip = theirs.locator('.hc-chip');
  assert.deepEqual([await chip.textContent(), await chip.getAttribute('aria-pressed')], ['👍 2', 'true']);
  // Hers arrives: the same, for good.
  await ada.evaluate(() => window.release());
  await ada.waitForFunction(() => window.events.filter(([e]) => e === 'update').length === 2);
  assert.deepEqual([await chip.textContent(), await chip.getAttribute('aria-pressed')], ['👍 2', 'true']);
  await item(bo, 'pizza tonight?').locator('.hc-chip', { hasText: '👍 2' }).waitFor();

  // An edit saved: Bo reacts to the message before it reaches the room.
  await ada.evaluate(() => { window.held = []; });
  const mine = ada.locator('.hc-list .hc-own[data-seq]');
  await mine.locator('.hc-more').click();
  await ada.getByRole('menuitem', { name: 'Edit' }).click();
  await mine.locator('textarea').fill('at 8');
  await mine.locator('textarea').press('Enter');
  assert.equal(await mine.locator('.hc-text').textContent(), 'at 8');
  await item(bo, 'at 7').locator('.hc-more').click();
  await bo.getByRole('menuitem', { name: 'React with 🎉' }).click();
  await mine.locator('.hc-chip', { hasText: '🎉 1' }).waitFor();
  assert.equal(await mine.locator('.hc-text').textContent(), 'at 8', 'not the old text again');
  await ada.evaluate(() => window.release());
  await item(bo, 'at 8').waitFor();
  assert.equal(await mine.locator('.hc-text').textContent(), 'at 8');
  await Promise.all([context.close(), bo.context().close()]);
});

test('in a room locked meanwhile, a reaction chip pressed does not count the visitor for a moment, then take it back', async () => {
  const { site, key } = await siteWithKey({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true }, 'wlockchip');
  const room = uniqueRoom('locked-chip');
  const ada = await open({ room, site, name: 'Ada' });
  const bo = await open({ room, site, name: 'Bo' });
  await bo.locator('.hc-input').fill('vote here');
  await bo.locator('.hc-input').press('Enter');
  await item(bo, 'vote here').locator('.hc-more').click();
  await bo.getByRole('menuitem', { name: 'React with 👍' }).click();
  const chip = item(ada, 'vote here').locator('.hc-chip');
  await chip.filter({ hasText: '👍 1' }).waitFor();
  const lock = await siteApi(key, 'POST', `/${site}/rooms/${room}/moderation`, { action: 'lock' });
  assert.equal(lock.status, 200, lock.text);
  await ada.locator('.hc-roombanner', { hasText: 'read-only' }).waitFor();
  // Every count the chip shows from now on.
  await chip.evaluate((c) => {
    window.shown = [];
    new MutationObserver(() => window.shown.push(c.closest('.hc-msg').querySelector('.hc-chip')?.textContent))
      .observe(c.closest('.hc-msg'), { subtree: true, childList: true, characterData: true });
  });
  await chip.click();
  await ada.waitForFunction(() => window.events.some(([e, d]) => e === 'error' && d.code === 'locked'), null, { timeout: 5000 });
  assert.deepEqual(await ada.evaluate(() => window.shown.filter((t) => t !== '👍 1')), [], 'never counted');
  assert.equal(await chip.getAttribute('aria-pressed'), 'false');
  await Promise.all([ada.context().close(), bo.context().close()]);
});

test('an edit refused on reconnecting while the visitor types their next message reopens without taking the composer\'s keys', async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, moderation: { editWindowSecs: 2 } }, 'wupedit2');
  const room = uniqueRoom('up-edit-typing');
  const ada = await open({ room, site, name: 'Ada' });
  const input = ada.locator('.hc-input:not([data-role])');
  await input.fill('quick one');
  await input.press('Enter');
  const mine = item(ada, 'quick one');
  await mine.waitFor();
  // Saved offline after its window closed: it goes, and is refused, on reconnecting.
  await input.press('ArrowUp');
  const editor = mine.locator('[data-role=edit]');
  await editor.fill('quick one, on second thought');
  await ada.context().setOffline(true);
  await ada.locator('.hc-banner', { hasText: 'Offline' }).waitFor({ timeout: 15000 });
  await new Promise((r) => setTimeout(r, 2500));
  await editor.press('Enter');
  await editor.waitFor({ state: 'detached' });
  await input.pressSequentially('my next mess');
  await ada.context().setOffline(false);
  await mine.locator('.hc-dialog .hc-err', { hasText: 'no longer be edited' }).waitFor({ timeout: 15000 });
  assert.equal(await editor.inputValue(), 'quick one, on second thought', 'the edit is given back');
  // The keyboard, not the locator: typing goes wherever focus is.
  await ada.keyboard.type('age');
  assert.equal(await input.inputValue(), 'my next message', 'the keys stayed in the composer');
  assert.equal(await editor.inputValue(), 'quick one, on second thought');
  await ada.context().close();
});
