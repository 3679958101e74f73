// `npm run site -- <command>`: manage sites from a terminal.
//
// Operator (ADMIN_TOKEN; default: the value in .dev.vars):
//   list | get <site> | delete <site>
//   put <site> [options]      create or change (fields not named stay as they are)
//   patch <site> [options]    change an existing site only
//   key create <site> | key list <site> | key revoke <site> <key-id>
//
// Site owner (HELLO_CHAT_SITE_KEY, a key from `key create`):
//   owner get <site> | owner patch <site> [options]
//   owner rotate-secret <site> [--grace SECONDS] [--secret]
//   owner rooms <site> [--limit N] [--cursor NEXT] | owner post <site> <room> --name NAME --message TEXT [--id ID]
//     (every value also as --option=VALUE: --message=TEXT for a text starting with --)
//   owner history <site> <room> [--before SEQ | --after SEQ] [--limit N]
//   owner delete <site> <room> <seq> | owner erase-room <site> <room> --yes
//   owner moderate <site> <room> --action ACTION [--sender KEY] [--target SEQ]
//     [--seconds N] [--reason TEXT]   (delete, mute, unmute, ban, unban, purge, slow, lock, unlock,
//     pin, unpin, dismiss)
//   owner webhook put <site> <name> --url URL --event EVENT... [--secret]
//   owner webhook list <site> | owner webhook delete <site> <name>
//   owner export <site> <sub> | owner erase <site> <sub>
//
// Site options: --origin URL... --require-identity --allow-anonymous
//   --allow-no-origin | --no-allow-no-origin --limit name=value... --moderation JSON --secret | --no-secret
//
// Secrets never come from the command line (it shows in `ps` and in shell
// history): `--secret` reads the identity secret from HELLO_CHAT_SITE_SECRET
// (webhooks: HELLO_CHAT_WEBHOOK_SECRET) or, when that is unset, from stdin.
// Server: HELLO_CHAT_URL (default http://localhost:8787).
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib/run.mjs';

const USAGE = `usage: npm run site -- <command>
  list | get <site> | delete <site> | put <site> [options] | patch <site> [options]
  key create <site> | key list <site> | key revoke <site> <key-id>
  owner get <site> | owner patch <site> [options] | owner rotate-secret <site> [--grace S] [--secret]
  owner rooms <site> [--limit N] [--cursor NEXT] | owner post <site> <room> --name NAME --message TEXT [--id ID]
  owner history <site> <room> [--before SEQ | --after SEQ] [--limit N]
  owner delete <site> <room> <seq> | owner erase-room <site> <room> --yes
  owner moderate <site> <room> --action ACTION [--sender KEY] [--target SEQ] [--seconds N] [--reason TEXT]
  owner webhook put <site> <name> --url URL --event EVENT... [--secret]
  owner webhook list <site> | owner webhook delete <site> <name>
  owner export <site> <sub> | owner erase <site> <sub>
options: --origin URL... --require-identity --allow-anonymous --allow-no-origin --no-allow-no-origin
  --limit name=value... (--limit fileTypes=image/png,image/jpeg: a list) --moderation JSON --secret | --no-secret
values: --option VALUE or --option=VALUE; a value that starts with -- needs the = form
  (--message=TEXT: owner post acme lobby --name Bot --message=--help posts "--help")
secrets: --secret reads HELLO_CHAT_SITE_SECRET (webhooks: HELLO_CHAT_WEBHOOK_SECRET), else stdin`;

function usage(message) {
  if (message) console.error(message);
  console.error(USAGE);
  process.exit(2);
}

/**
 * Refuse words past what `command` takes: `delete acme --dry-run` must not
 * delete acme (an option it does not know is a mistake, not noise).
 */
function nothingMore(extra, command) {
  const left = extra.filter((a) => a !== undefined);
  // Options by name; other words as "…" (one may be a secret typed in the wrong place).
  const said = left.map((a) => (a.startsWith('-') ? a.split('=')[0] : '…'));
  if (left.length) usage(`${command} takes nothing more: ${said.join(' ')}`);
}

function devToken() {
  try {
    const vars = fs.readFileSync(path.join(ROOT, '.dev.vars'), 'utf8');
    return vars.match(/^ADMIN_TOKEN=(.*)$/m)?.[1]?.trim();
  } catch {
    return undefined;
  }
}

/** A secret from `envName`, else the first line of stdin (a prompt when it is a terminal). */
function readSecret(envName) {
  const fromEnv = process.env[envName];
  if (fromEnv) return fromEnv;
  if (process.stdin.isTTY) process.stderr.write(`secret (or set ${envName}): `);
  let text = '';
  try {
    text = fs.readFileSync(0, 'utf8');
  } catch {
    usage(`no secret: set ${envName} or pipe it on stdin`);
  }
  const secret = text.split(/\r?\n/)[0].trim();
  if (!secret) usage(`no secret: set ${envName} or pipe it on stdin`);
  return secret;
}

/**
 * Parse `--flag value` and `--flag=value` options; `spec` maps each flag to
 * how it changes `body`. `--flag=value` takes everything after the first `=`
 * as it is, so a value may start with `--` (`--message=--help`); a separate
 * value may not (it is taken for a forgotten value). A flag that takes no
 * value refuses one (`--secret=...`: secrets never come from the command
 * line). A field set to a function (a secret to read) is read only once the
 * whole command line is known to be good.
 */
function parseOptions(args, spec, body = {}) {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    const handle = Object.hasOwn(spec, flag) ? spec[flag] : undefined;
    if (!handle && !flag.startsWith('--')) usage(`unexpected argument after ${args[i - 1] ?? 'the command'} (not shown: it may be a secret, and options take no secrets on the command line)`);
    if (!handle) usage(`unknown option ${flag}`);
    let taken = false;
    const value = () => {
      taken = true;
      if (inline !== undefined) return inline;
      const v = args[++i];
      if (v === undefined) usage(`${flag} needs a value`);
      if (v.startsWith('--')) usage(`${flag} needs a value (for one that starts with --, write ${flag}=${v})`);
      return v;
    };
    handle(body, value);
    if (inline !== undefined && !taken) usage(`${flag} takes no value: options take no secrets on the command line`);
  }
  for (const [k, v] of Object.entries(body)) if (typeof v === 'function') body[k] = v();
  return body;
}

/** The options that describe a site (for put and patch, operator or owner). */
const siteOptions = ({ secretAllowed }) => ({
  '--origin': (b, v) => (b.origins ??= []).push(v()),
  '--require-identity': (b) => (b.allowAnonymous = false),
  '--allow-anonymous': (b) => (b.allowAnonymous = true),
  '--allow-no-origin': (b) => (b.allowNoOrigin = true),
  '--no-allow-no-origin': (b) => (b.allowNoOrigin = false),
  '--limit': (b, v) => {
    const [name, raw] = v().split('=');
    // The one limit that is a list: fileTypes=image/png,image/jpeg (empty: no files).
    if (name === 'fileTypes') {
      (b.limits ??= {}).fileTypes = (raw ?? '').split(',').map((t) => t.trim()).filter(Boolean);
      return;
    }
    // Decimal digits only: Number('') is 0 and Number(' 0x10') is 16.
    const n = /^\d+(\.\d+)?$/.test(raw ?? '') ? Number(raw) : NaN;
    if (!name || !Number.isFinite(n)) usage('--limit takes name=number, e.g. maxMessageChars=500');
    (b.limits ??= {})[name] = n;
  },
  '--moderation': (b, v) => {
    try { b.moderation = JSON.parse(v()); } catch { usage('--moderation takes JSON, e.g. \'{"words":["spam"]}\''); }
  },
  ...(secretAllowed
    ? { '--secret': (b) => (b.secret = () => readSecret('HELLO_CHAT_SITE_SECRET')), '--no-secret': (b) => (b.secret = null) }
    : {}),
});

const server = (process.env.HELLO_CHAT_URL || 'http://localhost:8787').replace(/\/$/, '');

/** Send one request, print the JSON answer, exit 0 on 2xx and 1 otherwise. */
/** One request: `{ ok, text }` (exits when the server cannot be reached). */
async function request(token, method, urlPath, body) {
  try {
    const res = await fetch(`${server}${urlPath}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body && JSON.stringify(body),
    });
    return { ok: res.ok, text: await res.text() };
  } catch (err) {
    console.error(`cannot reach ${server}: ${err.cause?.message ?? err.message}`);
    process.exit(1);
  }
}

function print(text) {
  try { console.log(JSON.stringify(JSON.parse(text), null, 2)); } catch { console.log(text); }
}

async function call(token, method, urlPath, body) {
  const { ok, text } = await request(token, method, urlPath, body);
  print(text);
  process.exit(ok ? 0 : 1);
}

/**
 * A user's export or erasure, which the API answers a page of rooms at a
 * time (`next`): every page, added up, so that none is left out. A failing
 * page is printed as it came, with what was done before it, and exits 1.
 */
async function everyPage(token, method, urlPath) {
  const total = {};
  for (let after = null; ;) {
    const { ok, text } = await request(token, method, after === null ? urlPath : `${urlPath}?after=${enc(after)}`);
    let page = null;
    try { page = JSON.parse(text); } catch { /* not JSON */ }
    if (!ok || !page) {
      if (Object.keys(total).length) console.error(`done before this page: ${JSON.stringify(total)}`);
      print(text);
      process.exit(1);
    }
    for (const [k, v] of Object.entries(page)) {
      if (k === 'next') continue;
      total[k] = Array.isArray(v) ? [...(total[k] ?? []), ...v] : (total[k] ?? 0) + v;
    }
    if (!page.next) break;
    after = page.next;
  }
  console.log(JSON.stringify(total, null, 2));
  process.exit(0);
}

const enc = encodeURIComponent;

function operator(command, args) {
  const token = process.env.ADMIN_TOKEN || devToken();
  if (!token) usage('set ADMIN_TOKEN (or create .dev.vars)');
  const admin = (method, p, body) => call(token, method, `/admin${p}`, body);
  const [site, ...rest] = args;
  if (command === 'list') {
    nothingMore(args, 'list');
    return admin('GET', '/sites');
  }
  if (command === 'key') {
    const [verb, id, keyId, ...extra] = args;
    nothingMore(verb === 'revoke' ? extra : [keyId, ...extra], `key ${verb}`);
    if (!['create', 'list', 'revoke'].includes(verb)) return usage(`unknown key command ${verb ?? ''}`);
    if (!id) usage(`key ${verb} needs a site id`);
    if (verb === 'create') return admin('POST', `/sites/${enc(id)}/keys`);
    if (verb === 'list') return admin('GET', `/sites/${enc(id)}/keys`);
    if (!keyId) usage('key revoke needs the key id (npm run site -- key list <site>)');
    return admin('DELETE', `/sites/${enc(id)}/keys/${enc(keyId)}`);
  }
  if (!['get', 'delete', 'put', 'patch'].includes(command)) return usage(`unknown command ${command}`);
  if (!site) usage(`${command} needs a site id`);
  if (command === 'get' || command === 'delete') nothingMore(rest, command);
  if (command === 'get') return admin('GET', `/sites/${enc(site)}`);
  if (command === 'delete') return admin('DELETE', `/sites/${enc(site)}`);
  if (command === 'put' || command === 'patch') {
    const body = parseOptions(rest, siteOptions({ secretAllowed: true }));
    return admin(command.toUpperCase(), `/sites/${enc(site)}`, body);
  }
}

function owner(args) {
  const [command, ...rest] = args;
  const known = ['get', 'patch', 'rotate-secret', 'rooms', 'post', 'history', 'delete', 'moderate', 'erase-room', 'webhook', 'export', 'erase'];
  if (!known.includes(command)) return usage(`unknown owner command ${command ?? ''}`);
  const key = process.env.HELLO_CHAT_SITE_KEY;
  if (!key) usage('set HELLO_CHAT_SITE_KEY to a key of the site (npm run site -- key create <site>)');
  const api = (method, site, p, body) => call(key, method, `/v1/sites/${enc(site)}${p}`, body);
  if (command === 'webhook') {
    const [verb, site, name, ...opts] = rest;
    if (!site) usage();
    if (verb === 'list') {
      nothingMore([name, ...opts], 'webhook list');
      return api('GET', site, '/webhooks');
    }
    if (!name) usage();
    if (verb === 'delete') {
      nothingMore(opts, 'webhook delete');
      return api('DELETE', site, `/webhooks/${enc(name)}`);
    }
    if (verb === 'put') {
      const body = parseOptions(opts, {
        '--url': (b, v) => (b.url = v()),
        '--event': (b, v) => (b.events ??= []).push(v()),
        '--secret': (b) => (b.secret = () => readSecret('HELLO_CHAT_WEBHOOK_SECRET')),
      });
      if (!body.url || !body.events) usage('webhook put needs --url and at least one --event');
      body.secret ??= readSecret('HELLO_CHAT_WEBHOOK_SECRET');
      return api('PUT', site, `/webhooks/${enc(name)}`, body);
    }
    return usage(`unknown webhook command ${verb}`);
  }
  const [site, ...more] = rest;
  if (!site) usage();
  if (command === 'get') {
    nothingMore(more, 'owner get');
    return api('GET', site, '');
  }
  if (command === 'rooms') {
    const query = parseOptions(more, {
      '--limit': (b, v) => {
        const raw = v();
        if (!/^\d+$/.test(raw)) usage('--limit takes a whole number, 1-100');
        b.limit = raw;
      },
      '--cursor': (b, v) => (b.cursor = v()),
    });
    const qs = new URLSearchParams(query).toString();
    return api('GET', site, `/rooms${qs ? `?${qs}` : ''}`);
  }
  if (command === 'patch') return api('PATCH', site, '', parseOptions(more, siteOptions({ secretAllowed: false })));
  if (command === 'rotate-secret') {
    const body = parseOptions(more, {
      '--grace': (b, v) => {
        // Digits only: Number('1d') is NaN, which JSON sends as null (the default hour).
        const raw = v();
        if (!/^\d+$/.test(raw)) usage('--grace takes whole seconds, e.g. --grace 86400 for a day');
        b.graceSeconds = Number(raw);
      },
      '--secret': (b) => (b.secret = () => readSecret('HELLO_CHAT_SITE_SECRET')),
    });
    return api('POST', site, '/secret', body);
  }
  if (command === 'post') {
    const [room, ...opts] = more;
    if (!room) usage();
    const body = parseOptions(opts, {
      '--name': (b, v) => (b.name = v()),
      '--message': (b, v) => (b.message = v()),
      '--id': (b, v) => (b.id = v()),
    });
    if (body.message === undefined) usage('post needs --message');
    return api('POST', site, `/rooms/${enc(room)}/messages`, body);
  }
  if (['history', 'delete', 'erase-room', 'moderate'].includes(command)) {
    const [room, ...opts] = more;
    if (!room) usage(`${command} needs a room`);
    const path = `/rooms/${enc(room)}`;
    if (command === 'erase-room') {
      // Past undoing: said in full, nothing else on the line.
      if (opts.length !== 1 || opts[0] !== '--yes') usage('erase-room deletes the room and all its history: add --yes');
      return api('DELETE', site, path);
    }
    if (command === 'delete') {
      const [seq, ...extra] = opts;
      if (!/^\d+$/.test(seq ?? '')) usage('delete needs the seq of the message');
      nothingMore(extra, 'owner delete');
      return api('DELETE', site, `${path}/messages/${seq}`);
    }
    // Whole numbers only: a typo must not become null (the server's default).
    const count = (name, raw) => (/^\d+$/.test(raw) ? Number(raw) : usage(`${name} takes a whole number`));
    if (command === 'history') {
      const query = parseOptions(opts, {
        '--before': (b, v) => (b.before = count('--before', v())),
        '--after': (b, v) => (b.after = count('--after', v())),
        '--limit': (b, v) => (b.limit = count('--limit', v())),
      });
      return api('GET', site, `${path}/messages?${new URLSearchParams(query)}`);
    }
    const body = parseOptions(opts, {
      '--action': (b, v) => (b.action = v()),
      '--sender': (b, v) => (b.sender = v()),
      '--target': (b, v) => (b.target = count('--target', v())),
      '--seconds': (b, v) => (b.seconds = count('--seconds', v())),
      '--reason': (b, v) => (b.reason = v()),
    });
    if (!body.action) usage('moderate needs --action');
    return api('POST', site, `${path}/moderation`, body);
  }
  const [sub, ...extra] = more;
  if (!sub) usage(`${command} needs the user's sub`);
  nothingMore(extra, `owner ${command}`);
  if (command === 'export') return everyPage(key, 'GET', `/v1/sites/${enc(site)}/users/${enc(sub)}/messages`);
  return everyPage(key, 'DELETE', `/v1/sites/${enc(site)}/users/${enc(sub)}`);
}

const [command, ...args] = process.argv.slice(2);
if (command === 'help' || command === '--help') {
  console.log(USAGE);
  process.exit(0);
}
if (!command) usage();
if (command === 'owner') await owner(args);
else await operator(command, args);
