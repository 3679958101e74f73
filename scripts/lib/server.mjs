// Starting and stopping `wrangler dev` (workerd) for tests and benchmarks.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { ROOT, NODE_BIN, toolEnv } from './run.mjs';

/** A TCP port nobody listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const live = new Set();
function stopAllSync() {
  for (const child of live) {
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
}
process.on('exit', stopAllSync);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { stopAllSync(); process.exit(130); });
}

/**
 * Start `wrangler dev` on a free port with its state in `persistTo`.
 * Resolves once /health answers. `stop()` ends wrangler and workerd (the whole
 * process group); `kill()` does so with SIGKILL, as a crash would.
 */
export async function startServer({ port, persistTo, vars = {}, quiet = true, configPath = 'wrangler.toml', inspectorPort } = {}) {
  // Every wrangler needs its own inspector port; two may start at once (bench).
  port ??= await freePort();
  inspectorPort ??= await freePort();
  const args = ['dev', '--config', configPath, '--port', String(port), '--ip', '127.0.0.1',
    '--inspector-port', String(inspectorPort), '--show-interactive-dev-session=false', '--log-level', quiet ? 'error' : 'info'];
  if (persistTo) args.push('--persist-to', persistTo);
  for (const [k, v] of Object.entries(vars)) args.push('--var', `${k}:${v}`);
  const child = spawn(path.join(NODE_BIN, 'wrangler'), args, {
    cwd: ROOT, env: toolEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let log = '';
  const keep = (d) => { log = (log + d).slice(-20000); if (!quiet) process.stderr.write(d); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => { live.delete(child); resolve({ code, signal }); }));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  let ready = false;
  while (Date.now() < deadline && live.has(child)) {
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) { ready = true; break; }
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  const signalAll = (sig) => { try { process.kill(-child.pid, sig); } catch { /* gone */ } };
  const stopWith = async (sig) => {
    if (live.has(child)) signalAll(sig);
    const timer = setTimeout(() => signalAll('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    // workerd may outlive wrangler briefly: make sure the group is gone.
    signalAll('SIGKILL');
  };
  if (!ready) {
    await stopWith('SIGKILL');
    throw new Error(`wrangler dev did not become ready on ${url}:\n${log}`);
  }
  return {
    url,
    port,
    pid: child.pid,
    inspectorPort,
    wsUrl: `ws://127.0.0.1:${port}`,
    log: () => log,
    stop: () => stopWith('SIGTERM'),
    kill: () => stopWith('SIGKILL'),
  };
}
