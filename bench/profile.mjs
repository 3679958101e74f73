// `node bench/profile.mjs [ours|baseline]`: a CPU profile of one room under
// fan-out load (N=100, S=10, as fast as sustained), taken through workerd's
// V8 inspector, summarised as self time per function. Used to find where the
// time goes (docs/benchmarks.md).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { startServer, freePort } from '../scripts/lib/server.mjs';

const which = process.argv[2] || 'ours';
const state = fs.mkdtempSync(path.join(os.tmpdir(), 'hello-chat-profile-'));
const server = await startServer({
  persistTo: state,
  configPath: which === 'ours' ? 'wrangler.toml' : 'bench/baseline/wrangler.toml',
  inspectorPort: await freePort(),
});
try {
  if (which === 'ours') {
    await fetch(`${server.url}/admin/sites/bench`, { method: 'PUT', headers: { authorization: 'Bearer dev-admin-token' },
      body: JSON.stringify({ origins: [], allowNoOrigin: true, limits: { rateBurst: 1000, ratePerSec: 1000, maxConnections: 5000,
        // Every load-generator client shares the address 127.0.0.1.
        addressBurst: 10000, addressPerSec: 1000, maxConnectionsPerAddress: 5000 } }) });
  }
  const targets = await (await fetch(`http://127.0.0.1:${server.inspectorPort}/json`)).json();
  const target = targets.find((t) => t.webSocketDebuggerUrl) ?? targets[0];
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((r) => ws.on('open', r));
  let id = 0;
  const pending = new Map();
  ws.on('message', (d) => { const m = JSON.parse(d); pending.get(m.id)?.(m.result); });
  const call = (method, params = {}) => new Promise((r) => { pending.set(++id, r); ws.send(JSON.stringify({ id, method, params })); });
  await call('Profiler.enable');
  await call('Profiler.setSamplingInterval', { interval: 200 });
  await call('Profiler.start');
  const url = which === 'ours' ? `${server.wsUrl}/ws?v=1&batch=1&site=bench` : `${server.wsUrl}/ws?b=1`;
  const { stdout } = await promisify(execFile)('target/release/loadgen', ['fanout', '--url', url, '--dialect', which === 'ours' ? 'v1' : 'legacy',
    '--room', 'profiled', '--clients', '100', '--senders', '10', '--messages', '2000']);
  const { profile } = await call('Profiler.stop');
  ws.close();
  const self = new Map();
  const dt = profile.timeDeltas.reduce((a, b) => a + b, 0) / profile.samples.length;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const s of profile.samples) {
    const n = byId.get(s);
    const name = n.callFrame.functionName || `(${n.callFrame.url.split('/').pop() || 'anonymous'})`;
    self.set(name, (self.get(name) ?? 0) + dt);
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(stdout.trim());
  console.log(`\n${which}: ${(total / 1000).toFixed(0)} ms sampled; top self time:`);
  for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${name.slice(0, 100)}`);
  }
} finally {
  await server.stop();
  fs.rmSync(state, { recursive: true, force: true });
}
