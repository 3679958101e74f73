// `npm run site` against the real worker, as an operator and as a site
// owner: secrets come from the environment or stdin, and one typed on the
// command line is refused before anything is sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ADMIN_TOKEN, BASE, admin, join, mintToken, siteApi, siteWithKey, sleep, uniqueRoom } from './helpers.mjs';

/** Run `node scripts/site.mjs ...args`; resolve with its exit code and JSON (or text) answer. */
function site(args, { env = {}, stdin = '' } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['scripts/site.mjs', ...args], {
      env: { ...process.env, HELLO_CHAT_URL: BASE, ADMIN_TOKEN, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      let body = null;
      try { body = JSON.parse(out); } catch { /* not JSON */ }
      resolve({ code, body, out, err });
    });
    child.stdin.end(stdin);
  });
}

test('operator and owner commands work; secrets come from env or stdin, never argv', async () => {
  const id = `cli-${randomBytes(4).toString('hex')}`;
  const secret = 'cli-identity-secret-0123456789abcdef';

  const argvSecret = await site(['put', id, '--secret', secret]);
  assert.equal(argvSecret.code, 2, argvSecret.err);
  assert.match(argvSecret.err, /no secrets on the command line/);
  assert.ok(!argvSecret.err.includes(secret), 'and the secret typed there is not printed back (terminal logs, CI output)');
  assert.equal((await admin('GET', `/sites/${id}`)).status, 404, 'nothing was sent');
  // A limit without a number is refused here (it went out as 0, which the server clamped to 1).
  for (const limit of ['maxMessageChars=', 'maxMessageChars= 0x10']) {
    const noNumber = await site(['put', id, '--limit', limit]);
    assert.equal(noNumber.code, 2, `${limit}: ${noNumber.out}`);
  }
  assert.equal((await admin('GET', `/sites/${id}`)).status, 404, 'nothing was sent');

  const put = await site(['put', id, '--origin', 'https://shop.example', '--allow-no-origin', '--secret', '--limit', 'maxMessageChars=300'],
    { env: { HELLO_CHAT_SITE_SECRET: secret } });
  assert.equal(put.code, 0, put.out + put.err);
  const created = await join(uniqueRoom('cli'), 'x', { site: id, token: mintToken(secret, { sub: 'u1', name: 'Ada', exp: Math.floor(Date.now() / 1000) + 600 }) });
  assert.equal(created.welcome.verified, true, 'the secret from the environment signs tokens');
  await created.close();

  const key = await site(['key', 'create', id]);
  assert.equal(key.code, 0, key.err);
  const owner = { HELLO_CHAT_SITE_KEY: key.body.key };
  const patched = await site(['owner', 'patch', id, '--require-identity'], { env: owner });
  assert.equal(patched.code, 0, patched.out);
  assert.deepEqual([patched.body.allowAnonymous, patched.body.origins, patched.body.limits.maxMessageChars], [false, ['https://shop.example'], 300]);
  assert.equal(patched.body.secret, undefined, 'the owner never sees the secret');

  const hook = await site(['owner', 'webhook', 'put', id, 'audit', '--url', 'https://hooks.example.com/in', '--event', 'moderation'],
    { env: owner, stdin: 'whsec-from-stdin-0123456789\n' });
  assert.equal(hook.code, 0, hook.out + hook.err);
  const hooks = await site(['owner', 'webhook', 'list', id], { env: owner });
  assert.deepEqual(hooks.body.webhooks.map((w) => [w.name, w.url]), [['audit', 'https://hooks.example.com/in']]);
  assert.ok(!hooks.out.includes('whsec-from-stdin'), 'a webhook secret is never shown again');

  const room = uniqueRoom('cli');
  const posted = await site(['owner', 'post', id, room, '--name', 'Helpdesk', '--message', 'hello from the CLI'], { env: owner });
  assert.equal(posted.code, 0, posted.out);
  const rotated = await site(['owner', 'rotate-secret', id, '--grace', '60'], { env: owner });
  assert.equal(rotated.code, 0, rotated.out);
  assert.ok(rotated.body.secret.length >= 32, 'a generated secret is shown once');

  const wrongKey = await site(['owner', 'get', 'some-other-site'], { env: owner });
  assert.deepEqual([wrongKey.code, wrongKey.body.error], [1, 'forbidden'], 'a key works on its own site only');
  const revoked = await site(['key', 'revoke', id, key.body.id]);
  assert.equal(revoked.code, 0, revoked.out);
  assert.equal((await site(['owner', 'get', id], { env: owner })).code, 1, 'a revoked key is refused');
});

// The API answers a user's export and erasure 50 rooms at a time, with
// `next`: the CLI follows it, or an erasure would silently stop at the 50th
// room (it did, and exited 0).
test('owner export and erase cover every room of the site, past the first page of 50', async () => {
  const secret = 'cli-pages-secret-0123456789abcdef';
  const { site: id, key } = await siteWithKey({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret }, 'clipg');
  const owner = { HELLO_CHAT_SITE_KEY: key };
  // 50 rooms listed before the user's (the list is in name order).
  for (let i = 0; i < 50; i += 10) {
    await Promise.all(Array.from({ length: 10 }, (_, j) => siteApi(key, 'POST', `/${id}/rooms/a${String(i + j).padStart(2, '0')}/messages`, { name: 'Bot', message: 'filler' })));
  }
  const token = mintToken(secret, { sub: 'ada-9', name: 'Ada', exp: Math.floor(Date.now() / 1000) + 3600 });
  for (const room of ['a00', 'zz']) {
    const ada = await join(room, 'x', { site: id, token });
    ada.send({ type: 'send', id: `m-${room}`, message: `Ada in ${room}` });
    await ada.next('ack');
    await ada.close();
  }
  const exported = await site(['owner', 'export', id, 'ada-9'], { env: owner });
  assert.equal(exported.code, 0, exported.out + exported.err);
  assert.deepEqual(exported.body.messages.map((m) => [m.room, m.message]).sort(), [['a00', 'Ada in a00'], ['zz', 'Ada in zz']]);
  const erased = await site(['owner', 'erase', id, 'ada-9'], { env: owner });
  assert.equal(erased.code, 0, erased.out + erased.err);
  assert.deepEqual([erased.body.erased, erased.body.rooms, erased.body.next], [2, 2, undefined]);
  const left = await siteApi(key, 'GET', `/${id}/users/ada-9/messages?after=a49`);
  assert.deepEqual(left.body.messages.map((m) => [m.room, m.message, m.name, m.deleted]), [['zz', '', '', true]],
    'on the second page too, only a tombstone is left');
});

test('--help is an answer, not an error; owner post without --message sends nothing', async () => {
  const help = await site(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /owner export/);
  const post = await site(['owner', 'post', 'some-site', 'lobby', '--name', 'Bot'], { env: { HELLO_CHAT_SITE_KEY: 'not-used' } });
  assert.deepEqual([post.code, /needs --message/.test(post.err)], [2, true]);
});

test('owner post --message=TEXT takes a text that starts with --; --message TEXT still works', async () => {
  const { site: id, key } = await siteWithKey({ origins: [], allowNoOrigin: true }, 'cliarg');
  const owner = { HELLO_CHAT_SITE_KEY: key };
  const room = uniqueRoom('dash');
  for (const args of [
    ['--name', 'Bot', '--message=--help is not an option here'],
    ['--name=Bot', '--message=a=b --c'],
    ['--message', 'plain', '--name', 'Bot'],
    ['--name', 'Bot', '--message=', '--id=empty-text'],
  ]) {
    const posted = await site(['owner', 'post', id, room, ...args], { env: owner });
    if (args.includes('--message=')) {
      assert.deepEqual([posted.code, posted.body?.error], [1, 'empty'], 'an empty text reaches the server, which refuses it');
    } else {
      assert.equal(posted.code, 0, `${args.join(' ')}: ${posted.out}${posted.err}`);
    }
  }
  const history = await siteApi(key, 'GET', `/${id}/rooms/${room}/messages`);
  assert.deepEqual(history.body.messages.map((m) => [m.name, m.message]),
    [['Bot', '--help is not an option here'], ['Bot', 'a=b --c'], ['Bot', 'plain']]);
  // Without =, a value that starts with -- is still taken for an option.
  const ambiguous = await site(['owner', 'post', id, room, '--name', 'Bot', '--message', '--oops'], { env: owner });
  assert.equal(ambiguous.code, 2);
  assert.match(ambiguous.err, /--message=/, 'the error says how to send it');
  // A flag that takes no value refuses one: a secret is never taken from the command line.
  const secret = await site(['owner', 'webhook', 'put', id, 'main', '--url=https://hooks.example.com/in',
    '--event=moderation', '--secret=whsec-0123456789abcdef'], { env: owner });
  assert.equal(secret.code, 2, secret.out);
  assert.equal((await siteApi(key, 'GET', `/${id}/webhooks`)).body.webhooks.length, 0, 'nothing was sent');
  const help = await site(['--help']);
  assert.match(help.out, /--message=TEXT/);
});

test('owner rotate-secret --grace takes whole seconds: "1d" is refused, not rotated with the default hour', async () => {
  const { site: id, key } = await siteWithKey({ origins: [], allowNoOrigin: true }, 'cligrace');
  const owner = { HELLO_CHAT_SITE_KEY: key };
  const refused = await site(['owner', 'rotate-secret', id, '--grace', '1d'], { env: owner });
  assert.deepEqual([refused.code, /--grace takes whole seconds/.test(refused.err)], [2, true], refused.out + refused.err);
  const rotated = await site(['owner', 'rotate-secret', id, '--grace', '86400'], { env: owner });
  assert.equal(rotated.code, 0, rotated.out + rotated.err);
  // And allowNoOrigin can be turned off again.
  const off = await site(['owner', 'patch', id, '--no-allow-no-origin'], { env: owner });
  assert.deepEqual([off.code, off.body?.allowNoOrigin], [0, false], off.out + off.err);
});

test('owner history, moderate, delete and erase-room work from the terminal', async () => {
  const { site: id, key } = await siteWithKey({ origins: [], allowNoOrigin: true }, 'climod');
  const owner = { HELLO_CHAT_SITE_KEY: key };
  const room = uniqueRoom('climod');
  const eve = await join(room, 'Eve', { site: id });
  eve.send({ type: 'send', id: 'e1', message: 'first' });
  await eve.next('ack');
  eve.send({ type: 'send', id: 'e2', message: 'second' });
  const { seq } = await eve.next('ack');
  const history = await site(['owner', 'history', id, room, '--limit', '1'], { env: owner });
  assert.equal(history.code, 0, history.out + history.err);
  assert.deepEqual(history.body.messages.map((m) => m.message), ['second']);
  const sender = history.body.messages[0].sender;
  const deleted = await site(['owner', 'delete', id, room, String(seq)], { env: owner });
  assert.equal(deleted.code, 0, deleted.out + deleted.err);
  const muted = await site(['owner', 'moderate', id, room, '--action', 'mute', '--sender', sender, '--seconds', '60', '--reason', 'calm down'], { env: owner });
  assert.equal(muted.code, 0, muted.out + muted.err);
  const notice = await eve.next((f) => f.type === 'moderation' && f.action === 'mute');
  assert.equal(notice.reason, 'calm down');
  const typo = await site(['owner', 'moderate', id, room, '--action', 'mute', '--sender', sender, '--seconds', '1h'], { env: owner });
  assert.deepEqual([typo.code, /--seconds takes a whole number/.test(typo.err)], [2, true]);
  const unsure = await site(['owner', 'erase-room', id, room, '--help'], { env: owner });
  assert.deepEqual([unsure.code, /add --yes/.test(unsure.err)], [2, true], 'nothing erased without --yes');
  const erased = await site(['owner', 'erase-room', id, room, '--yes'], { env: owner });
  assert.equal(erased.code, 0, erased.out + erased.err);
  await eve.closed;
});

test('owner rooms pages with --limit and --cursor; --limit fileTypes= takes a list; unknown commands, and words a command does not take, are refused', async () => {
  const { site: id, key } = await siteWithKey({ origins: [], allowNoOrigin: true }, 'clirooms');
  const owner = { HELLO_CHAT_SITE_KEY: key };
  for (const room of ['a-room', 'b-room']) {
    const posted = await site(['owner', 'post', id, room, '--name', 'Bot', '--message', 'hi'], { env: owner });
    assert.equal(posted.code, 0, posted.out + posted.err);
  }
  let first;
  for (let i = 0; i < 40; i++) {
    first = await site(['owner', 'rooms', id, '--limit', '1'], { env: owner });
    if (first.body?.next) break;
    await sleep(500); // the room list lags a new room by a moment
  }
  assert.equal(first.code, 0, first.out + first.err);
  assert.deepEqual([first.body.rooms.map((r) => r.room), first.body.next], [['a-room'], 'a-room']);
  const second = await site(['owner', 'rooms', id, '--limit=1', '--cursor', first.body.next], { env: owner });
  assert.deepEqual(second.body.rooms.map((r) => r.room), ['b-room'], second.out);
  const badLimit = await site(['owner', 'rooms', id, '--limit', 'ten'], { env: owner });
  assert.equal(badLimit.code, 2, badLimit.out);

  const types = await site(['owner', 'patch', id, '--limit', 'fileTypes=image/png,image/jpeg'], { env: owner });
  assert.equal(types.code, 0, types.out + types.err);
  assert.deepEqual(types.body.limits.fileTypes, ['image/png', 'image/jpeg']);
  const none = await site(['patch', id, '--limit', 'fileTypes=']);
  assert.deepEqual([none.code, none.body?.limits.fileTypes], [0, []], none.out + none.err);

  for (const [args, said] of [
    [['owner', 'bogus', id], /unknown owner command bogus/],
    [['lsit'], /unknown command lsit/],
    [['key', 'revoke', id], /key revoke needs the key id/],
    // Words a command does not take are refused before anything is done:
    // "--dry-run" must not delete the site, a message, or erase a user.
    [['delete', id, '--dry-run'], /delete takes nothing more: --dry-run/],
    [['get', id, '--verbose'], /get takes nothing more: --verbose/],
    [['list', 'all'], /list takes nothing more: …$/m],
    [['key', 'list', id, 'extra', '--secret=hunter2'], /key list takes nothing more: … --secret$/m],
    [['owner', 'get', id, '--x'], /owner get takes nothing more/],
    [['owner', 'delete', id, 'lobby', '1', '--dry-run'], /owner delete takes nothing more/],
    [['owner', 'erase', id, 'someone', '--dry-run'], /owner erase takes nothing more/],
    [['owner', 'export', id, 'someone', 'more'], /owner export takes nothing more/],
    [['owner', 'webhook', 'list', id, '--all'], /webhook list takes nothing more/],
    [['owner', 'webhook', 'delete', id, 'audit', '--force'], /webhook delete takes nothing more/],
  ]) {
    const res = await site(args, { env: owner });
    assert.equal(res.code, 2, `${args.join(' ')}: ${res.out}`);
    assert.match(res.err, said, args.join(' '));
  }
  assert.equal((await site(['get', id])).code, 0, 'the site is still there');
});
