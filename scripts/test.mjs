// `npm test`: the same set-up as `npm start`, then every test:
//   lint  cargo fmt --check and cargo clippy (warnings are errors) over the workspace
//   unit  cargo test for the native crates (protocol: frames, validation, session, room,
//         site configuration...; the load generator)
//   wasm  wasm-bindgen-test for the widget's adapters (and its allocator and
//         translations), in headless Chromium
//   e2e   node:test suites under tests/e2e against the real worker under
//         `wrangler dev`, driving real Chromium (playwright-core) and raw
//         WebSocket clients
// `npm test -- e2e` (or unit, wasm) runs one group; extra words filter e2e files.
// Every process started here is stopped at the end, also on failure.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureTools } from './lib/tools.mjs';
import { buildAll } from './lib/build.mjs';
import { startServer } from './lib/server.mjs';
import { ROOT, run, step } from './lib/run.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMEDRIVER = process.env.CHROMEDRIVER_PATH || '/usr/bin/chromedriver';
const GROUPS = ['lint', 'unit', 'wasm', 'e2e'];

const args = process.argv.slice(2);
const groups = args.filter((a) => GROUPS.includes(a));
const filters = args.filter((a) => !GROUPS.includes(a));
const wanted = (g) => groups.length === 0 || groups.includes(g);

const started = Date.now();
const results = [];
async function group(name, fn) {
  if (!wanted(name)) return;
  const t = Date.now();
  try {
    await fn();
    results.push([name, 'passed', Date.now() - t]);
  } catch (err) {
    results.push([name, 'FAILED', Date.now() - t]);
    console.error(`\n${name} failed: ${err.message}\n`);
  }
}

await ensureTools();
await buildAll();
for (const [bin, what] of [[CHROMIUM, 'Chromium'], [CHROMEDRIVER, 'ChromeDriver']]) {
  if ((wanted('wasm') || wanted('e2e')) && !fs.existsSync(bin)) {
    console.error(`${what} not found at ${bin}: run \`apt-get install -y chromium chromium-driver\` (see .ci/run).`);
    process.exit(1);
  }
}

await group('lint', async () => {
  step('Lint (cargo fmt --check, cargo clippy -D warnings)');
  await run('cargo', ['fmt', '--all', '--check']);
  // The native crates with their tests; the two wasm crates (and the widget's tests) for their
  // real target only: nothing of theirs is built natively (it would cost CI a minute or two).
  await run('cargo', ['clippy', '--workspace', '--exclude', 'hello-chat', '--exclude', 'hello-chat-worker',
    '--all-targets', '--all-features', '--', '-D', 'warnings']);
  await run('cargo', ['clippy', '--target', 'wasm32-unknown-unknown', '-p', 'hello-chat', '-p', 'hello-chat-worker',
    '--all-targets', '--', '-D', 'warnings']);
  // The widget's second build: the headless client alone.
  await run('cargo', ['clippy', '--target', 'wasm32-unknown-unknown', '-p', 'hello-chat', '--no-default-features', '--features', 'headless', '--', '-D', 'warnings']);
});

await group('unit', async () => {
  step('Unit tests (cargo test, native)');
  // (The Worker's pure parts live in protocol/ and are tested there; the widget's own
  // tests run in the browser, in the wasm group.)
  await run('cargo', ['test', '--workspace', '--exclude', 'hello-chat-worker', '--exclude', 'hello-chat', '--all-features']);
});

await group('wasm', async () => {
  step('Widget adapter tests (wasm-bindgen-test in headless Chromium)');
  await run('wasm-pack', ['--log-level', 'warn', 'test', '--headless', '--chrome', '--chromedriver', CHROMEDRIVER,
    '--mode', 'no-install', 'sdk'], { env: { CHROME_BIN: CHROMIUM } });
});

await group('e2e', async () => {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'hello-chat-e2e-'));
  step('Starting the worker under wrangler dev for the end-to-end tests');
  // A "day" of retention by age lasts 2 s here, so its test need not wait a day.
  const server = await startServer({ persistTo: state, vars: { RETENTION_DAY_MS: '2000', HOOKS_CHECK_MS: '1000', UPLOAD_TICKET_MS: '4000', UPLOAD_ABANDON_MS: '3000', REPORT_MS: '1500', HOOKS_MAX_PENDING: '50' } });
  try {
    let files = fs.readdirSync(path.join(ROOT, 'tests/e2e')).filter((f) => f.endsWith('.test.mjs')).sort();
    if (filters.length) files = files.filter((f) => filters.some((w) => f.includes(w)));
    step(`End-to-end tests against ${server.url}: ${files.join(', ')}`);
    // A hung test fails after its timeout instead of blocking the run.
    await run(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', '--test-timeout=180000',
      ...files.map((f) => path.join('tests/e2e', f))], {
      env: { HELLO_CHAT_URL: server.url, CHROMIUM_PATH: CHROMIUM, HELLO_CHAT_STATE: state },
    });
  } finally {
    await server.stop();
    fs.rmSync(state, { recursive: true, force: true });
  }
});

console.log('\nSummary');
for (const [name, verdict, ms] of results) console.log(`  ${name.padEnd(6)} ${verdict.padEnd(7)} ${(ms / 1000).toFixed(1)} s`);
console.log(`  total ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(results.every(([, v]) => v === 'passed') ? 0 : 1);
