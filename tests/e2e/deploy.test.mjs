// What can be proven about a deploy without reaching Cloudflare: the bundle
// wrangler would upload builds, fits the Workers size limit, and the config
// declares every Durable Object class with a SQLite migration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

// Workers limits (compressed): 3 MiB on the free plan, 10 MiB on paid plans.
const FREE_PLAN_LIMIT = 3 * 1024 * 1024;

test('wrangler deploy --dry-run builds a bundle under the Workers size limit', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'hello-chat-dry-'));
  try {
    execFileSync(path.resolve('node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', out], {
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
      stdio: 'pipe',
    });
    const files = fs.readdirSync(out).filter((f) => !f.endsWith('.map') && !f.endsWith('.md'));
    assert.ok(files.some((f) => f.endsWith('.wasm')) && files.includes('index.js'), files.join(', '));
    const gzipped = files.reduce((sum, f) => sum + zlib.gzipSync(fs.readFileSync(path.join(out, f))).length, 0);
    assert.ok(gzipped < FREE_PLAN_LIMIT, `bundle is ${gzipped} bytes gzipped`);
    console.log(`# worker bundle: ${(gzipped / 1024).toFixed(0)} KiB gzipped (limit ${FREE_PLAN_LIMIT / 1024} KiB)`);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('wrangler.toml binds every Durable Object class and gives each a SQLite migration', () => {
  const toml = fs.readFileSync('wrangler.toml', 'utf8');
  const bound = [...toml.matchAll(/class_name\s*=\s*"(\w+)"/g)].map((m) => m[1]);
  const sqlite = [...toml.matchAll(/new_sqlite_classes\s*=\s*\[([^\]]*)\]/g)].flatMap((m) => [...m[1].matchAll(/"(\w+)"/g)].map((x) => x[1]));
  const tags = [...toml.matchAll(/tag\s*=\s*"(\w+)"/g)].map((m) => m[1]);
  assert.equal(new Set(tags).size, tags.length, 'migration tags are unique');
  assert.ok(!/new_classes\s*=/.test(toml), 'no key-value (non-SQLite) Durable Object classes');
  // Every #[durable_object] struct in the worker is a class the runtime must know.
  const sources = fs.readdirSync('worker/src', { recursive: true }).filter((f) => f.endsWith('.rs'));
  const classes = sources.flatMap((f) =>
    [...fs.readFileSync(path.join('worker/src', f), 'utf8').matchAll(/#\[durable_object(?:\([\w, ]*\))?\]\s*pub struct (\w+)/g)].map((m) => m[1]));
  assert.deepEqual([...classes].sort(), ['Room', 'RoomDirectory', 'RoomFanout', 'SiteRegistry', 'WebhookQueue']);
  for (const c of classes) {
    assert.ok(bound.includes(c), `${c} has a binding`);
    assert.ok(sqlite.includes(c), `${c} has a new_sqlite_classes migration`);
  }
});
