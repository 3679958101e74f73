// `npm start`: install what is missing, build what changed, then serve the
// demo, the widget and the API on http://localhost:8787 under wrangler dev.
import path from 'node:path';
import { spawn } from 'node:child_process';
import { ensureTools } from './lib/tools.mjs';
import { buildAll } from './lib/build.mjs';
import { ROOT, NODE_BIN, toolEnv, step } from './lib/run.mjs';

await ensureTools();
await buildAll();
const port = process.env.PORT || '8787';
step(`Serving http://localhost:${port} (demo at /, widget at /hello-chat.js, WebSocket API at /ws). Ctrl+C to stop.`);
const child = spawn(path.join(NODE_BIN, 'wrangler'), ['dev', '--port', port, '--show-interactive-dev-session=false'],
  { cwd: ROOT, env: toolEnv(), stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
