// Running commands: visible output, a clear error when one fails.
import { spawn } from 'node:child_process';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CARGO_BIN = path.join(process.env.CARGO_HOME || path.join(os.homedir(), '.cargo'), 'bin');
export const NODE_BIN = path.join(ROOT, 'node_modules', '.bin');

/** The environment every tool runs with: cargo's and npm's binaries first on PATH, no telemetry. */
export function toolEnv(extra = {}) {
  return {
    ...process.env,
    PATH: [CARGO_BIN, NODE_BIN, process.env.PATH].join(path.delimiter),
    WRANGLER_SEND_METRICS: 'false',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    ...extra,
  };
}

export function step(message) {
  console.log(`\x1b[1m▸ ${message}\x1b[0m`);
}

/** Run a command with inherited output; resolve on exit 0, reject otherwise. */
export function run(cmd, args, { cwd = ROOT, env = {}, quiet = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: toolEnv(env), stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    let output = '';
    if (quiet) {
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
    }
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve(output);
      else {
        if (quiet) process.stderr.write(output);
        reject(new Error(`${cmd} ${args.join(' ')} failed (${signal || `exit ${code}`})`));
      }
    });
  });
}

/** Run a command and return its stdout, or null if it cannot run or fails. */
export function capture(cmd, args, { cwd = ROOT } = {}) {
  return new Promise((resolve) => {
    let out = '';
    let child;
    try {
      child = spawn(cmd, args, { cwd, env: toolEnv(), stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return resolve(null);
    }
    child.stdout.on('data', (d) => (out += d));
    child.on('error', () => resolve(null));
    child.on('exit', (code) => resolve(code === 0 ? out.trim() : null));
  });
}
