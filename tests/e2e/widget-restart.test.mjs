// The widget across a server crash: pages keep their messages, what was typed
// during the outage is delivered once after the restart, nothing is doubled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../../scripts/lib/server.mjs';
import { join, launchBrowser, uniqueRoom, waitForStatus, widgetPage } from './helpers.mjs';

test('killing and restarting the server loses nothing and doubles nothing', async () => {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'hello-chat-widget-restart-'));
  let server = await startServer({ persistTo: state });
  const browser = await launchBrowser();
  try {
    const room = uniqueRoom('crash');
    const context = await browser.newContext();
    const ada = await widgetPage(context, { room, name: 'Ada' }, { base: server.url });
    const bo = await widgetPage(context, { room, name: 'Bo' }, { base: server.url });
    await waitForStatus(ada, 'connected');
    await waitForStatus(bo, 'connected');
    const say = async (page, text) => {
      await page.locator('.hc-input').fill(text);
      await page.locator('.hc-input').press('Enter');
    };
    await say(ada, 'before the crash');
    await bo.locator('.hc-list .hc-text', { hasText: 'before the crash' }).waitFor();

    // What a screen reader would speak from here on: any change inside a live region.
    await ada.evaluate(() => {
      const root = document.querySelector('[data-hello-chat-host]').shadowRoot;
      const live = (n) => (n.nodeType === 1 ? n : n.parentElement)?.closest('[role=status],[role=alert],[role=log],[aria-live]:not([aria-live=off])');
      Object.assign(window, { spoken: [], bannerChanges: 0 });
      new MutationObserver((changes) => {
        for (const c of changes) {
          if ((c.target.nodeType === 1 ? c.target : c.target.parentElement)?.closest('.hc-banner')) window.bannerChanges++;
          const text = c.type === 'characterData' ? c.target.data : [...c.addedNodes].map((n) => n.textContent).join('');
          if (text && live(c.target)) window.spoken.push(text);
        }
      }).observe(root, { subtree: true, childList: true, characterData: true });
    });
    await server.kill();
    await ada.locator('.hc-banner', { hasText: /Reconnecting/ }).waitFor({ timeout: 40000 });
    // The countdown ticks on screen; the outage is read out once, not at each tick.
    await ada.waitForFunction(() => window.bannerChanges >= 4, null, { timeout: 40000 });
    const spoken = (await ada.evaluate(() => window.spoken)).filter((s) => /connect/i.test(s));
    assert.equal(spoken.length, 1, JSON.stringify(spoken));
    await say(ada, 'during the outage 1');
    await say(bo, 'during the outage 2');
    await say(ada, 'during the outage 3');
    await ada.locator('.hc-outbox .hc-msg[data-state="pending"]').nth(1).waitFor();

    server = await startServer({ persistTo: state, port: server.port });
    const expected = ['before the crash', 'during the outage 1', 'during the outage 3', 'during the outage 2'];
    for (const page of [ada, bo]) {
      await page.locator('.hc-list .hc-msg').nth(3).waitFor({ timeout: 60000 });
      await page.locator('.hc-outbox .hc-msg').first().waitFor({ state: 'detached', timeout: 30000 });
    }
    const audit = await join(room, 'Audit', {}, { base: server.url });
    const stored = audit.history.messages.map((m) => m.message);
    assert.equal(stored.length, 4, `stored: ${JSON.stringify(stored)}`);
    assert.deepEqual([...stored].sort(), [...expected].sort(), 'every message stored exactly once');
    assert.deepEqual(stored.slice(0, 1), ['before the crash']);
    assert.ok(stored.indexOf('during the outage 1') < stored.indexOf('during the outage 3'), "Ada's messages keep their order");
    for (const page of [ada, bo]) {
      assert.deepEqual(await page.locator('.hc-list .hc-text').allTextContents(), stored, 'each page shows the stored history');
    }
    await audit.close();
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(state, { recursive: true, force: true });
  }
});
