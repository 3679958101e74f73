// `npm run deploy`: build, then `wrangler deploy` to the Cloudflare account
// you logged into with `npx wrangler login`. Extra arguments go to wrangler
// (e.g. `npm run deploy -- --dry-run --outdir /tmp/bundle`).
import path from 'node:path';
import { ensureTools } from './lib/tools.mjs';
import { buildAll } from './lib/build.mjs';
import { NODE_BIN, run, step } from './lib/run.mjs';

await ensureTools();
await buildAll();
const extra = process.argv.slice(2);
step(`wrangler deploy ${extra.join(' ')}`.trim());
await run(path.join(NODE_BIN, 'wrangler'), ['deploy', ...extra]);
