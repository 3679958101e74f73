// Chaos: widgets in real pages and raw clients post known sequences into one
// room while sockets are dropped, pages go offline and the whole server is
// SIGKILLed and restarted on the same state. Afterwards every client shows
// exactly the room's stored history: nothing lost, nothing doubled, same order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../../scripts/lib/server.mjs';
import { launchBrowser, sleep, uniqueRoom, widgetPage } from './helpers.mjs';
import { ReliableClient, storedHistory } from './reliable-client.mjs';

const PER_SENDER = 25;
const GAP_MS = 300;

test('chaos: drops, offline pages and two server crashes; zero loss, zero duplicates', { timeout: 240_000 }, async () => {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'hello-chat-chaos-'));
  let server = await startServer({ persistTo: state });
  const browser = await launchBrowser();
  const report = { restarts: 0, drops: 0, offline: 0, recoveryMs: [] };
  let raws = [];
  try {
    const room = uniqueRoom('chaos');
    const base = server.url;
    const contexts = [await browser.newContext(), await browser.newContext()];
    const pages = [];
    for (const [i, ctx] of contexts.entries()) {
      const page = await widgetPage(ctx, { room, name: `Page${i}` }, { base });
      await page.locator('.hc-banner').waitFor({ state: 'hidden' });
      pages.push(page);
    }
    raws = [0, 1].map((i) => new ReliableClient({ room, name: `Raw${i}`, base }));
    raws.forEach((r) => r.start());
    while (!raws.every((r) => r.connected)) await sleep(50);

    // Senders: each posts PER_SENDER numbered messages, whatever happens.
    const expected = [];
    const senders = [
      ...pages.map((page, i) => async (n) => {
        await page.locator('.hc-input').fill(`Page${i} #${n}`);
        await page.locator('.hc-input').press('Enter');
      }),
      ...raws.map((raw, i) => async (n) => raw.send(`Raw${i} #${n}`)),
    ];
    const names = ['Page0', 'Page1', 'Raw0', 'Raw1'];
    for (const name of names) for (let n = 1; n <= PER_SENDER; n++) expected.push(`${name} #${n}`);
    const sending = Promise.all(senders.map(async (send) => {
      for (let n = 1; n <= PER_SENDER; n++) {
        await send(n);
        await sleep(GAP_MS);
      }
    }));

    // Chaos, while they send.
    const connectedCount = (page) => page.evaluate(() => window.events.filter(([e, d]) => e === 'status' && d.status === 'connected').length);
    const crash = async () => {
      const rawBefore = raws.map((r) => r.connections);
      const pageBefore = await Promise.all(pages.map(connectedCount));
      await server.kill();
      await sleep(500);
      server = await startServer({ persistTo: state, port: server.port });
      const up = Date.now();
      report.restarts++;
      // Recovery: until every client has connected again.
      for (;;) {
        const pagesBack = (await Promise.all(pages.map(connectedCount))).every((n, i) => n > pageBefore[i]);
        if (pagesBack && raws.every((r, i) => r.connected && r.connections > rawBefore[i])) break;
        if (Date.now() - up > 60_000) assert.fail('clients did not reconnect within 60 s of the restart');
        await sleep(100);
      }
      report.recoveryMs.push(Date.now() - up);
    };
    const offline = async (i, ms) => {
      await contexts[i].setOffline(true);
      report.offline++;
      await sleep(ms);
      await contexts[i].setOffline(false);
    };
    await sleep(1000);
    raws[0].drop(); report.drops++;
    await offline(0, 1500);
    await crash();
    raws[1].drop(); report.drops++;
    await offline(1, 1000);
    raws[0].drop(); report.drops++;
    await crash();
    await sending;

    // Quiescence: every outbox empty, every client has everything.
    const total = expected.length;
    const deadline = Date.now() + 90_000;
    for (;;) {
      const pageCounts = await Promise.all(pages.map((p) => p.locator('.hc-list .hc-msg').count()));
      const pagePending = await Promise.all(pages.map((p) => p.locator('.hc-outbox .hc-msg').count()));
      if (pageCounts.every((c) => c === total) && pagePending.every((c) => c === 0)
        && raws.every((r) => r.pending.size === 0 && r.messages.size === total)) break;
      if (Date.now() > deadline) {
        assert.fail(`no quiescence: pages ${pageCounts}/${pagePending} pending, raws ${raws.map((r) => `${r.messages.size}/${r.pending.size}`)}`);
      }
      await sleep(250);
    }

    const stored = (await storedHistory(room, { base: server.url })).map((m) => m.message);
    assert.equal(stored.length, total, 'stored count');
    assert.equal(new Set(stored).size, total, 'no message stored twice');
    assert.deepEqual([...stored].sort(), [...expected].sort(), 'every message sent is stored');
    for (const name of names) {
      const mine = stored.filter((t) => t.startsWith(`${name} #`)).map((t) => Number(t.split('#')[1]));
      assert.deepEqual(mine, Array.from({ length: PER_SENDER }, (_, i) => i + 1), `${name}'s messages keep their order`);
    }
    for (const [i, page] of pages.entries()) {
      assert.deepEqual(await page.locator('.hc-list .hc-text').allTextContents(), stored, `page ${i} shows the stored history`);
      const own = await page.locator('.hc-list .hc-own .hc-text').allTextContents();
      assert.equal(own.length, PER_SENDER, `page ${i} shows all its messages as sent`);
    }
    for (const [i, raw] of raws.entries()) assert.deepEqual(raw.texts(), stored, `raw client ${i} has the stored history`);
    console.log(`# chaos: ${total} messages sent by 4 senders, ${stored.length} stored, 0 lost, 0 doubled; ` +
      `${report.restarts} server SIGKILLs, ${report.drops} socket drops, ${report.offline} offline periods; ` +
      `recovery after restart ${report.recoveryMs.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')}; ` +
      `raw reconnections ${raws.map((r) => r.connections - 1).join(', ')}`);
  } finally {
    raws.forEach((r) => r.stop());
    await browser.close();
    await server.stop();
    fs.rmSync(state, { recursive: true, force: true });
  }
});
