// `npm run bench`: fan-out latency and throughput, join cost and widget size,
// for Hello Chat against JavaScript Durable Object baselines (bench/baseline),
// all under `wrangler dev` on this machine, and what the widget and its
// launcher cost a page's load (bench/page-load.mjs). Each figure is the
// median of several runs; the systems are measured alternately so that
// machine noise hits them alike; comparisons are ratios within this run.
// Writes bench/results/latest.json and latest.md, prints the table.
//   npm run bench -- --quick     fewer runs and smaller rooms (a smoke test)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ensureTools } from './lib/tools.mjs';
import { buildAll, DIST } from './lib/build.mjs';
import { startServer } from './lib/server.mjs';
import { ROOT, run, step } from './lib/run.mjs';

const quick = process.argv.includes('--quick');
const RUNS = quick ? 1 : 3;
const LOADGEN = path.join(ROOT, 'target/release/loadgen');
const execFileP = promisify(execFile);

await ensureTools();
// After ensureTools: it pulls in playwright-core, which `npm ci` may only now have installed.
const { measurePageLoad, pageLoadMarkdown } = await import('../bench/page-load.mjs');
await buildAll();
step('Building the load generator (cargo build --release -p hello-chat-loadgen)');
await run('cargo', ['build', '--release', '-p', 'hello-chat-loadgen']);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hello-chat-bench-'));
const servers = [];
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };
let roomCounter = 0;
const freshRoom = (p) => `${p}-${Date.now().toString(36)}-${roomCounter++}`;

async function loadgen(args) {
  const { stdout } = await execFileP(LOADGEN, args, { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').pop());
}

/** RSS (KiB) of the workerd processes under a wrangler: current and peak. */
function workerdMemory(server) {
  let rss = 0, hwm = 0;
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (pgid !== server.pid || !fs.readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('workerd')) continue;
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      rss += Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
      hwm += Number(status.match(/VmHWM:\s+(\d+)/)?.[1] ?? 0);
    } catch { /* process ended */ }
  }
  return { rss, hwm };
}

/** Run `fn` while sampling the server's workerd RSS; returns [result, peak RSS in MiB]. */
async function sampled(server, fn) {
  let peak = 0;
  const timer = setInterval(() => { peak = Math.max(peak, workerdMemory(server).rss); }, 100);
  try {
    const result = await fn();
    peak = Math.max(peak, workerdMemory(server).rss);
    return [result, peak / 1024];
  } finally {
    clearInterval(timer);
  }
}

try {
  step('Starting Hello Chat and the JavaScript baseline under wrangler dev');
  const ours = await startServer({ persistTo: path.join(tmp, 'ours') });
  servers.push(ours);
  const base = await startServer({ persistTo: path.join(tmp, 'baseline'), configPath: 'bench/baseline/wrangler.toml' });
  servers.push(base);
  const site = await fetch(`${ours.url}/admin/sites/bench`, {
    method: 'PUT',
    headers: { authorization: 'Bearer dev-admin-token', 'content-type': 'application/json' },
    body: JSON.stringify({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true,
      limits: { rateBurst: 1000, ratePerSec: 1000, maxConnections: 5000, retention: 1000000,
        // Every load-generator client shares the address 127.0.0.1.
        addressBurst: 10000, addressPerSec: 1000, maxConnectionsPerAddress: 5000 } }),
  });
  if (!site.ok) throw new Error(`creating the bench site: ${site.status} ${await site.text()}`);

  const systems = {
    ours: { server: ours, url: `${ours.wsUrl}/ws?v=1&batch=1&site=bench`, dialect: 'v1' },
    baseline: { server: base, url: `${base.wsUrl}/ws?b=1`, dialect: 'legacy' },
    echo: { server: base, url: `${base.wsUrl}/echo?b=1`, dialect: 'legacy' },
  };
  const names = Object.keys(systems);

  // 0. A warm-up, not measured: the first rooms of a fresh server pay for
  // compiling (ours: the worker's wasm is tiered up while it runs), which
  // made the first case's p99 (N=10) mostly a measure of the compiler.
  step('Warming up each system (not measured)');
  for (const name of names) {
    const sys = systems[name];
    for (const [clients, senders, messages] of [[10, 1, 500], [100, 10, 500]]) {
      await loadgen(['fanout', '--url', sys.url, '--dialect', sys.dialect, '--room', freshRoom('warm'), '--clients', clients,
        '--senders', senders, '--messages', messages, '--rate', 0, '--window', 16].map(String));
    }
  }

  // 1-2. Fan-out, fixed rate and fastest sustained, alternating systems.
  const configs = [
    { clients: 10, senders: 1, messages: quick ? 100 : 300, rate: 100 },
    { clients: 10, senders: 1, messages: quick ? 200 : 1000, rate: 0 },
    { clients: 100, senders: 10, messages: quick ? 200 : 1000, rate: 200 },
    { clients: 100, senders: 10, messages: quick ? 300 : 2000, rate: 0 },
    { clients: 500, senders: 10, messages: quick ? 100 : 400, rate: 40 },
    { clients: 500, senders: 10, messages: quick ? 100 : 600, rate: 0 },
    // A join storm: 1,000 clients opened at once (what a deploy does to a
    // big room); its figure is "all joined ms".
    { clients: 1000, senders: 1, messages: 20, rate: 10 },
    // A room bigger than one object: ours keeps 1,000 sockets on the room's
    // owner and hands the rest to a fan-out object (the default plan); the
    // baseline and echo hold all of them in one object.
    ...(quick ? [] : [{ clients: 3000, senders: 1, messages: 20, rate: 10 }]),
  ];
  const fanout = [];
  for (const cfg of configs) {
    const label = `N=${cfg.clients} S=${cfg.senders} ${cfg.rate ? `${cfg.rate} msg/s` : 'max'}`;
    step(`Fan-out ${label} (${RUNS} runs per system)`);
    const samples = Object.fromEntries(names.map((n) => [n, []]));
    for (let r = 0; r < RUNS; r++) {
      const order = names.map((_, i) => names[(i + r) % names.length]);
      for (const name of order) {
        const sys = systems[name];
        const [res, rssMiB] = await sampled(sys.server, () => loadgen(['fanout', '--url', sys.url, '--dialect', sys.dialect,
          '--room', freshRoom('fan'), '--clients', cfg.clients, '--senders', cfg.senders, '--messages', cfg.messages,
          '--rate', cfg.rate, '--window', 16].map(String)));
        samples[name].push({ ...res, rss_mib: rssMiB });
      }
    }
    const row = { label, ...cfg };
    for (const name of names) {
      const s = samples[name];
      const pick = (k) => median(s.map((x) => x[k]));
      row[name] = {
        p50_ms: pick('p50_ms'), p95_ms: pick('p95_ms'), p99_ms: pick('p99_ms'),
        deliveries_per_s: pick('deliveries_per_s'), messages_per_s: pick('messages_per_s'),
        delivered_pct: Math.min(...s.map((x) => x.delivered_pct)),
        join_p50_ms: pick('join_p50_ms'), connect_all_ms: pick('connect_all_ms'), rss_mib: Math.max(...s.map((x) => x.rss_mib)),
      };
    }
    fanout.push(row);
  }

  // 3. Join cost with 10,000 and 50 stored messages.
  step('Join cost: filling rooms with 10,000 and 50 messages');
  const joinRooms = {};
  for (const [name, count] of [['ours', 10000], ['ours', 50], ['baseline', 10000], ['baseline', 50]]) {
    const sys = systems[name];
    const room = freshRoom(`join${count}`);
    const filled = await loadgen(['fanout', '--url', sys.url, '--dialect', sys.dialect, '--room', room,
      '--clients', '11', '--senders', '10', '--messages', String(count), '--window', '64']);
    if (filled.delivered_pct < 100) throw new Error(`filling ${name} room: ${JSON.stringify(filled)}`);
    joinRooms[`${name}-${count}`] = room;
  }
  step('Join cost: measuring');
  const join = {};
  for (let r = 0; r < RUNS; r++) {
    for (const key of Object.keys(joinRooms)) {
      const [name] = key.split('-');
      const sys = systems[name];
      const res = await loadgen(['join', '--url', sys.url, '--dialect', sys.dialect, '--room', joinRooms[key], '--repeat', '5', '--quiet-ms', '500']);
      (join[key] ??= []).push(res);
    }
  }
  const joinRows = Object.fromEntries(Object.entries(join).map(([k, v]) => [k, {
    first_history_ms: median(v.map((x) => x.first_history_ms)),
    all_history_ms: median(v.map((x) => x.all_history_ms)),
    bytes: median(v.map((x) => x.bytes)),
  }]));

  // 4. Widget size and mount-to-history time.
  step('Widget: sizes and time from mount to the first history rendered');
  const size = (files) => {
    const bufs = files.map((f) => fs.readFileSync(path.join(DIST, f)));
    return { raw: bufs.reduce((a, b) => a + b.length, 0), gzip: bufs.reduce((a, b) => a + zlib.gzipSync(b, { level: 9 }).length, 0) };
  };
  const widget = {
    embed: size(['public/hello-chat.js']),
    npm_wasm: size(['npm/hello_chat_bg.wasm']),
    npm_js: size(['npm/hello_chat.js', 'npm/index.js', 'npm/api.js']),
  };
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'] });
  const mountTimes = [];
  try {
    for (let i = 0; i < (quick ? 2 : 5); i++) {
      const page = await browser.newPage();
      await page.goto(`${ours.url}/health`);
      await page.setContent('<div id="chat"></div><script src="/hello-chat.js"></script>');
      await page.waitForFunction(() => window.HelloChat);
      const ms = await page.evaluate((room) => new Promise((resolve) => {
        const t0 = performance.now();
        const chat = HelloChat.mount(document.getElementById('chat'), { room, site: 'bench', name: 'Bench' });
        let n = 0;
        chat.on('message', () => { if (++n === 50) resolve(performance.now() - t0); });
      }), joinRooms['ours-50']);
      mountTimes.push(ms);
      await page.close();
    }
  } finally {
    await browser.close();
  }
  widget.mount_to_history_ms = median(mountTimes);

  // 5. Page load: bytes, requests and main-thread time the inline widget and
  // the launcher cost a host page, cold (bench/page-load.mjs).
  const pageLoadRuns = quick ? 2 : 5;
  step(`Page load: inline widget and launcher, cold (${pageLoadRuns} loads per mode)`);
  const pageLoad = await measurePageLoad({ server: ours.url, runs: pageLoadRuns, site: 'bench' });
  delete pageLoad.samples; // medians only, as for the other figures

  const memory = Object.fromEntries(Object.entries({ ours, baseline: base }).map(([k, s]) => [k, workerdMemory(s).hwm / 1024]));
  const result = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}`,
    runs: RUNS,
    fanout, join: joinRows, widget, page_load: pageLoad, workerd_peak_rss_mib: memory,
  };
  fs.mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'bench/results/latest.json'), JSON.stringify(result, null, 2) + '\n');
  const md = renderMarkdown(result);
  fs.writeFileSync(path.join(ROOT, 'bench/results/latest.md'), md);
  console.log(`\n${md}`);
} finally {
  for (const s of servers) await s.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}

function renderMarkdown(r) {
  const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
  const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
  const ratio = (a, b) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}x` : '–');
  const lines = [
    `Measured ${r.date} on ${r.machine}; median of ${r.runs} run(s) per figure, systems alternated.`,
    '',
    '### Fan-out (one room)',
    '',
    '| Load | System | p50 ms | p95 ms | p99 ms | deliveries/s | msgs/s | delivered | join p50 ms | all joined ms | peak RSS MiB |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of r.fanout) {
    for (const name of ['ours', 'baseline', 'echo']) {
      const x = row[name];
      lines.push(`| ${row.label} | ${name} | ${f1(x.p50_ms)} | ${f1(x.p95_ms)} | ${f1(x.p99_ms)} | ${f0(x.deliveries_per_s)} | ${f0(x.messages_per_s)} | ${x.delivered_pct.toFixed(1)}% | ${f1(x.join_p50_ms)} | ${f0(x.connect_all_ms)} | ${f0(x.rss_mib)} |`);
    }
  }
  lines.push('', '### Ratios (ours ÷ other; throughput > 1 and latency < 1 favour ours)', '',
    '| Load | throughput vs baseline | p99 vs baseline | throughput vs echo | p99 vs echo | all joined vs baseline | all joined vs echo |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const row of r.fanout) {
    lines.push(`| ${row.label} | ${ratio(row.ours.deliveries_per_s, row.baseline.deliveries_per_s)} | ${ratio(row.ours.p99_ms, row.baseline.p99_ms)} | ${ratio(row.ours.deliveries_per_s, row.echo.deliveries_per_s)} | ${ratio(row.ours.p99_ms, row.echo.p99_ms)} | ${ratio(row.ours.connect_all_ms, row.baseline.connect_all_ms)} | ${ratio(row.ours.connect_all_ms, row.echo.connect_all_ms)} |`);
  }
  lines.push('', '### Join cost', '', '| Room | open → first history ms | open → last history byte ms | bytes sent on join |', '| --- | ---: | ---: | ---: |');
  for (const [k, v] of Object.entries(r.join)) lines.push(`| ${k.replace('-', ', ')} messages | ${f1(v.first_history_ms)} | ${f1(v.all_history_ms)} | ${f0(v.bytes)} |`);
  const w = r.widget;
  lines.push('', '### Widget', '', '| Artifact | raw bytes | gzip bytes |', '| --- | ---: | ---: |',
    `| hello-chat.js (single-file embed) | ${f0(w.embed.raw)} | ${f0(w.embed.gzip)} |`,
    `| npm: hello_chat_bg.wasm | ${f0(w.npm_wasm.raw)} | ${f0(w.npm_wasm.gzip)} |`,
    `| npm: JavaScript (glue + API) | ${f0(w.npm_js.raw)} | ${f0(w.npm_js.gzip)} |`,
    '', `Mount → 50 history messages rendered (headless Chromium, local server): ${f1(w.mount_to_history_ms)} ms.`,
    '', `Peak workerd RSS over the whole run: ours ${f0(r.workerd_peak_rss_mib.ours)} MiB, baseline+echo ${f0(r.workerd_peak_rss_mib.baseline)} MiB.`, '');
  if (r.page_load) lines.push('### Page load', '', ...pageLoadMarkdown(r.page_load));
  return lines.join('\n');
}
