// Sound and desktop notifications in real Chromium: off until the visitor
// turns them on; the permission prompt only follows a click on the bell; a
// notification while the page is hidden (every message, or only mentions);
// a tone made with Web Audio; the choices remembered. The browser's own
// Notification and AudioContext are used, wrapped to count what they did.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, join, launchBrowser, uniqueRoom, waitForStatus, widgetPage } from './helpers.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const setVisible = (page, visible) => page.evaluate((v) => {
  Object.defineProperty(document, 'visibilityState', { value: v ? 'visible' : 'hidden', configurable: true });
  Object.defineProperty(document, 'hidden', { value: !v, configurable: true });
  document.dispatchEvent(new Event('visibilitychange'));
}, visible);

/** A browser context whose Notification and AudioContext report what they were asked. */
async function spiedContext(granted) {
  const context = await browser.newContext();
  if (granted) await context.grantPermissions(['notifications'], { origin: BASE });
  await context.addInitScript(() => {
    window.spy = { notes: [], asked: 0, tones: 0 };
    const RealNotification = window.Notification;
    const Spied = function Notification(title, options) {
      window.spy.notes.push({ title, body: options?.body });
      return new RealNotification(title, options);
    };
    Object.defineProperty(Spied, 'permission', { get: () => RealNotification.permission });
    Spied.requestPermission = () => { window.spy.asked++; return RealNotification.requestPermission(); };
    window.Notification = Spied;
    const RealAudio = window.AudioContext;
    window.AudioContext = class extends RealAudio {
      createOscillator() {
        const tone = super.createOscillator();
        const start = tone.start.bind(tone);
        tone.start = (...args) => { window.spy.tones++; return start(...args); };
        return tone;
      }
    };
  });
  return context;
}

const spy = (page) => page.evaluate(() => window.spy);
const pressed = (page, label) => page.locator(`.hc-toggle[aria-label="${label}"]`).getAttribute('aria-pressed');
const SOUND = 'Sound for new messages';
const BELL = 'Notifications for new messages';

test('sound and notifications are off until turned on; then a hidden page hears and shows new messages', async () => {
  const room = uniqueRoom('notify');
  const ada = await join(room, 'Ada');
  const context = await spiedContext(true);
  try {
    const bo = await widgetPage(context, { room, name: 'Bo', notify: { sound: true, desktop: true } });
    await waitForStatus(bo, 'connected');
    assert.equal(await pressed(bo, SOUND), 'false');
    assert.equal(await pressed(bo, BELL), 'false');
    assert.equal((await spy(bo)).asked, 0, 'no permission prompt on load');
    // The header: the room's name at the start, the count and the toggles together at the end.
    const gap = await bo.evaluate(() => {
      const root = document.querySelector('[data-hello-chat-host]').shadowRoot;
      return root.querySelector('.hc-toggle').getBoundingClientRect().left - root.querySelector('.hc-online').getBoundingClientRect().right;
    });
    assert.ok(gap >= 0 && gap <= 16, `the online count sits next to the toggles (${gap} px apart)`);

    await setVisible(bo, false);
    ada.send({ type: 'send', id: 'n1', message: 'nobody hears this' });
    await bo.locator('.hc-msg', { hasText: 'nobody hears this' }).waitFor();
    assert.deepEqual(await spy(bo), { notes: [], asked: 0, tones: 0 }, 'both off by default');

    await setVisible(bo, true);
    await bo.locator(`.hc-toggle[aria-label="${SOUND}"]`).click();
    assert.equal(await pressed(bo, SOUND), 'true');
    assert.equal((await spy(bo)).tones, 1, 'turning sound on plays what it will sound like');
    await bo.locator(`.hc-toggle[aria-label="${BELL}"]`).press('Enter');
    await assertEventually(async () => (await pressed(bo, BELL)) === 'true');
    assert.equal((await spy(bo)).asked, 1, 'asked once, from the click');

    await setVisible(bo, false);
    ada.send({ type: 'send', id: 'n2', message: 'are you there, Bo?' });
    await assertEventually(async () => (await spy(bo)).notes.length === 1);
    const { notes, tones } = await spy(bo);
    assert.deepEqual(notes[0], { title: `Ada · #${room}`, body: 'are you there, Bo?' });
    assert.equal(tones, 2);

    // The choices outlive the page.
    await bo.close();
    const again = await widgetPage(context, { room, name: 'Bo', notify: { sound: true, desktop: true } });
    await waitForStatus(again, 'connected');
    assert.equal(await pressed(again, SOUND), 'true');
    assert.equal(await pressed(again, BELL), 'true');
    await again.locator(`.hc-toggle[aria-label="${BELL}"]`).click();
    assert.equal(await pressed(again, BELL), 'false', 'a second click turns it off');
  } finally {
    await ada.close();
    await context.close();
  }
});

test('a refused permission leaves notifications off; "mentions" notifies only when named', async () => {
  const room = uniqueRoom('notify');
  const ada = await join(room, 'Ada');
  const refused = await spiedContext(false);
  const granted = await spiedContext(true);
  try {
    const cy = await widgetPage(refused, { room, name: 'Cy', notify: { desktop: true } });
    const bo = await widgetPage(granted, { room, name: 'Bo', notify: { desktop: 'mentions' } });
    await Promise.all([waitForStatus(cy, 'connected'), waitForStatus(bo, 'connected')]);
    assert.equal(await cy.locator(`.hc-toggle[aria-label="${SOUND}"]`).count(), 0, 'no sound toggle unless asked for');
    await cy.locator(`.hc-toggle[aria-label="${BELL}"]`).click();
    await assertEventually(async () => (await spy(cy)).asked === 1);
    assert.equal(await pressed(cy, BELL), 'false');
    await bo.locator(`.hc-toggle[aria-label="${BELL}"]`).click();
    await assertEventually(async () => (await pressed(bo, BELL)) === 'true');

    await Promise.all([setVisible(cy, false), setVisible(bo, false)]);
    ada.send({ type: 'send', id: 'm1', message: 'hello everyone' });
    ada.send({ type: 'send', id: 'm2', message: 'and @Bo in particular' });
    await bo.locator('.hc-msg', { hasText: 'in particular' }).waitFor();
    await cy.locator('.hc-msg', { hasText: 'in particular' }).waitFor();
    await assertEventually(async () => (await spy(bo)).notes.length === 1);
    assert.equal((await spy(bo)).notes[0].body, 'and @Bo in particular');
    assert.equal((await spy(cy)).notes.length, 0);
  } finally {
    await ada.close();
    await Promise.all([refused.close(), granted.close()]);
  }
});

async function assertEventually(check, ms = 5000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail('condition not met in time');
}
