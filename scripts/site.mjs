// `npm run site -- <command>`: manage sites through the admin API.
//
//   npm run site -- list
//   npm run site -- get <id>
//   npm run site -- put <id> [--origin URL]... [--secret S | --no-secret] [--require-identity]
//                      [--allow-no-origin] [--limit name=value]... [--moderation JSON]
//   npm run site -- delete <id>
//
// Server and token: HELLO_CHAT_URL (default http://localhost:8787) and
// ADMIN_TOKEN (default: the value in .dev.vars).
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib/run.mjs';

function devToken() {
  try {
    const vars = fs.readFileSync(path.join(ROOT, '.dev.vars'), 'utf8');
    return vars.match(/^ADMIN_TOKEN=(.*)$/m)?.[1]?.trim();
  } catch {
    return undefined;
  }
}

const server = (process.env.HELLO_CHAT_URL || 'http://localhost:8787').replace(/\/$/, '');
const token = process.env.ADMIN_TOKEN || devToken();
const [command, id, ...rest] = process.argv.slice(2);

function usage(message) {
  if (message) console.error(message);
  console.error('usage: npm run site -- list | get <id> | delete <id> | put <id> [--origin URL]... ' +
    '[--secret S | --no-secret] [--require-identity] [--allow-no-origin] [--limit name=value]... [--moderation JSON]');
  process.exit(2);
}

function putBody(args) {
  const body = { origins: [], limits: {} };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = () => args[++i] ?? usage(`${arg} needs a value`);
    if (arg === '--origin') body.origins.push(value());
    else if (arg === '--secret') body.secret = value();
    else if (arg === '--no-secret') body.secret = null;
    else if (arg === '--require-identity') body.allowAnonymous = false;
    else if (arg === '--allow-no-origin') body.allowNoOrigin = true;
    else if (arg === '--moderation') {
      try { body.moderation = JSON.parse(value()); } catch { usage('--moderation takes JSON, e.g. \'{"words":["spam"]}\''); }
    } else if (arg === '--limit') {
      const [k, v] = value().split('=');
      body.limits[k] = Number(v);
    } else usage(`unknown option ${arg}`);
  }
  return body;
}

async function call(method, urlPath, body) {
  if (!token) usage('set ADMIN_TOKEN (or create .dev.vars)');
  let res;
  try {
    res = await fetch(`${server}/admin${urlPath}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body && JSON.stringify(body),
    });
  } catch (err) {
    console.error(`cannot reach ${server}: ${err.cause?.message ?? err.message}`);
    process.exit(1);
  }
  const text = await res.text();
  try { console.log(JSON.stringify(JSON.parse(text), null, 2)); } catch { console.log(text); }
  process.exit(res.ok ? 0 : 1);
}

if (command === 'list') await call('GET', '/sites');
else if (!id) usage();
else if (command === 'get') await call('GET', `/sites/${id}`);
else if (command === 'delete') await call('DELETE', `/sites/${id}`);
else if (command === 'put') await call('PUT', `/sites/${id}`, putBody(rest));
else usage(`unknown command ${command}`);
