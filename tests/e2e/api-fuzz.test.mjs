// The site owners' API (/admin and /v1) fuzzed against its description,
// docs/openapi.yaml, with schemathesis: no answer is a server error (5xx) and
// every answer matches the schema of its status. Schemathesis comes from PyPI
// into a virtualenv under ~/.cache/hello-chat (once per machine).
//
// What the fuzzer may touch, so the run cannot destroy its own ground or
// reach past this machine:
//  - every operation is pinned to a site this test creates (`path.site`);
//  - deleting a site and revoking a key run only against a second, throwaway
//    site, last;
//  - webhooks are fuzzed in a run of their own, before any event, with `url`
//    (and `secret`) pinned to a receiver on 127.0.0.1; any other webhook found
//    afterwards is deleted, and fails the test, before a message is posted;
//  - requests go to BASE only, and BASE must be a loopback address.
// Rooms and seqs are mostly drawn from a few values, so messages land in a
// few rooms and deletions find them (and a user export does not visit
// hundreds of rooms).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_TOKEN, BASE, admin, createSite, siteApi } from './helpers.mjs';

const ST_VERSION = '4.32.5';
const VENV = path.join(os.homedir(), '.cache', 'hello-chat', 'schemathesis-venv');
const ST = path.join(VENV, 'bin', 'st');
const SPEC = fileURLToPath(new URL('../../docs/openapi.yaml', import.meta.url));
const MAX_EXAMPLES = process.env.HELLO_CHAT_FUZZ_EXAMPLES || '20';
// Fixed by default so a failure reproduces; set HELLO_CHAT_FUZZ_SEED to explore.
const SEED = process.env.HELLO_CHAT_FUZZ_SEED || '1764330000';
const WEBHOOK_SECRET = 'fuzz-webhook-secret-0123456789abcdef';

/** Run a program; resolve with its exit code and output (never rejects on a non-zero exit). */
function run(cmd, args, { env = {}, cwd, timeoutMs, signal } = {}) {
  return new Promise((resolve, reject) => {
    const signals = [AbortSignal.timeout(timeoutMs)];
    if (signal) signals.push(signal);
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: AbortSignal.any(signals),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (err) => {
      if (err.name === 'AbortError') reject(new Error(`${path.basename(cmd)} ${args.join(' ')}: stopped after ${timeoutMs} ms or on cancel\n${stdout}\n${stderr}`));
      else reject(err);
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const tail = (text, n = 12000) => (text.length > n ? `…${text.slice(-n)}` : text);

async function installedVersion() {
  if (!fs.existsSync(ST)) return null;
  const r = await run(ST, ['--version'], { timeoutMs: 60_000 });
  return r.stdout.match(/version\s+(\S+)/)?.[1] ?? null;
}

/** Install the pinned schemathesis into the cached virtualenv unless it is there already. */
async function ensureSchemathesis(t) {
  if ((await installedVersion()) === ST_VERSION) return;
  t.diagnostic(`installing schemathesis ${ST_VERSION} into ${VENV} (once per machine)`);
  fs.mkdirSync(path.dirname(VENV), { recursive: true });
  if (!fs.existsSync(path.join(VENV, 'bin', 'python'))) {
    const venv = await run('python3', ['-m', 'venv', VENV], { timeoutMs: 120_000 });
    assert.equal(venv.code, 0, `python3 -m venv failed (Debian: apt-get install -y python3-venv):\n${venv.stderr}`);
  }
  const pip = await run(path.join(VENV, 'bin', 'python'), ['-m', 'pip', 'install', '--disable-pip-version-check',
    '--quiet', `schemathesis==${ST_VERSION}`], { timeoutMs: 480_000 });
  assert.equal(pip.code, 0, `pip install schemathesis==${ST_VERSION} failed:\n${tail(pip.stdout)}\n${tail(pip.stderr)}`);
  assert.equal(await installedVersion(), ST_VERSION, 'st --version after the install');
}

/** A TOML value: strings and numbers as JSON (its escapes are TOML's), arrays, inline tables. */
function toml(v) {
  if (Array.isArray(v)) return `[${v.map(toml).join(', ')}]`;
  if (v && typeof v === 'object') return `{ ${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)} = ${toml(x)}`).join(', ')} }`;
  return JSON.stringify(v);
}

/**
 * A schemathesis.toml: the two bearer schemes from the environment (so no
 * credential is written to disk), parameters pinned globally, and per
 * operation (`operations` maps an operationId to its pinned parameters).
 */
function writeConfig(dir, name, { parameters = {}, operations = {}, dictionaries = {} }) {
  const lines = [
    '[auth.openapi.admin]',
    'bearer = "${HELLO_CHAT_FUZZ_ADMIN_TOKEN}"',
    '[auth.openapi.siteKey]',
    'bearer = "${HELLO_CHAT_FUZZ_SITE_KEY}"',
    // Stateful sequences are left out: the run would follow links into the
    // operations this file keeps away from the test's site.
    '[phases.stateful]',
    'enabled = false',
    '[parameters]',
    ...Object.entries(parameters).map(([k, v]) => `${toml(k)} = ${toml(v)}`),
  ];
  for (const [dict, values] of Object.entries(dictionaries)) lines.push(`[dictionaries.${dict}]`, `values = ${toml(values)}`);
  for (const [operationId, params] of Object.entries(operations)) {
    // The coverage phase does not apply body overrides (schemathesis 4.32):
    // it would send its own URLs, so pinned operations skip it.
    lines.push('[[operations]]', `include-operation-id = ${toml(operationId)}`, '[operations.phases.coverage]',
      'enabled = false', '[operations.parameters]', ...Object.entries(params).map(([k, v]) => `${toml(k)} = ${toml(v)}`));
  }
  const file = path.join(dir, `${name}.toml`);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** The command line of one schemathesis run over the operations `select` picks. */
function stArgs(config, select) {
  return [
    '--config-file', config, '--no-color',
    'run', SPEC,
    '--url', BASE,
    '--checks', 'not_a_server_error,response_schema_conformance',
    '--max-examples', MAX_EXAMPLES,
    '--seed', SEED,
    '--workers', '2',
    '--request-timeout', '15',
    '--generation-database', 'none',
    '--suppress-health-check', 'all',
    ...select,
  ];
}

/** Run schemathesis; fail with its report when it found anything. */
async function fuzz(t, label, args, env, dir) {
  t.diagnostic(`${label}: st ${args.join(' ')}`);
  const started = Date.now();
  const r = await run(ST, args, { env, cwd: dir, timeoutMs: 240_000, signal: t.signal });
  t.diagnostic(`${label}: exit ${r.code} after ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
    `${r.stdout.trim().split('\n').filter((l) => /passed|failed|error|skipped/i.test(l)).slice(-3).join(' | ')}`);
  assert.equal(r.code, 0, `schemathesis (${label}) reported failures:\n${tail(r.stdout)}\n${tail(r.stderr, 4000)}`);
  assert.match(r.stdout, /\d+ passed/, `schemathesis (${label}) ran no operation:\n${tail(r.stdout)}`);
}

/** A webhook receiver on 127.0.0.1 that records deliveries and checks their signatures and headers. */
async function receiver() {
  const deliveries = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const sig = String(req.headers['hello-chat-signature'] ?? '');
      const [, ts, v1] = sig.match(/^t=(\d+),v1=([0-9a-f]{64})$/) ?? [];
      const expected = ts ? createHmac('sha256', WEBHOOK_SECRET).update(`${ts}.${body}`).digest() : null;
      let valid = Boolean(expected && timingSafeEqual(expected, Buffer.from(v1, 'hex')));
      try {
        const event = JSON.parse(body);
        valid &&= event.type === req.headers['hello-chat-event'] && event.id === req.headers['hello-chat-delivery'] &&
          event.id.startsWith(`${event.room}:`) && event.id.endsWith(`:${event.seq}`) && typeof event.data === 'object';
      } catch {
        valid = false;
      }
      deliveries.push({ headers: req.headers, body, valid });
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/hook`, deliveries, close: () => server.close() };
}

test("the site owners' API survives fuzzing and answers as docs/openapi.yaml says", { timeout: 600_000 }, async (t) => {
  const host = new URL(BASE).hostname;
  assert.ok(/^127\.\d+\.\d+\.\d+$/.test(host) || host === 'localhost' || host === '[::1]',
    `refusing to fuzz ${BASE}: only a server on this machine may be fuzzed`);
  await ensureSchemathesis(t);

  const limits = { rateBurst: 1000, ratePerSec: 1000, addressBurst: 10000, addressPerSec: 1000 };
  const site = await createSite({ origins: ['https://fuzz.example'], limits }, 'fuzz');
  const throwaway = await createSite({ origins: ['https://fuzz.example'] }, 'fuzz-gone');
  const key = await admin('POST', `/sites/${site}/keys`);
  assert.equal(key.status, 201, key.text);
  const gone = await admin('POST', `/sites/${throwaway}/keys`);
  assert.equal(gone.status, 201, gone.text);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hello-chat-fuzz-'));
  const hooks = await receiver();
  const env = { HELLO_CHAT_FUZZ_ADMIN_TOKEN: ADMIN_TOKEN, HELLO_CHAT_FUZZ_SITE_KEY: key.body.key };
  const siteKey = key.body.key;
  try {
    // 1. Webhooks alone, their URL and secret pinned to the local receiver.
    const webhookConfig = writeConfig(dir, 'webhooks', {
      parameters: { 'path.site': site },
      operations: { putWebhook: { 'body.url': hooks.url, 'body.secret': WEBHOOK_SECRET } },
    });
    await fuzz(t, 'webhooks', stArgs(webhookConfig, ['--include-tag', 'webhooks']), env, dir);
    // Nothing but the receiver may stay subscribed before events start to flow.
    const listed = await siteApi(siteKey, 'GET', `/${site}/webhooks`);
    assert.equal(listed.status, 200, listed.text);
    const strays = listed.body.webhooks.filter((w) => w.url !== hooks.url);
    // Every webhook goes, so only the one below delivers (and a repeat is a bug).
    for (const w of listed.body.webhooks) await siteApi(siteKey, 'DELETE', `/${site}/webhooks/${w.name}`);
    assert.deepEqual(strays.map((w) => w.url), [], 'only the pinned receiver URL was subscribed');
    // One webhook for every event, so deliveries flow during the next run
    // (refused where the server does not allow loopback receivers).
    const hook = await siteApi(siteKey, 'PUT', `/${site}/webhooks/fuzz-receiver`,
      { url: hooks.url, events: ['message.created', 'message.updated', 'message.deleted', 'moderation'], secret: WEBHOOK_SECRET });
    if (hook.status >= 300) t.diagnostic(`no local webhook receiver (${hook.status} ${hook.text}): deliveries go unchecked`);

    // 2. Everything else on the test's site, but deleting a site, revoking a key and webhooks.
    const mainConfig = writeConfig(dir, 'main', {
      parameters: {
        'path.site': site,
        'path.room': { dictionary: 'rooms', probability: 0.8 },
        'path.seq': { dictionary: 'seqs', probability: 0.5 },
      },
      dictionaries: { rooms: ['fuzz-a', 'fuzz-b', 'fuzz_C-3'], seqs: [1, 2, 3, 4, 5, 6] },
    });
    await fuzz(t, 'site', stArgs(mainConfig, ['--exclude-tag', 'webhooks',
      '--exclude-operation-id', 'deleteSite', '--exclude-operation-id', 'revokeSiteKey']), env, dir);

    // 3. The webhooks once more, now that they have deliveries to show.
    const names = (await siteApi(siteKey, 'GET', `/${site}/webhooks`)).body?.webhooks?.map((w) => w.name) ?? [];
    if (names.length) {
      const readConfig = writeConfig(dir, 'webhooks-read', {
        parameters: { 'path.site': site, 'path.name': { dictionary: 'hooks', probability: 0.9 } },
        dictionaries: { hooks: names },
      });
      await fuzz(t, 'webhooks with deliveries', stArgs(readConfig, ['--include-operation-id', 'getWebhook',
        '--include-operation-id', 'listWebhooks']), env, dir);
    }

    // 4. The destructive operator calls, against the throwaway site and its key.
    const goneConfig = writeConfig(dir, 'throwaway', { parameters: { 'path.site': throwaway, 'path.id': gone.body.id } });
    await fuzz(t, 'throwaway', stArgs(goneConfig, ['--include-operation-id', 'deleteSite',
      '--include-operation-id', 'revokeSiteKey']), env, dir);

    // The test's own site and key came through.
    const own = await siteApi(siteKey, 'GET', `/${site}`);
    assert.equal(own.status, 200, own.text);
    assert.equal(own.body.id, site);
    const bad = hooks.deliveries.filter((d) => !d.valid);
    assert.deepEqual(bad.map((d) => d.body.slice(0, 300)), [], 'every webhook delivery is signed and labelled');
    // The receiver always answers 204: nothing needs sending twice.
    const ids = hooks.deliveries.filter((d) => d.valid).map((d) => JSON.parse(d.body).id);
    assert.equal(new Set(ids).size, ids.length, 'no delivery was sent twice to a receiver that took it');
    t.diagnostic(`${hooks.deliveries.length} webhook deliveries received, all signed, none twice`);
  } finally {
    hooks.close();
    await admin('DELETE', `/sites/${site}`).catch(() => {});
    await admin('DELETE', `/sites/${throwaway}`).catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
