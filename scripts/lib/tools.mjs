// Installing the pinned Rust tools once per machine (into ~/.cargo/bin, never
// into the clone, so a fresh clone reuses them), and the npm packages.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { ROOT, CARGO_BIN, run, capture, step } from './run.mjs';

// Versions are pinned to match Cargo.lock (wasm-bindgen) and the worker crate.
export const TOOLS = [
  { bin: 'wasm-bindgen', crate: 'wasm-bindgen-cli', version: '0.2.130', locked: false, minutes: 4 },
  { bin: 'wasm-pack', crate: 'wasm-pack', version: '0.15.1', locked: true, minutes: 4 },
  { bin: 'worker-build', crate: 'worker-build', version: '0.8.7', locked: true, minutes: 6 },
];

async function installedVersion(bin) {
  const out = await capture(bin, ['--version']);
  return out?.match(/(\d+\.\d+\.\d+)/)?.[1] ?? null;
}

async function ensureWasmTarget() {
  const targets = (await capture('rustup', ['target', 'list', '--installed'])) ?? '';
  if (targets.split('\n').includes('wasm32-unknown-unknown')) return;
  step('Adding the wasm32-unknown-unknown Rust target (once per machine)');
  await run('rustup', ['target', 'add', 'wasm32-unknown-unknown']);
}

export async function ensureRustTools() {
  await ensureWasmTarget();
  const missing = [];
  for (const tool of TOOLS) {
    const have = await installedVersion(tool.bin);
    if (have !== tool.version) missing.push({ ...tool, have });
  }
  if (missing.length === 0) return;
  const total = missing.reduce((sum, t) => sum + t.minutes, 0);
  step(`First-time set-up: compiling ${missing.map((t) => `${t.crate} ${t.version}`).join(', ')} ` +
    `from crates.io into ${CARGO_BIN}. This takes about ${total} minutes on 2 cores and happens once per machine.`);
  // One shared target directory lets the tools reuse each other's compiled dependencies.
  const targetDir = path.join(os.homedir(), '.cache', 'hello-chat', 'cargo-install');
  let n = 0;
  for (const tool of missing) {
    n += 1;
    const started = Date.now();
    step(`[${n}/${missing.length}] cargo install ${tool.crate} ${tool.version}` +
      (tool.have ? ` (found ${tool.have}, need ${tool.version})` : '') + ` — about ${tool.minutes} min`);
    const args = ['install', tool.crate, '--version', tool.version, '--force'];
    if (tool.locked) args.push('--locked');
    await run('cargo', args, { env: { CARGO_TARGET_DIR: targetDir } });
    step(`[${n}/${missing.length}] ${tool.crate} installed in ${Math.round((Date.now() - started) / 60000)} min`);
  }
}

function lockHash() {
  return createHash('sha256').update(fs.readFileSync(path.join(ROOT, 'package-lock.json'))).digest('hex');
}

/** `npm ci` when node_modules is missing or older than package-lock.json. */
export async function ensureNpmPackages() {
  const stamp = path.join(ROOT, 'node_modules', '.hello-chat-lock-hash');
  const want = lockHash();
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === want) return;
  step('Installing npm packages (npm ci)');
  await run('npm', ['ci', '--no-audit', '--no-fund']);
  fs.writeFileSync(stamp, want);
}

/**
 * Development settings for wrangler dev: `.dev.vars` from `.dev.vars.example`
 * when missing; settings added to the example later are appended to an
 * existing `.dev.vars` (values already there are kept).
 */
export function ensureDevVars() {
  const target = path.join(ROOT, '.dev.vars');
  const example = fs.readFileSync(path.join(ROOT, '.dev.vars.example'), 'utf8');
  if (!fs.existsSync(target)) {
    fs.writeFileSync(target, example);
    step('Created .dev.vars from .dev.vars.example (development ADMIN_TOKEN=dev-admin-token)');
    return;
  }
  const keyOf = (line) => line.match(/^([A-Z_][A-Z0-9_]*)=/)?.[1];
  const have = new Set(fs.readFileSync(target, 'utf8').split('\n').map(keyOf).filter(Boolean));
  const missing = example.split('\n').filter((line) => keyOf(line) && !have.has(keyOf(line)));
  if (missing.length) {
    fs.appendFileSync(target, `\n${missing.join('\n')}\n`);
    step(`Added ${missing.map(keyOf).join(', ')} to .dev.vars (from .dev.vars.example)`);
  }
}

export async function ensureTools() {
  ensureDevVars();
  await ensureNpmPackages();
  await ensureRustTools();
}
