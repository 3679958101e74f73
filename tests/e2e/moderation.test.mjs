// The message lifecycle and moderation over raw WebSockets, against the real
// worker: edit, delete, react, reply; who may do what (author, other member,
// moderator, anonymous); mute, ban, slow mode, lock, purge; the word filter
// and link policy; resume bringing the changes missed; the workshop front end
// seeing new messages only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { act, answer, admin, Client, createSite, join, mintToken, refused, sleep, uniqueRoom, nextId, post } from './helpers.mjs';

const SECRET = 'moderation-signing-secret-0123456789';
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
/** A site for these tests: anonymous and verified members, relaxed per-address limits (all clients are 127.0.0.1). */
const site = (moderation = {}) => createSite({
  origins: [], allowNoOrigin: true, secret: SECRET, moderation,
  limits: { addressBurst: 1000, addressPerSec: 100, maxConnectionsPerAddress: 100 },
}, 'mod');
const moderatorToken = (sub = 'mo-1', name = 'Mo') => mintToken(SECRET, { sub, name, role: 'moderator', exp: inAnHour() });
const userToken = (sub, name) => mintToken(SECRET, { sub, name, exp: inAnHour() });

test('authors edit and delete their messages; others may not; everyone sees the updates', async () => {
  const s = await site();
  const room = uniqueRoom('life');
  const [ada, bo] = await Promise.all([join(room, 'Ada', { site: s }), join(room, 'Bo', { site: s })]);
  const seq = await post(ada, 'helo wrold');
  await bo.next('message');

  const edit = await act(ada, { type: 'edit', target: seq, message: 'hello world' });
  assert.equal(edit.type, 'ack');
  assert.ok(edit.seq > seq, 'the edit has a seq of its own');
  const update = await bo.next('update');
  assert.deepEqual([update.seq, update.target, update.message, typeof update.edited], [edit.seq, seq, 'hello world', 'number']);
  assert.equal((await ada.next('update')).seq, edit.seq, 'the author gets the update too');

  assert.equal((await act(bo, { type: 'edit', target: seq, message: 'hijacked' })).code, 'not_allowed');
  assert.equal((await act(bo, { type: 'delete', target: seq })).code, 'not_allowed');
  assert.equal((await act(bo, { type: 'edit', target: 9999, message: 'x' })).code, 'not_found');

  const del = await act(ada, { type: 'delete', target: seq });
  assert.equal(del.type, 'ack');
  const tomb = await bo.next((f) => f.type === 'update' && f.seq === del.seq);
  assert.deepEqual([tomb.deleted, tomb.message], [true, '']);
  assert.equal((await act(ada, { type: 'edit', target: seq, message: 'again' })).code, 'not_found');

  // A newcomer sees the tombstone, not the text.
  const cy = await join(room, 'Cy', { site: s });
  assert.deepEqual(cy.history.messages.map((m) => [m.seq, m.message, m.deleted]), [[seq, '', true]]);
  await Promise.all([ada, bo, cy].map((c) => c.close()));
});

test('the edit window closes for authors but not for moderators', async () => {
  // 2 s, not 1: the first edit must land inside it on a slow, busy CI machine too.
  const s = await site({ editWindowSecs: 2 });
  const room = uniqueRoom('window');
  const ada = await join(room, 'Ada', { site: s, token: userToken('ada', 'Ada') });
  const mo = await join(room, 'x', { site: s, token: moderatorToken() });
  assert.equal(mo.welcome.role, 'moderator');
  assert.equal(ada.welcome.editWindow, 2);
  const seq = await post(ada, 'quick');
  assert.equal((await act(ada, { type: 'edit', target: seq, message: 'still in time' })).type, 'ack');
  await sleep(2300);
  assert.equal((await act(ada, { type: 'edit', target: seq, message: 'too late now' })).code, 'too_late');
  assert.equal((await act(mo, { type: 'edit', target: seq, message: 'fixed by a moderator' })).type, 'ack');
  assert.equal((await act(ada, { type: 'delete', target: seq })).type, 'ack', 'deleting has no window');
  await Promise.all([ada, mo].map((c) => c.close()));
});

test('an anonymous author deletes their message for as long as they hold their sender key', async () => {
  const s = await site();
  const room = uniqueRoom('anon-delete');
  const ada = await join(room, 'Ada', { site: s });
  const seq = await post(ada, 'oops');
  await ada.close();
  const stranger = await join(room, 'Ada', { site: s });
  assert.equal((await act(stranger, { type: 'delete', target: seq })).code, 'not_allowed', 'same name, no key');
  const back = await join(room, 'Ada', { site: s }, { protocols: ['hello-chat.v1', `hc-key.${ada.welcome.senderKey}`] });
  assert.equal((await act(back, { type: 'delete', target: seq })).type, 'ack');
  await Promise.all([stranger, back].map((c) => c.close()));
});

test('reactions count once per member; history says which are mine; only the site\'s emoji', async () => {
  const s = await site({ emoji: ['👍', '🎉'] });
  const room = uniqueRoom('react');
  const [ada, bo] = await Promise.all([join(room, 'Ada', { site: s }), join(room, 'Bo', { site: s })]);
  assert.deepEqual(ada.welcome.emoji, ['👍', '🎉']);
  const seq = await post(ada, 'vote');
  for (const c of [ada, bo, bo]) assert.equal((await act(c, { type: 'react', target: seq, emoji: '👍', on: true })).type, 'ack');
  const last = await ada.next((f) => f.type === 'update' && f.reactions?.['👍']?.count === 2);
  assert.equal(last.reactions['👍'].mine, undefined, 'live updates carry no per-member flag');
  assert.equal(last.reaction.sender, bo.welcome.sender);
  assert.equal((await act(bo, { type: 'react', target: seq, emoji: '🍕', on: true })).code, 'not_allowed');
  const readers = await Promise.all([
    join(room, 'Ada', { site: s }, { protocols: ['hello-chat.v1', `hc-key.${ada.welcome.senderKey}`] }),
    join(room, 'Zed', { site: s }),
  ]);
  assert.deepEqual(readers.map((r) => r.history.messages[0].reactions['👍']), [{ count: 2, mine: true }, { count: 2, mine: false }]);
  await Promise.all([ada, bo, ...readers].map((c) => c.close()));
});

test('replies quote the original; a reply to nothing is not_found', async () => {
  const s = await site();
  const room = uniqueRoom('reply');
  const [ada, bo] = await Promise.all([join(room, 'Ada', { site: s }), join(room, 'Bo', { site: s })]);
  const q = await post(ada, 'What time is the launch?');
  await post(bo, 'Noon UTC', { replyTo: q });
  const m = await ada.next((f) => f.type === 'message' && f.message === 'Noon UTC');
  assert.deepEqual(m.replyTo, { seq: q, name: 'Ada', excerpt: 'What time is the launch?', sender: ada.welcome.sender });
  const id = nextId();
  bo.send({ type: 'send', id, message: 'x', replyTo: 4242 });
  assert.equal((await answer(bo, id)).code, 'not_found');
  await Promise.all([ada, bo].map((c) => c.close()));
});

test('moderators remove anyone\'s message and the room announces it; members cannot moderate', async () => {
  const s = await site();
  const room = uniqueRoom('remove');
  const [eve, bo] = await Promise.all([join(room, 'Eve', { site: s }), join(room, 'Bo', { site: s })]);
  const mo = await join(room, 'x', { site: s, token: moderatorToken() });
  const seq = await post(eve, 'buy cheap pills');
  const removed = await act(mo, { type: 'moderate', action: 'delete', target: seq, reason: 'spam' });
  assert.equal(removed.type, 'ack');
  const tomb = await bo.next((f) => f.type === 'update' && f.target === seq);
  assert.equal(tomb.deleted, true);
  const notice = await bo.next('moderation');
  assert.deepEqual([notice.seq, notice.action, notice.target, notice.by, notice.reason, notice.name], [removed.seq, 'delete', seq, 'Mo', 'spam', 'Eve']);
  assert.equal((await act(bo, { type: 'moderate', action: 'lock' })).code, 'not_allowed');
  await Promise.all([eve, bo, mo].map((c) => c.close()));
});

test('a muted sender gets muted with until; slow mode answers retryAfter; a locked room is read-only', async () => {
  const s = await site();
  const room = uniqueRoom('sanctions');
  const [eve, ada] = await Promise.all([join(room, 'Eve', { site: s }), join(room, 'Ada', { site: s })]);
  const mo = await join(room, 'x', { site: s, token: moderatorToken() });
  const before = Date.now();
  assert.equal((await act(mo, { type: 'moderate', action: 'mute', sender: eve.welcome.sender, seconds: 600 })).type, 'ack');
  const id = nextId();
  eve.send({ type: 'send', id, message: 'let me talk' });
  const muted = await answer(eve, id);
  assert.equal(muted.code, 'muted');
  assert.ok(muted.until >= before + 600_000 && muted.until < Date.now() + 601_000);
  assert.equal((await act(mo, { type: 'moderate', action: 'unmute', sender: eve.welcome.sender })).type, 'ack');
  await post(eve, 'thank you');

  assert.equal((await act(mo, { type: 'moderate', action: 'slow', seconds: 30 })).type, 'ack');
  await post(ada, 'one');
  const id2 = nextId();
  ada.send({ type: 'send', id: id2, message: 'two' });
  const slow = await answer(ada, id2);
  assert.equal(slow.code, 'slow_mode');
  assert.ok(slow.retryAfter > 25_000 && slow.retryAfter <= 30_000, String(slow.retryAfter));
  await post(mo, 'moderators are not slowed');
  await act(mo, { type: 'moderate', action: 'slow', seconds: 0 });

  await act(mo, { type: 'moderate', action: 'lock' });
  const late = await join(room, 'Late', { site: s });
  assert.equal(late.welcome.locked, true);
  const id3 = nextId();
  late.send({ type: 'send', id: id3, message: 'hello?' });
  assert.equal((await answer(late, id3)).code, 'locked');
  await post(mo, 'announcement while locked');
  await act(mo, { type: 'moderate', action: 'unlock' });
  await post(late, 'hello!');
  await Promise.all([eve, ada, mo, late].map((c) => c.close()));
});

test('a mute that follows an address tells the other members there at once, and so does its end; nobody else hears', async () => {
  const s = await site();
  const room = uniqueRoom('standing');
  // Eve and Bo are anonymous from one address (all test clients are 127.0.0.1),
  // as two people behind one NAT; Ada is verified; Old is the workshop front end.
  const [eve, bo, ada] = await Promise.all([join(room, 'Eve', { site: s }), join(room, 'Bo', { site: s }),
    join(room, 'Ada', { site: s, token: userToken('ada', 'Ada') })]);
  const legacy = await Client.connect({ room, site: s, name: 'Old' });
  const mo = await join(room, 'x', { site: s, token: moderatorToken() });
  const mute = await act(mo, { type: 'moderate', action: 'mute', sender: eve.welcome.sender, seconds: 600 });
  assert.equal(mute.type, 'ack');
  const notice = await bo.next((f) => f.type === 'moderation' && f.seq === mute.seq);
  // Bo is muted by the address: told so now, not only when his next message is refused.
  const muted = await bo.next('standing');
  assert.equal(muted.mutedUntil, notice.until);
  assert.equal((await act(bo, { type: 'send', message: 'am I?' })).code, 'muted');
  const unmute = await act(mo, { type: 'moderate', action: 'unmute', sender: eve.welcome.sender });
  await bo.next((f) => f.type === 'moderation' && f.seq === unmute.seq);
  const lifted = await bo.next('standing');
  assert.equal('mutedUntil' in lifted, false, 'not muted any more');
  await post(bo, 'free again');
  // Eve hears the notice naming her; a verified member, the workshop front
  // end and the moderator are not muted by the address and hear nothing more.
  await sleep(300);
  for (const c of [eve, ada, legacy, mo]) {
    assert.deepEqual(c.frames.filter((f) => f.type === 'standing' || (f.type === undefined && !f.message)), [], 'nothing for this member');
  }
  await Promise.all([eve, bo, ada, legacy, mo].map((c) => c.close()));
});

test('a banned member is closed with 4008 and refused on every next attempt', async () => {
  const s = await site();
  const room = uniqueRoom('ban');
  const eve = await join(room, 'Eve', { site: s, token: userToken('eve', 'Eve') });
  const anon = await join(room, 'Anon', { site: s });
  const mo = await join(room, 'x', { site: s, token: moderatorToken() });
  assert.equal((await act(mo, { type: 'moderate', action: 'ban', sender: eve.welcome.sender, reason: 'abuse' })).type, 'ack');
  // The error frame comes first (the widget stops on it); the close follows.
  assert.equal((await eve.next((f) => f.type === 'error')).code, 'banned');
  assert.equal((await eve.closed).code, 4008);
  const again = await refused({ room, site: s, v: '1', token: userToken('eve', 'Eve again') });
  assert.deepEqual([again.code, again.error.code, again.error.until], [4008, 'banned', undefined], 'for good: no end');
  // Anonymous members are banned by sender key and by address; a timed ban says when it ends.
  const banned = await act(mo, { type: 'moderate', action: 'ban', sender: anon.welcome.sender, seconds: 3600 });
  assert.equal(banned.type, 'ack');
  const told = await anon.next((f) => f.type === 'error');
  assert.equal(told.code, 'banned');
  assert.ok(Math.abs(told.until - (Date.now() + 3_600_000)) < 60_000, `ends in an hour: ${told.until}`);
  assert.equal((await anon.closed).code, 4008);
  const withKey = await refused({ room, site: s, v: '1', senderKey: anon.welcome.senderKey });
  assert.equal(withKey.code, 4008);
  const newKey = await refused({ room, site: s, v: '1', name: 'Totally new' });
  assert.equal(newKey.code, 4008, 'a new sender key from the same address');
  // Verified members elsewhere are not caught by an address ban; unban lets Eve back.
  const bo = await join(room, 'Bo', { site: s, token: userToken('bo', 'Bo') });
  assert.equal(bo.welcome.type, 'welcome');
  assert.equal((await act(mo, { type: 'moderate', action: 'unban', sender: eve.welcome.sender })).type, 'ack');
  const back = await join(room, 'x', { site: s, token: userToken('eve', 'Eve') });
  assert.equal(back.welcome.type, 'welcome');
  // Moderators cannot ban each other.
  const mo2 = await join(room, 'x', { site: s, token: moderatorToken('mo-2', 'Mo2') });
  assert.equal((await act(mo, { type: 'moderate', action: 'ban', sender: mo2.welcome.sender })).code, 'not_allowed');
  await Promise.all([mo, bo, back, mo2].map((c) => c.close()));
});

test('purge tombstones every message of a sender, for members here and members who come later', async () => {
  const s = await site();
  const room = uniqueRoom('purge');
  const [eve, ada] = await Promise.all([join(room, 'Eve', { site: s }), join(room, 'Ada', { site: s })]);
  const mo = await join(room, 'x', { site: s, token: moderatorToken() });
  for (let i = 0; i < 3; i++) await post(eve, `spam ${i}`);
  await post(ada, 'real message');
  // She has gone by the time the moderator acts: the notice still names her.
  await eve.close();
  await ada.next((f) => f.type === 'presence' && f.left === 'Eve', 15000);
  await act(mo, { type: 'moderate', action: 'purge', sender: eve.welcome.sender });
  const notice = await ada.next('moderation');
  assert.deepEqual([notice.action, notice.sender, notice.name], ['purge', eve.welcome.sender, 'Eve']);
  const later = await join(room, 'Later', { site: s });
  assert.deepEqual(later.history.messages.map((m) => m.message), ['', '', '', 'real message']);
  await Promise.all([ada, mo, later].map((c) => c.close()));
});

test('the word filter blocks or masks, whatever the spelling; links can be kept from anonymous senders', async () => {
  const blocking = await site({ words: ['darn'], links: 'verifiedOnly' });
  const room = uniqueRoom('filter');
  const ada = await join(room, 'Ada', { site: blocking });
  for (const text of ['darn it', 'DARN', 'ｄａｒｎ', 'd.a.r.n', 'd a r n!']) {
    const id = nextId();
    ada.send({ type: 'send', id, message: text });
    assert.equal((await answer(ada, id)).code, 'blocked', text);
  }
  await post(ada, 'darning socks is fine');
  const id = nextId();
  ada.send({ type: 'send', id, message: 'visit cheap-pills.com' });
  assert.equal((await answer(ada, id)).code, 'blocked');
  const verified = await join(room, 'x', { site: blocking, token: userToken('v', 'Vera') });
  await post(verified, 'see https://example.com/docs');

  const masking = await site({ words: ['darn'], filterAction: 'mask' });
  const maskRoom = uniqueRoom('mask');
  const bo = await join(maskRoom, 'Bo', { site: masking });
  await post(bo, 'oh D.A.R.N it');
  assert.ok(bo.frames.some((f) => f.type === 'message' && f.message === 'oh ******* it'),
    'its sender is shown the masked text too, before the ack');
  const reader = await join(maskRoom, 'R', { site: masking });
  assert.equal(reader.history.messages.at(-1).message, 'oh ******* it');
  // A site refuses a filter that could never match.
  assert.equal((await admin('PUT', '/sites/mod-bad-filter', { moderation: { words: ['...'] } })).status, 400);
  await Promise.all([ada, verified, bo, reader].map((c) => c.close()));
});

test('a member who comes back gets the changes missed, each once, and the workshop front end sees new messages only', async () => {
  const s = await site();
  const room = uniqueRoom('resume');
  const ada = await join(room, 'Ada', { site: s });
  const legacy = await Client.connect({ room, site: s, name: 'Old' });
  const seq = await post(ada, 'first');
  const bo = await join(room, 'Bo', { site: s });
  const seen = bo.welcome.seq;
  await bo.close();
  const e = await act(ada, { type: 'edit', target: seq, message: 'first (edited)' });
  await act(ada, { type: 'react', target: seq, emoji: '👍', on: true });
  await post(ada, 'second');
  const back = await join(room, 'Bo', { site: s, since: String(seen) });
  const items = back.history.messages;
  assert.deepEqual(items.map((i) => i.type ?? 'message'), ['update', 'update', 'message']);
  assert.equal(items[0].seq, e.seq);
  assert.equal(items[1].reactions['👍'].count, 1);
  await sleep(300);
  const legacyTexts = legacy.frames.map((f) => f.message);
  assert.ok(legacyTexts.includes('first') && legacyTexts.includes('second'));
  assert.ok(legacy.frames.every((f) => f.type === undefined && 'name' in f), 'legacy frames only');
  assert.ok(!legacyTexts.includes('first (edited)'), 'no updates for the workshop front end');
  await Promise.all([ada, legacy, back].map((c) => c.close()));
});

test('a resume or after page holding a message and its changes carries the reactions on every item', async () => {
  // The updates in a page are the message's whole current state: a client
  // applies them in order, so one without the reactions would wipe them.
  const s = await site();
  const room = uniqueRoom('resume-react');
  const ada = await join(room, 'Ada', { site: s });
  const bo = await join(room, 'Bo', { site: s });
  const seen = bo.welcome.seq;
  await bo.close();
  const seq = await post(ada, 'sent while Bo was away');
  await act(ada, { type: 'react', target: seq, emoji: '👍', on: true });
  await act(ada, { type: 'edit', target: seq, message: 'sent while Bo was away (edited)' });
  const back = await join(room, 'Bo', { site: s, since: String(seen) }, { protocols: ['hello-chat.v1', `hc-key.${bo.welcome.senderKey}`] });
  back.send({ type: 'history', after: seen, limit: 10 });
  const page = await back.next('history');
  for (const items of [back.history.messages, page.messages]) {
    assert.deepEqual(items.map((i) => i.type ?? 'message'), ['message', 'update', 'update']);
    for (const item of items) assert.deepEqual(item.reactions, { '👍': { count: 1, mine: false } }, JSON.stringify(item));
  }
  await Promise.all([ada, back].map((c) => c.close()));
});

test('welcome lists who is here; presence frames keep the list current', async () => {
  const s = await site();
  const room = uniqueRoom('presence');
  const ada = await join(room, 'Ada', { site: s });
  const mo = await join(room, 'x', { site: s, token: moderatorToken() });
  const names = mo.welcome.members.map((m) => [m.name, m.role ?? null, m.verified]).sort();
  assert.deepEqual(names, [['Ada', null, false], ['Mo', 'moderator', true]]);
  const joined = await ada.next((f) => f.type === 'presence' && f.joined === 'Mo');
  assert.deepEqual([joined.member.name, joined.member.role, joined.member.connections], ['Mo', 'moderator', 1]);
  await mo.close();
  const left = await ada.next((f) => f.type === 'presence' && f.left === 'Mo');
  assert.equal(left.member.connections, 0);
  await ada.close();
});

test('attack: slow mode is not beaten by coming back under a fresh sender key; people behind one address each get their message in', async (t) => {
  const s = await site();
  const room = uniqueRoom('mod-slow');
  const from = (address) => ({ headers: { 'cf-connecting-ip': address } });
  const mo = await join(room, 'x', { site: s, token: moderatorToken() });
  t.after(() => mo.close());
  assert.equal((await act(mo, { type: 'moderate', action: 'slow', seconds: 30 })).type, 'ack');
  // One visitor, a new sender key per connection (what a script does): one
  // message per interval, as with one key.
  const answers = [];
  for (let i = 0; i < 4; i += 1) {
    const eve = await join(room, `Eve ${i}`, { site: s }, from('203.0.113.40'));
    answers.push(await act(eve, { type: 'send', message: `spam ${i}` }));
    await eve.close();
    await mo.next((f) => f.type === 'presence' && f.member?.sender === eve.welcome.sender && f.member.connections === 0);
  }
  assert.deepEqual(answers.map((a) => a.type), ['ack', 'error', 'error', 'error'], JSON.stringify(answers));
  assert.equal(answers[3].code, 'slow_mode');
  assert.ok(answers[3].retryAfter > 20_000 && answers[3].retryAfter <= 30_000, String(answers[3].retryAfter));
  // Four people behind one address (an office's NAT), connected at once:
  // each gets their message in; the address then has had its share.
  const office = await Promise.all(['Ann', 'Ben', 'Cat', 'Dan'].map((n) => join(room, n, { site: s }, from('203.0.113.50'))));
  t.after(() => Promise.all(office.map((c) => c.close())));
  for (const c of office) assert.equal((await act(c, { type: 'send', message: `hello from ${c.welcome.name}` })).type, 'ack');
  const late = await join(room, 'Eli', { site: s }, from('203.0.113.50'));
  t.after(() => late.close());
  assert.equal((await act(late, { type: 'send', message: 'me too' })).type, 'ack', 'five connected: a fifth message');
  const again = await join(room, 'Eli again', { site: s }, from('203.0.113.50'));
  await late.close();
  await mo.next((f) => f.type === 'presence' && f.member?.sender === late.welcome.sender && f.member.connections === 0);
  t.after(() => again.close());
  assert.equal((await act(again, { type: 'send', message: 'and again' })).code, 'slow_mode', 'a sixth from five people');
  // A verified member from the same address is not held back.
  const vic = await join(room, 'x', { site: s, token: userToken('vic', 'Vic') }, from('203.0.113.50'));
  t.after(() => vic.close());
  assert.equal((await act(vic, { type: 'send', message: 'hello too' })).type, 'ack');
});

test('attack: a muted visitor reaches no one by typing, read receipts or the name they pick', async (t) => {
  const s = await site({ words: ['scam'], links: 'verifiedOnly', receipts: true });
  const room = uniqueRoom('mod-quiet');
  const from = (address) => ({ headers: { 'cf-connecting-ip': address } });
  const ada = await join(room, 'Ada', { site: s }, from('198.51.100.10'));
  const mo = await join(room, 'x', { site: s, token: moderatorToken() });
  t.after(() => Promise.all([ada.close(), mo.close()]));
  // A name carries text to everyone, as a message does: the same filter.
  const eve = await join(room, 'scam buy cheap.com/x', { site: s }, from('198.51.100.11'));
  t.after(() => eve.close());
  assert.equal(eve.welcome.name, 'Anonymous', 'a name the site would block in a message was let through');
  const joined = await ada.next((f) => f.type === 'presence' && f.member?.sender === eve.welcome.sender);
  assert.deepEqual([joined.joined, joined.member.name], ['Anonymous', 'Anonymous']);
  await post(ada, 'hello');
  assert.equal((await act(mo, { type: 'moderate', action: 'mute', sender: eve.welcome.sender, seconds: 600 })).type, 'ack');
  await ada.next((f) => f.type === 'moderation' && f.action === 'mute');
  // Muted: her typing and her receipts went on reaching everyone.
  const mark = ada.frames.length;
  eve.send({ type: 'typing' });
  eve.send({ type: 'read', seq: 1 });
  assert.equal((await act(eve, { type: 'send', message: 'hi' })).code, 'muted');
  await post(mo, 'after the mute');
  await ada.next((f) => f.type === 'message' && f.message === 'after the mute');
  const heard = ada.frames.slice(mark).filter((f) => f.sender === eve.welcome.sender || f.name === 'Anonymous');
  assert.deepEqual(heard.map((f) => f.type), [], `a muted member was heard: ${JSON.stringify(heard)}`);
});

test('a moderator away cannot be banned, muted or purged by another (not_allowed), and comes back in', async (t) => {
  const s = await site();
  const room = uniqueRoom('mod-away');
  const mo = await join(room, 'x', { site: s, token: moderatorToken() });
  t.after(() => mo.close());
  const kim = await join(room, 'x', { site: s, token: moderatorToken('mo-2', 'Kim') });
  await post(kim, 'I moderate here too');
  const sender = kim.welcome.sender;
  await kim.close();
  for (const action of ['ban', 'mute', 'purge']) {
    const refusal = await act(mo, { type: 'moderate', action, sender });
    assert.equal(refusal.code, 'not_allowed', `${action} of a moderator away: ${JSON.stringify(refusal)}`);
  }
  const back = await join(room, 'x', { site: s, token: moderatorToken('mo-2', 'Kim') });
  t.after(() => back.close());
  assert.equal((await act(back, { type: 'send', message: 'still here' })).type, 'ack');
});

test('attack: a verified user banned after leaving cannot come back anonymously from the address they wrote from', async (t) => {
  const s = await site();
  const room = uniqueRoom('mod-evade');
  const from = { headers: { 'cf-connecting-ip': '192.0.2.77' } };
  const mo = await join(room, 'x', { site: s, token: moderatorToken() });
  t.after(() => mo.close());
  const vic = await join(room, 'x', { site: s, token: userToken('vic', 'Vic') }, from);
  await post(vic, 'buy my stuff');
  const sender = vic.welcome.sender;
  await vic.close();
  assert.equal((await act(mo, { type: 'moderate', action: 'ban', sender })).type, 'ack');
  const c = await Client.connect({ room, site: s, v: '1', name: 'Totally new' }, from);
  t.after(() => c.close());
  const first = await c.next((f) => f.type === 'welcome' || f.type === 'error', 8000);
  assert.deepEqual([first.type, first.code], ['error', 'banned'], 'the banned user got back in anonymously');
  assert.equal((await c.closed).code, 4008);
  // Someone elsewhere is not held.
  const other = await join(room, 'Ada', { site: s }, { headers: { 'cf-connecting-ip': '192.0.2.78' } });
  await other.close();
});
