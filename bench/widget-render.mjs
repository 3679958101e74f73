// `node bench/widget-render.mjs` (`npm run bench:widget`): what the widget
// costs a visitor's browser in a busy room. A page with the widget mounted in
// a room (headless Chromium) while raw WebSocket senders post messages at a
// fixed rate (default 10, 50 and 100 msg/s, 20 s each, several senders,
// texts of 20 to 200 characters). Measured in the page through the Chrome
// DevTools Protocol and a PerformanceObserver:
//   busy ms/msg      main-thread task time (Performance.getMetrics TaskDuration,
//                    DevTools' own commands left out) over the sending window and
//                    its drain, per message sent; also script, style and layout
//   layouts/msg      LayoutCount and RecalcStyleCount per message: more than one
//                    frame's worth (~60/s) means forced synchronous layouts
//   long tasks       PerformanceObserver 'longtask' (> 50 ms): count, longest
//   DOM nodes, heap  at the end after a forced GC (Nodes, JSHeapUsedSize), the
//                    widget's wasm memory, event listeners; and the node count
//                    sampled along the window (growth past the list's bound)
//   idle ms/s        main-thread time per second in the 3 s after the last
//                    message (timers that never stop)
//   timers           setTimeout/setInterval/requestAnimationFrame calls per
//                    message and while idle
//   delivered        every message sent showed up in the DOM (MutationObserver)
// The baseline, measured in the same run, in the same room, at the same
// rates, alternated with ours: the workshop's front end (hello-chat-starter's
// public/index.html, the plain JavaScript page the project started from and
// keeps working through its legacy dialect), reproduced below as it renders:
// one <div> per message with textContent, appended, scrollTop = scrollHeight,
// at most 100 kept. Its QR code (a CDN import) and prompt() for the name are
// left out. Figures are ratios, ours ÷ baseline.
// Builds nothing (dist/public must exist); starts a server of its own on a
// free port. Prints a table; writes nothing unless --write (then
// bench/results/widget-render.json and .md).
//   --rates 10,50,100   --seconds 20   --runs 1   --senders 4
//   --profile           also a CPU profile of each system at the highest rate:
//                       the top self-time functions
//   --profile-out DIR   the same, and the profiles saved in DIR (.cpuprofile)
//   --trace-out DIR     a Chrome trace of each system at the highest rate, saved
//                       in DIR, summed by event (paint, layout, style, ...)
//   --json              print the JSON too
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { startServer } from '../scripts/lib/server.mjs';
import { ROOT } from '../scripts/lib/run.mjs';
import { ensureDevVars } from '../scripts/lib/tools.mjs';
import { launchBrowser } from '../tests/e2e/helpers.mjs';

const SYSTEMS = ['ours', 'baseline'];
const SITE = 'demo'; // the default site: the workshop's front end names none
const DRAIN_TIMEOUT_MS = 15_000;
const IDLE_MS = 3000;
const median = (xs) => { const s = xs.filter(Number.isFinite).sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Before anything of the page: long tasks, timer calls, the wasm memory, and
// which messages reached the DOM (a token ⟦n⟧ in each text). Changes nothing
// the page does.
const PROBE = `(() => {
  const b = window.__bench = { long: [], timers: { setTimeout: 0, setInterval: 0, requestAnimationFrame: 0 }, seen: new Set(), added: 0, memories: [] };
  try { new PerformanceObserver((l) => { for (const e of l.getEntries()) b.long.push([e.startTime, e.duration]); }).observe({ type: 'longtask' }); } catch {}
  for (const k of Object.keys(b.timers)) {
    const orig = window[k];
    window[k] = function (...a) { b.timers[k]++; return orig.apply(this, a); };
  }
  const keep = (r) => { try { for (const v of Object.values(r.instance?.exports ?? r.exports ?? {})) if (v instanceof WebAssembly.Memory) b.memories.push(v); } catch {} return r; };
  for (const k of ['instantiate', 'instantiateStreaming']) {
    const orig = WebAssembly[k];
    if (orig) WebAssembly[k] = function (...a) { return orig.apply(this, a).then(keep); };
  }
  const OrigInstance = WebAssembly.Instance;
  WebAssembly.Instance = function (...a) { const i = new OrigInstance(...a); keep(i); return i; };
  WebAssembly.Instance.prototype = OrigInstance.prototype;
  // Layout reads (each one after a DOM write forces a synchronous layout),
  // localStorage writes, WebSocket frames sent.
  b.reads = 0; b.stores = 0; b.sent = 0;
  const count = (proto, key, field) => {
    const d = Object.getOwnPropertyDescriptor(proto, key);
    if (d?.get) Object.defineProperty(proto, key, { ...d, get() { b[field]++; return d.get.call(this); } });
    else if (typeof d?.value === 'function') proto[key] = function (...a) { b[field]++; return d.value.apply(this, a); };
  };
  for (const k of ['scrollTop', 'scrollHeight', 'clientHeight', 'clientWidth', 'getBoundingClientRect']) count(Element.prototype, k, 'reads');
  for (const k of ['offsetTop', 'offsetHeight', 'offsetWidth', 'offsetLeft']) count(HTMLElement.prototype, k, 'reads');
  count(Storage.prototype, 'setItem', 'stores');
  count(WebSocket.prototype, 'send', 'sent');
  const re = /\\u27e6(\\d+)\\u27e7/g;
  const mo = new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes) {
      b.added++;
      const t = n.textContent;
      if (t && t.includes('\\u27e6')) for (const m of t.matchAll(re)) b.seen.add(+m[1]);
    }
  });
  b.watch = (root) => mo.observe(root, { childList: true, subtree: true, characterData: false });
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (...a) { const s = attach.apply(this, a); b.watch(s); return s; };
  document.addEventListener('DOMContentLoaded', () => b.watch(document.body));
  b.domNodes = () => {
    let n = 0;
    const walk = (root) => { for (const el of root.querySelectorAll('*')) { n++; if (el.shadowRoot) walk(el.shadowRoot); } };
    walk(document);
    return n;
  };
  b.wasmBytes = () => b.memories.reduce((a, m) => a + m.buffer.byteLength, 0);
})();`;

/** The widget, as README embeds it. */
const oursPage = (room) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>widget bench</title></head>
<body><h1>Live event</h1><div id="chat" style="height:600px;max-width:420px"></div>
<script src="/hello-chat.js"></script>
<script>
  window.__ready = new Promise((resolve) => {
    const chat = HelloChat.mount(document.getElementById('chat'), { room: ${JSON.stringify(room)}, name: 'Visitor' });
    chat.on('status', (d) => { if (d.status === 'connected') resolve(); });
  });
</script></body></html>`;

/** The workshop's front end (hello-chat-starter public/index.html), as it renders messages. */
const baselinePage = (room) => `<!doctype html><html lang="en"><head><meta charset="UTF-8"><title>Chat Demo</title>
<style>
  body { padding: 12px; max-width: 800px; margin: auto; }
  #messageContainer { border: 1px solid #ccc; padding: 10px; margin: 10px 0; height: 200px; overflow-y: auto; }
  #sendButton:disabled { background-color: #ccc; cursor: not-allowed; }
  form { display: flex; gap: 10px; align-items: center; }
  #messageInput { flex: 1; padding: 8px; border: 1px solid #ccc; border-radius: 4px; }
</style></head>
<body>
  <h1>Cloudflare Durable Objects Chat</h1>
  <div id="connectionStatus">Status: Disconnected</div>
  <div id="messageContainer"></div>
  <form id="messageForm" action="">
    <input type="text" id="messageInput" placeholder="Type your message (max 200 chars)" maxlength="200" required />
    <button type="submit" id="sendButton">Send Message</button>
  </form>
<script type="module">
  const room = ${JSON.stringify(room)};
  const username = 'Visitor';
  let ws;
  const messageContainer = document.getElementById('messageContainer');
  const statusElement = document.getElementById('connectionStatus');
  const sendButton = document.getElementById('sendButton');
  const wsUrl = location.origin.replace(/^http/, 'ws') + '/ws';
  let ready; window.__ready = new Promise((r) => (ready = r));
  function connect() {
    ws = new WebSocket(\`\${wsUrl}?name=\${encodeURIComponent(username)}&room=\${encodeURIComponent(room)}\`);
    ws.onopen = () => {
      statusElement.textContent = 'Status: Connected';
      statusElement.style.color = 'green';
      sendButton.disabled = false;
      addMessage('System', \`Connected to room \${room} as \${username}\`);
      ready();
    };
    ws.onmessage = (event) => {
      try {
        console.log('Received:', event.data);
        const { name, message, timestamp } = JSON.parse(event.data);
        addMessage(name, message, timestamp);
      } catch (error) {
        console.error('Error parsing message:', error);
        addMessage('Error', 'Received invalid message');
      }
    };
    ws.onerror = () => { addMessage('Error', 'Connection error occurred'); statusElement.style.color = 'red'; };
    ws.onclose = (event) => {
      statusElement.textContent = 'Status: Disconnected';
      statusElement.style.color = 'red';
      sendButton.disabled = true;
      addMessage('System', \`Disconnected (Code: \${event.code})\`);
      if (event.code !== 1000) setTimeout(() => { addMessage('System', 'Attempting to reconnect...'); connect(); }, 3000);
    };
  }
  function addMessage(source, message, serverTimestamp = null) {
    const messageElement = document.createElement('div');
    const timestamp = serverTimestamp ? new Date(serverTimestamp).toLocaleTimeString() : new Date().toLocaleTimeString();
    messageElement.textContent = \`[\${timestamp}] \${source}: \${message}\`;
    if (source === 'System' || source === 'Error') {
      messageElement.style.fontStyle = 'italic';
      messageElement.style.color = source === 'Error' ? '#dc3545' : '#6c757d';
    }
    messageContainer.appendChild(messageElement);
    messageContainer.scrollTop = messageContainer.scrollHeight;
    if (messageContainer.children.length > 100) messageContainer.removeChild(messageContainer.firstChild);
  }
  sendButton.disabled = true;
  connect();
</script></body></html>`;

// Realistic chat lines: 20 to 200 characters of words, a few emoji.
const WORDS = ('the a this that goal wow great what amazing play look did you see it again no yes ' +
  'lol haha 🔥 👏 ⚽ why how when team match score really nice so good bad referee crowd ' +
  'tonight here there finally never always everyone best worst moment replay').split(' ');
function chatLine(rand, n) {
  const len = 20 + Math.floor(rand() * rand() * 180); // skewed short, as chat is
  let s = '';
  while (s.length < len) s += (s ? ' ' : '') + WORDS[Math.floor(rand() * WORDS.length)];
  return `${s} \u27e6${n}\u27e7`;
}
function rng(seed) { let x = seed >>> 0 || 1; return () => ((x ^= x << 13, x ^= x >>> 17, x ^= x << 5) >>> 0) / 2 ** 32; }

/** A raw protocol-v1 sender in `room` (as the e2e tests' clients are). */
function sender(server, room, name) {
  const ws = new WebSocket(`${server.wsUrl}/ws?${new URLSearchParams({ room, name, v: '1', site: SITE })}`);
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', (d) => {
      const f = JSON.parse(d.toString());
      if (f.type === 'error') console.error(`sender ${name}: ${JSON.stringify(f)}`);
      if (f.type === 'welcome') resolve(ws);
    });
  });
}

/** Post `total` messages over `seconds`, round-robin over `senders`, at a fixed rate (catching up, never bursting ahead). */
async function post(sockets, rate, total, base) {
  const rand = rng(0x9e3779b9 ^ base);
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    sockets[i % sockets.length].send(JSON.stringify({ type: 'send', id: `b${base + i}`, message: chatLine(rand, base + i) }));
  }
  return performance.now() - t0;
}

async function metrics(cdp) {
  const { metrics: list } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(list.map((m) => [m.name, m.value]));
}
const busy = (a, b) => (b.TaskDuration - a.TaskDuration - (b.DevToolsCommandDuration - a.DevToolsCommandDuration)) * 1000;

/** One system at one rate in a fresh context: the figures of one trial. */
async function trial(browser, server, system, room, rate, seconds, senders, run, profile, trace = null) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  const sockets = [];
  try {
    const page = await context.newPage();
    await page.addInitScript(PROBE);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
    await page.goto(`${server.url}/health`);
    await page.setContent(system === 'ours' ? oursPage(room) : baselinePage(room));
    // setContent replaced the document's children (the window, and the probe, stay).
    await page.evaluate(() => __bench.watch(document));
    await page.waitForFunction(() => window.__ready, null, { timeout: 15_000 });
    await page.evaluate(() => window.__ready);
    for (let i = 0; i < senders; i++) sockets.push(await sender(server, room, `Fan${i}`));
    await sleep(1500); // join history, presence: settled before the window
    const evaluate = (fn, arg) => page.evaluate(fn, arg);
    await cdp.send('HeapProfiler.collectGarbage');
    const start = { m: await metrics(cdp), probe: await evaluate(() => ({ timers: { ...__bench.timers }, long: __bench.long.length, added: __bench.added, reads: __bench.reads, stores: __bench.stores, sent: __bench.sent, dom: __bench.domNodes(), wasm: __bench.wasmBytes() })) };
    if (trace) await browser.startTracing(page, { path: trace.replace('{system}', system), categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink', 'cc', 'v8.execute'] });
    if (profile) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
      await cdp.send('Profiler.start');
    }
    const total = Math.round(rate * seconds);
    // The node count along the way (no GC): does it level off at the list's bound?
    const samples = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        await sleep(2000);
        if (!sampling) break;
        const m = await metrics(cdp);
        samples.push({ t: m.Timestamp, nodes: m.Nodes, heap: m.JSHeapUsedSize, listeners: m.JSEventListeners });
      }
    })();
    // Each trial's tokens are its own (the room's history holds the other system's).
    const base = (run + 1) * 1_000_000;
    const sentMs = await post(sockets, rate, total, base);
    // Drain: until the last message is in the DOM (or a timeout).
    const drainT0 = Date.now();
    await page.waitForFunction((last) => __bench.seen.has(last), base + total - 1, { timeout: DRAIN_TIMEOUT_MS, polling: 100 }).catch(() => {});
    const drainMs = Date.now() - drainT0;
    sampling = false;
    await sampler;
    const end = { m: await metrics(cdp), probe: await evaluate(() => ({ timers: { ...__bench.timers }, long: __bench.long.slice(), added: __bench.added, reads: __bench.reads, stores: __bench.stores, sent: __bench.sent, seen: __bench.seen.size })) };
    let top = null;
    if (trace) top = traceSummary(JSON.parse(await browser.stopTracing()));
    if (profile) {
      const { profile: p } = await cdp.send('Profiler.stop');
      top = topFunctions(p);
      if (typeof profile === 'string') fs.writeFileSync(profile.replace('{system}', system), JSON.stringify(p));
    }
    // Idle: nothing arrives; what still runs?
    await sleep(IDLE_MS);
    const idle = { m: await metrics(cdp), probe: await evaluate(() => ({ timers: { ...__bench.timers } })) };
    await cdp.send('HeapProfiler.collectGarbage');
    const gc = await metrics(cdp);
    const final = await evaluate(() => ({ dom: __bench.domNodes(), wasm: __bench.wasmBytes(), seen: [...__bench.seen] }));
    const seenSet = new Set(final.seen.filter((n) => n >= base && n < base + total));
    const longs = end.probe.long.slice(start.probe.long);
    const d = (k) => (end.m[k] - start.m[k]);
    const timerCalls = (a, b) => Object.values(b.timers).reduce((s, v) => s + v, 0) - Object.values(a.timers).reduce((s, v) => s + v, 0);
    return {
      system, rate, run, messages: total, send_s: sentMs / 1000, drain_ms: drainMs,
      busy_ms_per_msg: busy(start.m, end.m) / total,
      script_ms_per_msg: d('ScriptDuration') * 1000 / total,
      style_ms_per_msg: d('RecalcStyleDuration') * 1000 / total,
      layout_ms_per_msg: d('LayoutDuration') * 1000 / total,
      layouts_per_msg: d('LayoutCount') / total,
      recalcs_per_msg: d('RecalcStyleCount') / total,
      window_s: (end.m.Timestamp - start.m.Timestamp),
      busy_pct: busy(start.m, end.m) / ((end.m.Timestamp - start.m.Timestamp) * 1000) * 100,
      long_tasks: longs.length,
      longest_ms: longs.reduce((a, [, dur]) => Math.max(a, dur), 0),
      nodes_added_per_msg: (end.probe.added - start.probe.added) / total,
      layout_reads_per_msg: (end.probe.reads - start.probe.reads) / total,
      storage_writes_per_msg: (end.probe.stores - start.probe.stores) / total,
      frames_sent_per_msg: (end.probe.sent - start.probe.sent) / total,
      timer_calls_per_msg: timerCalls(start.probe, end.probe) / total,
      idle_busy_ms_per_s: busy(end.m, idle.m) / IDLE_MS * 1000,
      idle_timer_calls_per_s: timerCalls(end.probe, idle.probe) / IDLE_MS * 1000,
      delivered: seenSet.size, delivered_all: seenSet.size === total,
      // Seen at some point, the rendered list is bounded: what stays at the end.
      dom_elements_end: final.dom, dom_elements_start: start.probe.dom,
      nodes_end: gc.Nodes, nodes_start: start.m.Nodes,
      heap_mib_end: gc.JSHeapUsedSize / 2 ** 20, heap_mib_start: start.m.JSHeapUsedSize / 2 ** 20,
      wasm_mib_end: final.wasm / 2 ** 20, wasm_mib_start: start.probe.wasm / 2 ** 20,
      listeners_end: gc.JSEventListeners, listeners_start: start.m.JSEventListeners,
      node_samples: samples.map((s) => s.nodes),
      top,
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await context.close();
  }
}

/**
 * Renderer main-thread time by trace event (inclusive: nested events are
 * counted in their parents too), the top 25, from a Chrome trace.
 */
function traceSummary(trace) {
  const events = trace.traceEvents ?? trace;
  const main = new Set(events.filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const sum = new Map();
  for (const e of events) {
    if (e.ph !== 'X' || !main.has(`${e.pid}:${e.tid}`)) continue;
    sum.set(e.name, (sum.get(e.name) ?? 0) + (e.dur ?? 0) / 1000);
  }
  const busyMs = sum.get('ThreadControllerImpl::RunTask') ?? sum.get('RunTask') ?? 0;
  return { total_ms: busyMs, idle_ms: 0, top: [...sum.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([fn, ms]) => ({ fn, ms, pct_of_busy: busyMs ? (ms / busyMs) * 100 : NaN })) };
}

/** Self time per function (name + script), the top 20, from a CDP profile. */
function topFunctions(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dts = profile.timeDeltas;
  let totalMs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const n = byId.get(profile.samples[i]);
    const dt = (dts[i + 1] ?? 0) / 1000;
    const cf = n.callFrame;
    const file = cf.url ? cf.url.split('/').pop() : '';
    const key = `${cf.functionName || '(anonymous)'}${file ? ` ${file}` : ''}${cf.url && cf.lineNumber >= 0 ? `:${cf.lineNumber + 1}:${cf.columnNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    totalMs += dt;
  }
  const idle = self.get('(idle)') ?? 0;
  const busyMs = totalMs - idle;
  return {
    total_ms: totalMs, idle_ms: idle,
    top: [...self.entries()].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, 20)
      .map(([fn, ms]) => ({ fn, ms, pct_of_busy: (ms / (busyMs || 1)) * 100 })),
  };
}

export async function measureWidgetRender({ server, rates = [10, 50, 100], seconds = 20, runs = 1, senders = 4, profile = false, trace = null, log = () => {} }) {
  const browser = await launchBrowser();
  const samples = [];
  const profiles = {};
  try {
    // Warm-up, not measured: the server's first room and the browser's first compile.
    for (const system of SYSTEMS) {
      await trial(browser, server, system, `wr-warm-${randomBytes(3).toString('hex')}`, 20, 2, 1, 9, false);
    }
    for (let r = 0; r < runs; r++) {
      for (const [i, rate] of rates.entries()) {
        // One room per rate and run, for both systems; which goes first alternates.
        const room = `wr-${rate}-${r}-${randomBytes(3).toString('hex')}`;
        const order = (i + r) % 2 === 0 ? SYSTEMS : [...SYSTEMS].reverse();
        for (const [k, system] of order.entries()) {
          log(`run ${r + 1}/${runs}, ${rate} msg/s, ${system}`);
          samples.push(await trial(browser, server, system, room, rate, seconds, senders, r * 10 + k, false));
        }
      }
    }
    if (profile) {
      const rate = Math.max(...rates);
      for (const system of SYSTEMS) {
        log(`profile, ${rate} msg/s, ${system}`);
        const t = await trial(browser, server, system, `wr-prof-${randomBytes(3).toString('hex')}`, rate, seconds, senders, 99, profile);
        profiles[system] = t.top;
      }
    }
    if (trace) {
      const rate = Math.max(...rates);
      for (const system of SYSTEMS) {
        log(`trace, ${rate} msg/s, ${system}`);
        const t = await trial(browser, server, system, `wr-trace-${randomBytes(3).toString('hex')}`, rate, seconds, senders, 98, false, trace);
        profiles[`${system} (trace)`] = t.top;
      }
    }
  } finally {
    await browser.close();
  }
  const rows = rates.map((rate) => {
    const row = { rate };
    for (const system of SYSTEMS) {
      const s = samples.filter((x) => x.system === system && x.rate === rate);
      const pick = (k) => median(s.map((x) => x[k]));
      row[system] = Object.fromEntries(Object.keys(s[0]).filter((k) => typeof s[0][k] === 'number').map((k) => [k, pick(k)]));
      row[system].delivered_all = s.every((x) => x.delivered_all);
      row[system].long_tasks_max = Math.max(...s.map((x) => x.long_tasks));
      row[system].longest_ms_max = Math.max(...s.map((x) => x.longest_ms));
      row[system].node_samples = s[0].node_samples;
    }
    return row;
  });
  return { date: new Date().toISOString(), machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`, seconds, runs, senders, rows, profiles, samples };
}

export function widgetRenderMarkdown(r) {
  const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–');
  const ratio = (a, b) => (Number.isFinite(a / b) && b !== 0 ? `${(a / b).toFixed(2)}x` : '–');
  const lines = [
    `Measured ${r.date} on ${r.machine}; ${r.seconds} s per rate, ${r.senders} senders, median of ${r.runs} run(s), systems alternated, same room.`,
    '',
    '| msg/s | system | busy ms/msg | script | style | layout | layouts/msg | layout reads/msg | storage writes/msg | frames sent/msg | busy % | long tasks, most in a run (longest ms) | nodes added/msg | timer calls/msg | idle ms/s | DOM elements end | Nodes end (GC) | JS heap MiB end | wasm MiB end | listeners end | delivered |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const row of r.rows) {
    for (const system of SYSTEMS) {
      const x = row[system];
      lines.push(`| ${row.rate} | ${system} | ${f(x.busy_ms_per_msg)} | ${f(x.script_ms_per_msg)} | ${f(x.style_ms_per_msg)} | ${f(x.layout_ms_per_msg)} | ${f(x.layouts_per_msg)} | ${f(x.layout_reads_per_msg, 1)} | ${f(x.storage_writes_per_msg)} | ${f(x.frames_sent_per_msg)} | ${f(x.busy_pct, 0)} | ${x.long_tasks_max} (${f(x.longest_ms_max, 0)}) | ${f(x.nodes_added_per_msg, 1)} | ${f(x.timer_calls_per_msg, 1)} | ${f(x.idle_busy_ms_per_s, 1)} | ${f(x.dom_elements_end, 0)} | ${f(x.nodes_end, 0)} | ${f(x.heap_mib_end, 1)} | ${f(x.wasm_mib_end, 1)} | ${f(x.listeners_end, 0)} | ${x.delivered_all ? 'all' : `${x.delivered}/${x.messages}`} |`);
    }
  }
  lines.push('', 'Ratios, ours ÷ baseline (lower is better):', '',
    '| msg/s | busy ms/msg | script | style+layout | layouts/msg | long tasks | Nodes end | JS heap end | idle ms/s |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const row of r.rows) {
    const [o, b] = [row.ours, row.baseline];
    lines.push(`| ${row.rate} | ${ratio(o.busy_ms_per_msg, b.busy_ms_per_msg)} | ${ratio(o.script_ms_per_msg, b.script_ms_per_msg)} | ${ratio(o.style_ms_per_msg + o.layout_ms_per_msg, b.style_ms_per_msg + b.layout_ms_per_msg)} | ${ratio(o.layouts_per_msg, b.layouts_per_msg)} | ${o.long_tasks_max} vs ${b.long_tasks_max} | ${ratio(o.nodes_end, b.nodes_end)} | ${ratio(o.heap_mib_end, b.heap_mib_end)} | ${ratio(o.idle_busy_ms_per_s, b.idle_busy_ms_per_s)} |`);
  }
  lines.push('', 'Nodes sampled every 2 s during the window (no GC), first run:', '');
  for (const row of r.rows) for (const system of SYSTEMS) lines.push(`- ${row.rate} msg/s ${system}: ${row[system].node_samples.map((n) => Math.round(n)).join(', ')}`);
  for (const [system, p] of Object.entries(r.profiles ?? {})) {
    if (!p) continue;
    const traced = system.endsWith('(trace)');
    lines.push('', traced
      ? `Trace, ${system}, ${Math.max(...r.rows.map((x) => x.rate))} msg/s: ${f(p.total_ms, 0)} ms in main-thread tasks; inclusive time by event:`
      : `CPU profile, ${system}, ${Math.max(...r.rows.map((x) => x.rate))} msg/s: ${f(p.total_ms - p.idle_ms, 0)} ms busy of ${f(p.total_ms, 0)} ms; top self time:`, '',
      `| ${traced ? 'event' : 'function'} | ${traced ? 'ms' : 'self ms'} | % of busy |`, '| --- | ---: | ---: |');
    for (const t of p.top) lines.push(`| \`${t.fn}\` | ${f(t.ms, 0)} | ${f(t.pct_of_busy, 1)} |`);
  }
  return lines;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : dflt; };
  const rates = arg('rates', '10,50,100').split(',').map(Number);
  const seconds = Number(arg('seconds', '20'));
  const runs = Number(arg('runs', '1'));
  const senders = Number(arg('senders', '4'));
  // --profile, or --profile-out DIR: the profiles too, as DIR/widget-render-{system}.cpuprofile (DevTools opens them).
  const profileOut = arg('profile-out', null);
  // --trace-out DIR: a Chrome trace of each system at the highest rate (DIR/widget-render-{system}.json), summed by event.
  const traceOut = arg('trace-out', null);
  if (traceOut) fs.mkdirSync(traceOut, { recursive: true });
  const trace = traceOut ? path.join(traceOut, 'widget-render-{system}.json') : null;
  if (profileOut) fs.mkdirSync(profileOut, { recursive: true });
  const profile = profileOut ? path.join(profileOut, 'widget-render-{system}.cpuprofile') : process.argv.includes('--profile');
  if (!fs.existsSync(path.join(ROOT, 'dist/public/hello-chat.js'))) throw new Error('dist/public/hello-chat.js is missing: run `npm run build` first');
  ensureDevVars(); // the development ADMIN_TOKEN, to configure the site
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hello-chat-widget-render-'));
  const server = await startServer({ persistTo: tmp });
  try {
    // The default site (both fronts name none) with limits a busy room needs;
    // the senders have no Origin.
    const res = await fetch(`${server.url}/admin/sites/${SITE}`, {
      method: 'PUT',
      headers: { authorization: 'Bearer dev-admin-token', 'content-type': 'application/json' },
      body: JSON.stringify({ origins: ['http://127.0.0.1:*', 'http://localhost:*'], allowNoOrigin: true,
        limits: { rateBurst: 1000, ratePerSec: 1000, maxConnections: 5000, retention: 1000000,
          addressBurst: 10000, addressPerSec: 1000, maxConnectionsPerAddress: 5000 } }),
    });
    if (!res.ok) throw new Error(`configuring site ${SITE}: ${res.status} ${await res.text()}`);
    const result = await measureWidgetRender({ server, rates, seconds, runs, senders, profile, trace, log: (m) => console.error(`▸ ${m}`) });
    const md = widgetRenderMarkdown(result).join('\n');
    console.log(md);
    if (process.argv.includes('--json')) console.log(JSON.stringify(result, null, 2));
    if (process.argv.includes('--write')) {
      fs.mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
      fs.writeFileSync(path.join(ROOT, 'bench/results/widget-render.json'), JSON.stringify(result, null, 2) + '\n');
      fs.writeFileSync(path.join(ROOT, 'bench/results/widget-render.md'), md + '\n');
    }
  } finally {
    await server.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
