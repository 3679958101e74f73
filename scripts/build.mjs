// `npm run build`: install what is missing and build what changed.
import { ensureTools } from './lib/tools.mjs';
import { buildAll } from './lib/build.mjs';

await ensureTools();
await buildAll();
