// Building the widget, the worker and the static site, each only when its
// inputs changed since the last build (a hash of the inputs is kept next to
// the output).
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { ROOT, NODE_BIN, CARGO_BIN, run, step, toolEnv } from './run.mjs';
import { shortenNames } from './wasm-names.mjs';

export const DIST = path.join(ROOT, 'dist');
const SKIP_DIRS = new Set(['target', 'build', 'node_modules', 'dist', '.git', '.wrangler', 'pkg']);

function listFiles(entry, out = []) {
  const full = path.join(ROOT, entry);
  if (!fs.existsSync(full)) return out;
  if (fs.statSync(full).isFile()) {
    out.push(entry);
    return out;
  }
  for (const name of fs.readdirSync(full).sort()) {
    if (SKIP_DIRS.has(name)) continue;
    listFiles(path.join(entry, name), out);
  }
  return out;
}

function hashInputs(entries, extra = '') {
  const hash = createHash('sha256').update(extra).update('\0');
  for (const file of entries.flatMap((e) => listFiles(e))) {
    hash.update(file).update('\0').update(fs.readFileSync(path.join(ROOT, file))).update('\0');
  }
  return hash.digest('hex');
}

/** Run `build` unless the inputs hash matches the stamp and every output exists. */
async function cached(name, { inputs, outputs, extra }, build) {
  const stampFile = path.join(DIST, '.stamps', name);
  const hash = hashInputs(inputs, extra);
  const fresh = fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === hash &&
    outputs.every((o) => fs.existsSync(path.join(ROOT, o)));
  if (fresh) {
    step(`${name}: up to date`);
    return false;
  }
  const started = Date.now();
  await build();
  fs.mkdirSync(path.dirname(stampFile), { recursive: true });
  fs.writeFileSync(stampFile, hash);
  step(`${name}: built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return true;
}

const RUST_COMMON = ['Cargo.toml', 'Cargo.lock', 'protocol'];

/** Run a probe quietly; true when it exits 0 within `timeoutMs`. */
const succeeds = (cmd, args, timeoutMs = 30_000) =>
  spawnSync(cmd, args, { env: toolEnv(), stdio: 'ignore', timeout: timeoutMs }).status === 0;

/**
 * Whether the widget can be built smaller with nightly: std rebuilt for
 * wasm32 (`-Z build-std`) with `panic=immediate-abort`, which drops the
 * panic formatting machinery, and `-Z location-detail=none`, which drops the
 * source paths and lines kept for panic messages (an aborting panic never
 * prints them); and std's `optimize_for_size` feature, which picks its
 * smaller code paths (sorting, rotating, counting chars, number formatting:
 * the same results). Needs the machine's nightly toolchain and its rust-src
 * component (added here when missing, once). Any failure, or
 * HELLO_CHAT_STABLE_WIDGET=1, means the stable build.
 */
let nightlyWidget;
const NIGHTLY_RUSTFLAGS = '-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none';
const NIGHTLY_CARGO = ['-Z', 'build-std=std,panic_abort', '-Z', 'build-std-features=optimize_for_size'];
function canBuildWidgetWithNightly() {
  if (nightlyWidget !== undefined) return nightlyWidget;
  nightlyWidget = false;
  if (process.env.HELLO_CHAT_STABLE_WIDGET === '1') return false;
  if (!succeeds('rustc', ['+nightly', '--version'])) return false;
  const src = spawnSync('rustc', ['+nightly', '--print', 'sysroot'], { env: toolEnv(), encoding: 'utf8', timeout: 30_000 });
  const library = path.join(src.stdout?.trim() ?? '', 'lib/rustlib/src/rust/library/std');
  if (src.status !== 0) return false;
  if (!fs.existsSync(library)) {
    step('Adding rust-src to the nightly toolchain (for a smaller widget; stable is used if this fails)');
    if (!succeeds('rustup', ['component', 'add', 'rust-src', '--toolchain', 'nightly'], 180_000) || !fs.existsSync(library)) return false;
  }
  nightlyWidget = true;
  return true;
}

const wasmPackArgs = (outDir, outName) => ['--log-level', 'warn', 'build', 'sdk', '--release', '--target', 'web', '--mode', 'no-install',
  '--no-pack', '--out-dir', outDir, '--out-name', outName];

/**
 * The two wasm builds of `sdk/`: the widget (feature `ui`, dist/pkg) and the
 * client without a DOM (feature `headless`, dist/pkg-headless), so neither
 * ships the other's code.
 */
const WASM_BUILDS = {
  widget: { dir: 'pkg', name: 'hello_chat', features: [] },
  headless: { dir: 'pkg-headless', name: 'hello_chat_headless', features: ['--no-default-features', '--features', 'headless'] },
};

/** The glue and wasm in dist/`dir`, with short names between them (wasm-names.mjs). */
function shortenWasmNames(dir, name) {
  const wasmPath = path.join(DIST, dir, `${name}_bg.wasm`);
  const gluePath = path.join(DIST, dir, `${name}.js`);
  const short = shortenNames(fs.readFileSync(wasmPath), fs.readFileSync(gluePath, 'utf8'), `./${name}_bg.js`);
  fs.writeFileSync(wasmPath, short.wasm);
  fs.writeFileSync(gluePath, short.glue);
}

/** One wasm build: wasm-pack (target web); nightly when it can, else stable. */
function buildWasm(kind) {
  const { dir, name, features } = WASM_BUILDS[kind];
  const nightly = canBuildWidgetWithNightly();
  const label = kind === 'widget' ? 'the widget' : 'the headless client';
  return cached(kind === 'widget' ? 'sdk-wasm' : 'sdk-headless-wasm', { inputs: [...RUST_COMMON, 'sdk/Cargo.toml', 'sdk/build.rs', 'sdk/src', 'scripts/lib/wasm-names.mjs'],
    outputs: [`dist/${dir}/${name}_bg.wasm`, `dist/${dir}/toolchain.txt`], extra: nightly ? `nightly ${NIGHTLY_RUSTFLAGS} ${NIGHTLY_CARGO.join(' ')}` : 'stable' }, async () => {
    let toolchain = 'stable';
    if (nightly) {
      step(`Building ${label} (wasm-pack, release, nightly with build-std)`);
      try {
        await run('wasm-pack', [...wasmPackArgs(`../dist/${dir}`, name), '--', ...NIGHTLY_CARGO, ...features], {
          env: {
            RUSTUP_TOOLCHAIN: 'nightly',
            CARGO_TARGET_DIR: path.join(ROOT, 'target', 'nightly-widget'),
            RUSTFLAGS: NIGHTLY_RUSTFLAGS,
          },
        });
        toolchain = 'nightly';
      } catch (err) {
        step(`Nightly build failed (${err.message.split('\n')[0]}); building with stable instead`);
      }
    }
    if (toolchain === 'stable') {
      step(`Building ${label} (wasm-pack, release)`);
      await run('wasm-pack', [...wasmPackArgs(`../dist/${dir}`, name), ...(features.length ? ['--', ...features] : [])]);
    }
    shortenWasmNames(dir, name);
    fs.writeFileSync(path.join(DIST, dir, 'toolchain.txt'), `${toolchain}\n`);
  });
}

export async function buildSdkWasm() {
  await buildWasm('widget');
  await buildWasm('headless');
}

/**
 * `export default "<base64 of the gzipped wasm>"`, for a single-file script.
 * Gzipped by Zopfli, not zlib: the same format (the browser's
 * DecompressionStream inflates it as fast), found by a much longer search:
 * the widget's wasm is 76.7 KB instead of 80.8 KB gzipped, for about 3 s of
 * build time. (Imported here, not at the top: this module is loaded before
 * `npm ci` has run on a fresh clone.)
 */
async function inlineWasm(dir, name) {
  const { gzipAsync } = await import('@gfx/zopfli');
  const wasm = fs.readFileSync(path.join(DIST, dir, `${name}_bg.wasm`));
  const gz = Buffer.from(await gzipAsync(wasm, { numiterations: 15 }));
  fs.writeFileSync(path.join(DIST, dir, 'wasm-inline.js'), `export default ${JSON.stringify(gz.toString('base64'))};\n`);
}

/** The npm package (dist/npm) and the single-file embed (dist/public/hello-chat.js). */
export function buildSdkPackages() {
  return cached('sdk-packages', { inputs: ['sdk/js', 'sdk/locales', 'dist/pkg/hello_chat_bg.wasm', 'dist/pkg/hello_chat.js',
    'dist/pkg-headless/hello_chat_headless_bg.wasm', 'dist/pkg-headless/hello_chat_headless.js', 'scripts/lib/build.mjs'],
  outputs: ['dist/npm/package.json', 'dist/public/hello-chat.js', 'dist/public/hello-chat-launcher.js', 'dist/public/hello-chat-headless.js'] }, async () => {
    const npm = path.join(DIST, 'npm');
    fs.rmSync(npm, { recursive: true, force: true });
    fs.mkdirSync(npm, { recursive: true });
    for (const f of ['hello_chat.js', 'hello_chat_bg.wasm']) fs.copyFileSync(path.join(DIST, 'pkg', f), path.join(npm, f));
    for (const f of ['hello_chat_headless.js', 'hello_chat_headless_bg.wasm']) fs.copyFileSync(path.join(DIST, 'pkg-headless', f), path.join(npm, f));
    for (const f of fs.readdirSync(path.join(ROOT, 'sdk/js/npm'))) fs.copyFileSync(path.join(ROOT, 'sdk/js/npm', f), path.join(npm, f));
    for (const f of ['api.js', 'connect.js']) fs.copyFileSync(path.join(ROOT, 'sdk/js', f), path.join(npm, f));
    fs.mkdirSync(path.join(DIST, 'public'), { recursive: true });
    // The UI strings of each language, fetched by the widget for its locale only.
    const locales = path.join(DIST, 'public', 'locales');
    fs.rmSync(locales, { recursive: true, force: true });
    fs.cpSync(path.join(ROOT, 'sdk', 'locales'), locales, { recursive: true });
    // The embed carries the wasm gzipped then base64-encoded (the browser
    // inflates it with DecompressionStream): base64 of raw wasm compresses
    // badly, so this keeps the transfer size close to that of the gzipped wasm.
    await inlineWasm('pkg', 'hello_chat');
    await inlineWasm('pkg-headless', 'hello_chat_headless');
    step('Bundling the single-file embed (esbuild: glue + gzipped wasm inlined)');
    await run(path.join(NODE_BIN, 'esbuild'), ['sdk/js/embed.js', '--bundle', '--format=iife', '--minify',
      '--target=es2020', '--log-level=warning', '--legal-comments=none',
      `--outfile=${path.join(DIST, 'public', 'hello-chat.js')}`]);
    step('Bundling the headless client (esbuild: glue + gzipped wasm inlined)');
    await run(path.join(NODE_BIN, 'esbuild'), ['sdk/js/headless-entry.js', '--bundle', '--format=iife', '--minify',
      '--target=es2020', '--log-level=warning', '--legal-comments=none',
      `--outfile=${path.join(DIST, 'public', 'hello-chat-headless.js')}`]);
    step('Bundling the launcher loader (esbuild)');
    await run(path.join(NODE_BIN, 'esbuild'), ['sdk/js/launcher-entry.js', '--bundle', '--format=iife', '--minify',
      '--target=es2020', '--log-level=warning', '--legal-comments=none',
      `--outfile=${path.join(DIST, 'public', 'hello-chat-launcher.js')}`]);
  });
}

/** The worker: worker-build (release) into dist/worker. */
export function buildWorker() {
  const esbuild = path.join(ROOT, 'node_modules', '@esbuild', 'linux-x64', 'bin', 'esbuild');
  return cached('worker', { inputs: [...RUST_COMMON, 'worker/Cargo.toml', 'worker/src'], outputs: ['dist/worker/index.js'] }, () => {
    step('Building the worker (worker-build, release)');
    return run('worker-build', ['--release', '--out-dir', '../dist/worker'], {
      cwd: path.join(ROOT, 'worker'),
      env: {
        WASM_BINDGEN_BIN: path.join(CARGO_BIN, 'wasm-bindgen'),
        WASM_OPT_BIN: path.join(NODE_BIN, 'wasm-opt'),
        ESBUILD_BIN: esbuild,
      },
    });
  });
}

/** The static site: demo pages next to the embed; their scripts bundled by esbuild. */
export function buildSite() {
  const inputs = ['demo', 'package-lock.json'];
  return cached('site', { inputs, outputs: ['dist/public/index.html', 'dist/public/landing.js'] }, async () => {
    const out = path.join(DIST, 'public');
    fs.mkdirSync(out, { recursive: true });
    for (const name of fs.readdirSync(path.join(ROOT, 'demo'))) {
      const src = path.join(ROOT, 'demo', name);
      if (fs.statSync(src).isFile()) fs.copyFileSync(src, path.join(out, name));
    }
    const scripts = fs.readdirSync(path.join(ROOT, 'demo/src')).filter((f) => f.endsWith('.js')).map((f) => `demo/src/${f}`);
    await run(path.join(NODE_BIN, 'esbuild'), [...scripts, '--bundle', '--format=iife', '--minify', '--target=es2020',
      '--log-level=warning', `--outdir=${out}`]);
  });
}

/**
 * The npm demo: a Vite app importing the package as a dependency would
 * (node_modules/hello-chat links to dist/npm), built into dist/public/npm.
 */
export function buildNpmDemo() {
  const link = path.join(ROOT, 'node_modules', 'hello-chat');
  if (!fs.existsSync(link)) fs.symlinkSync(path.join(DIST, 'npm'), link, 'dir');
  return cached('npm-demo', { inputs: ['demo/npm-app', 'dist/npm/hello_chat_bg.wasm', 'dist/npm/hello_chat_headless_bg.wasm', 'dist/npm/index.js', 'dist/npm/api.js', 'dist/npm/connect.js'],
    outputs: ['dist/public/npm/index.html', 'dist/public/npm/react.html'] }, () => {
    step('Building the npm demo with Vite');
    return run(path.join(NODE_BIN, 'vite'), ['build', '--config', 'demo/npm-app/vite.config.js']);
  });
}

export async function buildAll() {
  await buildSdkWasm();
  await buildSdkPackages();
  await buildWorker();
  await buildSite();
  await buildNpmDemo();
}
