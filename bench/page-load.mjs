// `node bench/page-load.mjs [runs]`: what the chat costs the page that
// embeds it, for the two ways of embedding it (issue #15), against the same
// page without it:
//   none              the page without the chat (the reference), until painted
//   inline            <script src=hello-chat.js> + HelloChat.mount(...), until the widget is connected
//   launcher          <script src=hello-chat-launcher.js async>, until the bubble is shown
//   launcher, opened  the same page, then a click on the bubble, until the widget is connected
// For each: the bytes and requests the page sends to the chat server, and the
// renderer's main-thread time, in headless Chromium with a cold cache (a
// fresh browser context per load). Each figure is the median of `runs` loads
// (default 5), the modes alternated. Prints a table and the JSON.
// Builds nothing: run `npm run build` first (dist/public); alone, it starts
// a server of its own. `npm run bench` runs it too (measurePageLoad, against
// the bench's server).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { freePort, startServer } from '../scripts/lib/server.mjs';
import { ROOT } from '../scripts/lib/run.mjs';
import { launchBrowser } from '../tests/e2e/helpers.mjs';

export const MODES = ['none', 'inline', 'launcher', 'opened'];
const LABELS = { none: 'no chat (reference)', inline: 'inline', launcher: 'launcher', opened: 'launcher, opened' };
const UNTIL = { none: 'load → painted', inline: 'load → connected', launcher: 'load → bubble shown', opened: 'load, click → connected' };
// What each load waits for (__bench.ready in the page).
const READY = { none: 'painted', inline: 'connected', launcher: 'bubble', opened: 'bubble' };
const READY_TIMEOUT_MS = 30_000;
// How long the visitor looks at the page before opening the chat: keeps the
// open's work apart from the page load's.
const PAUSE_BEFORE_OPEN_MS = 300;

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };
const escapeAttr = (s) => String(s).replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);

// Runs in the host page's <head>, before anything of the widget. It observes
// and changes nothing the widget does, except that it wraps HelloChat.mount
// to listen to the handle's `status` events: the launcher mounts the widget
// itself, so that is the only way to hear "connected" in both modes alike.
const PROBE = `
window.__bench = (() => {
  let longest = 0, blocking = 0, clickAt = null;
  // Long tasks (> 50 ms): the longest, and the total blocking time (each one's time over 50 ms).
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) { longest = Math.max(longest, e.duration); blocking += Math.max(0, e.duration - 50); }
  }).observe({ type: 'longtask' });
  addEventListener('click', () => { clickAt ??= performance.now(); }, true);
  // "Shown" means painted: the first frame after the change, and the task after it.
  const afterPaint = () => new Promise((r) => requestAnimationFrame(() => setTimeout(() => r(performance.now()))));
  let connected, failed;
  const connectedAt = new Promise((resolve, reject) => { connected = resolve; failed = reject; });
  // hello-chat.js has just run (a capture listener on document runs before the
  // script element's own onload, which is where the launcher calls mount).
  document.addEventListener('load', (e) => {
    const hc = Object.getOwnPropertyDescriptor(window, 'HelloChat')?.value;
    if (!/\\/hello-chat\\.js$/.test(e.target.src ?? '') || typeof hc?.mount !== 'function' || hc.mount.benchWrapped) return;
    const mount = hc.mount;
    hc.mount = (...args) => mount(...args).on('status', (d) => {
      if (d.status === 'connected') afterPaint().then(connected);
      else if (d.status === 'failed') failed(new Error('widget failed: ' + JSON.stringify(d)));
    });
    hc.mount.benchWrapped = true;
  }, true);
  // The launcher appends its bubble's host element to <body>.
  const bubbleAt = new Promise((resolve) => {
    const seen = () => document.querySelector('[data-hello-chat-launcher-host]');
    const mo = new MutationObserver(() => { if (seen()) { mo.disconnect(); afterPaint().then(resolve); } });
    mo.observe(document.documentElement, { childList: true, subtree: true });
  });
  const paintedAt = new Promise((resolve) => document.addEventListener('DOMContentLoaded', () => afterPaint().then(resolve)));
  return {
    ready: (what) => ({ bubble: bubbleAt, connected: connectedAt, painted: paintedAt })[what],
    stats: () => ({ longest, blocking, clickAt }),
    bubbleCenter() {
      const r = document.querySelector('[data-hello-chat-launcher-host]').shadowRoot.querySelector('.b').getBoundingClientRect();
      return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
    },
  };
})();`;

/** A small shop page embedding the chat as README.md shows it. */
function hostPage(mode, { server, room, site }) {
  const siteOpt = site ? `, site: ${JSON.stringify(site)}` : '';
  const embed = mode === 'none' ? ''
    : mode === 'inline'
    ? `<div id="chat"></div>
  <script src="${server}/hello-chat.js"></script>
  <script>HelloChat.mount(document.getElementById('chat'), { room: ${JSON.stringify(room)}, name: 'Bench'${siteOpt} });</script>`
    : `<div data-hello-chat-launcher data-room="${escapeAttr(room)}" data-name="Bench"${site ? ` data-site="${escapeAttr(site)}"` : ''}></div>
  <script src="${server}/hello-chat-launcher.js" async></script>`;
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Acme Plants</title>
  <script>${PROBE}</script>
</head>
<body>
  <h1>Acme Plants</h1>
  <p>A pretend shop page: the chat is all that loads from the chat server.</p>
  ${embed}
</body>
</html>`;
}

/** The host site, on its own origin (another port: cross-origin to the chat server, as on a real site). */
async function startHost(server, site) {
  const port = await freePort();
  const srv = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://host');
    const mode = url.pathname.slice(1);
    const body = MODES.includes(mode) ? hostPage(mode, { server, room: url.searchParams.get('room'), site }) : null;
    res.writeHead(body ? 200 : 404, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(body ?? 'not found');
  });
  await new Promise((resolve) => srv.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => srv.close(r)) };
}

/**
 * Performance.getMetrics as { name: value }; durations are in seconds. The
 * durations count from the start of the current document (each navigation
 * starts them again), so after a load they are the load's.
 */
async function metrics(cdp) {
  const { metrics: list } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(list.map((m) => [m.name, m.value]));
}

/** Main-thread milliseconds between two snapshots (DevTools' own commands left out). */
function mainThread(a, b) {
  const d = (k) => (b[k] - (a[k] ?? 0)) * 1000;
  return {
    main_thread_ms: d('TaskDuration') - d('DevToolsCommandDuration'),
    script_ms: d('ScriptDuration'),
    style_layout_ms: d('RecalcStyleDuration') + d('LayoutDuration'),
  };
}

/** One cold load of `mode` in a fresh browser context. */
async function loadOnce(browser, host, chatOrigin, mode) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Performance.enable');

    // Every request to the chat server: bytes on the wire (headers + body as
    // sent, so compressed if it was) from loadingFinished. The host page's
    // own request is not the widget's cost.
    const requests = new Map();
    let sockets = 0, opened = false;
    const phase = () => (opened ? 'open' : 'load');
    cdp.on('Network.requestWillBeSent', ({ requestId, request }) => {
      if (new URL(request.url).origin === chatOrigin) requests.set(requestId, { url: request.url, phase: phase() });
    });
    cdp.on('Network.responseReceived', ({ requestId, response }) => {
      const r = requests.get(requestId);
      if (r) r.encoding = response.headers['content-encoding'] ?? response.headers['Content-Encoding'] ?? null;
    });
    cdp.on('Network.loadingFinished', ({ requestId, encodedDataLength }) => {
      const r = requests.get(requestId);
      if (r) r.bytes = encodedDataLength;
    });
    cdp.on('Network.webSocketCreated', ({ url }) => { if (new URL(url).origin === chatOrigin.replace(/^http/, 'ws')) sockets++; });
    const evaluate = async (expression) => {
      const { result, exceptionDetails } = await cdp.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
      if (exceptionDetails) throw new Error(`${mode}: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
      return result.value;
    };
    const withTimeout = (p, what) => Promise.race([p, new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`${mode}: no ${what} after ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS))]);

    const room = `pl-${mode}-${randomBytes(4).toString('hex')}`;
    await page.goto(`${host.url}/${mode}?room=${room}`, { waitUntil: 'domcontentloaded' });
    const shownAt = await withTimeout(evaluate(`__bench.ready('${READY[mode]}')`), READY[mode]);
    const sample = { ready_ms: shownAt, ...mainThread({}, await metrics(cdp)) };

    if (mode === 'opened') {
      await page.waitForTimeout(PAUSE_BEFORE_OPEN_MS);
      const m2 = await metrics(cdp);
      const { x, y } = await evaluate('__bench.bubbleCenter()');
      opened = true;
      // A real click (CDP input events), not a call into the launcher.
      await page.mouse.click(x, y);
      const connectedAt = await withTimeout(evaluate('__bench.ready("connected")'), 'connected status after the click');
      const m3 = await metrics(cdp);
      const { clickAt } = await evaluate('__bench.stats()');
      // Totals cover the load and the open (the pause in between is idle);
      // `open` is the click's share alone, and ready_ms is click → connected.
      Object.assign(sample, { ready_ms: connectedAt - clickAt, bubble_ms: shownAt, ...sumThread(sample, mainThread(m2, m3)) });
      sample.open = { ready_ms: connectedAt - clickAt, ...mainThread(m2, m3) };
    }
    const { longest, blocking } = await evaluate('__bench.stats()');
    const done = [...requests.values()].filter((r) => r.bytes !== undefined);
    const bytes = done.reduce((a, r) => a + r.bytes, 0);
    const openBytes = done.filter((r) => r.phase === 'open').reduce((a, r) => a + r.bytes, 0);
    Object.assign(sample, {
      requests: requests.size + sockets, http_requests: requests.size, websockets: sockets, bytes,
      longest_task_ms: longest, blocking_ms: blocking,
      files: [...requests.values()].map((r) => ({ path: new URL(r.url).pathname, bytes: r.bytes, encoding: r.encoding, phase: r.phase })),
    });
    if (sample.open) sample.open.bytes = openBytes;
    return sample;
  } finally {
    await context.close();
  }
}

/** Main-thread figures of the load and of the open, added up. */
function sumThread(a, b) {
  return { main_thread_ms: a.main_thread_ms + b.main_thread_ms, script_ms: a.script_ms + b.script_ms, style_layout_ms: a.style_layout_ms + b.style_layout_ms };
}

/**
 * Measure every mode (MODES) against the chat server at `server` (its
 * origin), `runs` cold loads each, alternating. `site`: the site id the widget uses
 * (its origins must allow http://127.0.0.1:*; default: the server's default
 * site). Returns medians per mode, launcher/inline ratios and every sample.
 */
export async function measurePageLoad({ server, runs = 5, site, log = () => {} } = {}) {
  const chatOrigin = new URL(server).origin;
  const host = await startHost(chatOrigin, site);
  const browser = await launchBrowser();
  try {
    // One load of each, not counted: the server's first asset reads and
    // Durable Object start-ups are not the page's cost.
    for (const mode of MODES) await loadOnce(browser, host, chatOrigin, mode);
    const samples = Object.fromEntries(MODES.map((m) => [m, []]));
    for (let r = 0; r < runs; r++) {
      // Rotate the order so that machine noise falls on every mode alike.
      for (const mode of MODES.map((_, i) => MODES[(i + r) % MODES.length])) {
        const s = await loadOnce(browser, host, chatOrigin, mode);
        samples[mode].push(s);
        log(`  ${LABELS[mode].padEnd(16)} run ${r + 1}: ${s.requests} requests, ${s.bytes} B, main thread ${s.main_thread_ms.toFixed(1)} ms, ready ${s.ready_ms.toFixed(0)} ms`);
      }
    }
    const KEYS = ['requests', 'bytes', 'main_thread_ms', 'script_ms', 'style_layout_ms', 'longest_task_ms', 'blocking_ms', 'ready_ms'];
    const modes = {};
    for (const mode of MODES) {
      const s = samples[mode];
      modes[mode] = Object.fromEntries(KEYS.map((k) => [k, median(s.map((x) => x[k]))]));
      modes[mode].files = s[0].files;
      if (mode === 'opened') {
        modes[mode].bubble_ms = median(s.map((x) => x.bubble_ms));
        modes[mode].open = Object.fromEntries(['bytes', 'main_thread_ms', 'script_ms', 'ready_ms'].map((k) => [k, median(s.map((x) => x.open[k]))]));
      }
    }
    const ratio = (mode) => ({
      ...Object.fromEntries(['requests', 'bytes', 'main_thread_ms', 'script_ms', 'ready_ms'].map((k) => [k, modes[mode][k] / modes.inline[k]])),
      // The widget's own share: the page without chat taken off both.
      main_thread_net: (modes[mode].main_thread_ms - modes.none.main_thread_ms) / (modes.inline.main_thread_ms - modes.none.main_thread_ms),
    });
    return { runs, modes, ratios: { launcher_vs_inline: ratio('launcher'), opened_vs_inline: ratio('opened') }, samples };
  } finally {
    await browser.close();
    await host.close();
  }
}

/** The "Page load" section, as Markdown lines (also used by scripts/bench.mjs). */
export function pageLoadMarkdown(r) {
  const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
  const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
  const kb = (x) => (Number.isFinite(x) ? (x / 1024).toFixed(1) : '–');
  const x2 = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : '–');
  const m = r.modes;
  const lines = [
    `Cold loads (a fresh browser context each) of a small shop page on another origin, headless Chromium; median of ${r.runs} loads per mode, modes alternated.`,
    '',
    '| Mode | until | requests | KB transferred | main thread ms | of which script ms | longest task ms | ready ms |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const mode of MODES) {
    const x = m[mode];
    lines.push(`| ${LABELS[mode]} | ${UNTIL[mode]} | ${f0(x.requests)} | ${kb(x.bytes)} | ${f1(x.main_thread_ms)} | ${f1(x.script_ms)} | ${x.longest_task_ms > 0 ? f1(x.longest_task_ms) : '< 50'} | ${f0(x.ready_ms)} |`);
  }
  const o = m.opened.open;
  const rl = r.ratios.launcher_vs_inline, ro = r.ratios.opened_vs_inline;
  lines.push('',
    'Requests: to the chat server only (HTTP and the WebSocket). Bytes: its HTTP responses on the wire (CDP `Network.loadingFinished`, headers included, compressed as served; WebSocket frames not counted). ' +
    'Main thread: the renderer\'s task time for the document (CDP `Performance.getMetrics` `TaskDuration`, DevTools\' own commands left out; script: `ScriptDuration`); long tasks are reported above 50 ms only. ' +
    '"ready": navigation → connected status (inline), navigation → bubble painted (launcher), click → connected status (launcher, opened; its other columns add up the load and the click). ' +
    `The click alone: ${kb(o.bytes)} KB, ${f1(o.main_thread_ms)} ms of main thread (${f1(o.script_ms)} ms script).`,
    '',
    '| Ratio | requests | bytes | main thread | main thread over the page without chat | script | ready |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| launcher ÷ inline | ${x2(rl.requests)} | ${x2(rl.bytes)} | ${x2(rl.main_thread_ms)} | ${x2(rl.main_thread_net)} | ${x2(rl.script_ms)} | ${x2(rl.ready_ms)} |`,
    `| launcher, opened ÷ inline | ${x2(ro.requests)} | ${x2(ro.bytes)} | ${x2(ro.main_thread_ms)} | ${x2(ro.main_thread_net)} | ${x2(ro.script_ms)} | ${x2(ro.ready_ms)} |`,
    '');
  return lines;
}

// Alone: start a server of our own (fresh state), measure, print.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const runs = Number(process.argv[2] || 5);
  for (const f of ['hello-chat.js', 'hello-chat-launcher.js']) {
    if (!fs.existsSync(path.join(ROOT, 'dist/public', f))) {
      console.error(`dist/public/${f} is missing: run \`npm run build\` first.`);
      process.exit(1);
    }
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hello-chat-page-load-'));
  const server = await startServer({ persistTo: path.join(tmp, 'state') });
  try {
    const result = await measurePageLoad({ server: server.url, runs, log: (line) => console.error(line) });
    console.log(pageLoadMarkdown(result).join('\n'));
    const { samples, ...summary } = result;
    console.log(JSON.stringify(summary, null, 2));
  } finally {
    await server.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
