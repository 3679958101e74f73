// `node bench/latency.mjs [runs]`: one fan-out case (default N=100, S=10,
// 200 msg/s, 1000 messages; N, S, RATE (0: as fast as sustained) and M in the
// environment) for Hello Chat and the JavaScript baseline (and, with
// ECHO=1, the relay that stores nothing), alternating; prints each run's
// figures, including the time until all N clients had joined (a join storm:
// `N=1000 S=1 RATE=10 M=20 ECHO=1 node bench/latency.mjs 3`). For investigating one case without the whole
// `npm run bench`. Builds nothing: run `npm run build` (and the loadgen) first.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startServer } from '../scripts/lib/server.mjs';
import { ROOT } from '../scripts/lib/run.mjs';

const runs = Number(process.argv[2] || 3);
const clients = Number(process.env.N || 100);
const rate = Number(process.env.RATE || 200);
const messages = Number(process.env.M || 1000);
const LOADGEN = path.join(ROOT, 'target/release/loadgen');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hello-chat-latency-'));
const ours = await startServer({ persistTo: path.join(tmp, 'ours') });
const base = await startServer({ persistTo: path.join(tmp, 'baseline'), configPath: 'bench/baseline/wrangler.toml' });
try {
  const site = await fetch(`${ours.url}/admin/sites/bench`, {
    method: 'PUT',
    headers: { authorization: 'Bearer dev-admin-token', 'content-type': 'application/json' },
    body: JSON.stringify({ origins: [], allowNoOrigin: true, limits: { rateBurst: 1000, ratePerSec: 1000, maxConnections: 5000,
      retention: 1000000, addressBurst: 10000, addressPerSec: 1000, maxConnectionsPerAddress: 5000 } }),
  });
  if (!site.ok) throw new Error(`bench site: ${site.status}`);
  const systems = { ours: [`${ours.wsUrl}/ws?v=1&batch=1&site=bench`, 'v1'], baseline: [`${base.wsUrl}/ws?b=1`, 'legacy'] };
  if (process.env.ECHO) systems.echo = [`${base.wsUrl}/echo?b=1`, 'legacy'];
  for (let r = 0; r < runs; r++) {
    for (const [name, [url, dialect]] of Object.entries(systems)) {
      const { stdout } = await promisify(execFile)(LOADGEN, ['fanout', '--url', url, '--dialect', dialect, '--room', `lat-${Date.now()}-${r}`,
        '--clients', clients, '--senders', Number(process.env.S || 10), '--messages', messages, '--rate', rate, '--window', 16].map(String), { maxBuffer: 1 << 20 });
      const x = JSON.parse(stdout.trim().split('\n').pop());
      console.log(`${name.padEnd(8)} run ${r}: p50 ${x.p50_ms.toFixed(1)} p95 ${x.p95_ms.toFixed(1)} p99 ${x.p99_ms.toFixed(1)} max ${x.max_ms?.toFixed?.(1) ?? '-'} msgs/s ${x.messages_per_s.toFixed(0)} delivered ${x.delivered_pct}% all joined ${x.connect_all_ms?.toFixed?.(0)} ms`);
    }
  }
} finally {
  for (const s of [ours, base]) await s.stop?.();
  fs.rmSync(tmp, { recursive: true, force: true });
}
