// The JavaScript API around the widget in real Chromium: `mount` refuses bad
// options at once, with the very rules (and words) of the wasm side; a
// failure after the wasm loaded is not called a load failure; auto-mount
// survives an element with bad options; and several widgets with
// `notify: { title: true }` share one badge in the page title.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, join, launchBrowser, sleep, uniqueRoom, waitForStatus, widgetPage } from './helpers.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** A page with both the headless client (its own wasm reads options as the widget's does) and the embed. */
async function apiPage(context) {
  const page = await context.newPage();
  await page.goto(`${BASE}/health`);
  await page.setContent(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
    <body><div id="chat"></div><script src="/hello-chat-headless.js"></script><script src="/hello-chat.js"></script></body></html>`);
  await page.waitForFunction(() => window.HelloChat?.mount && window.HelloChat.connect);
  return page;
}

test('mount throws at once for bad options, exactly when the wasm would refuse them', async () => {
  const context = await browser.newContext();
  const page = await apiPage(context);
  const results = await page.evaluate(async () => {
    const cases = {
      'a string': 'lobby', 'a number': 42, 'a boolean': true, 'an array': [],
      'no room': {}, 'an empty room': { room: '' }, 'a blank room': { room: ' \t ' },
      'a room with a space': { room: 'bad room!' }, 'a room padded with spaces': { room: '  lobby\n' },
      'a room of 64': { room: 'a'.repeat(64) }, 'a room of 65': { room: 'a'.repeat(65) },
      'a non-ASCII room': { room: 'café' }, 'a slash': { room: 'a/b' },
      'a numeric room': { room: 7 }, 'a fractional room': { room: 1.5 }, 'a negative room': { room: -1 },
      'NaN': { room: NaN }, 'a huge number': { room: 1e30 }, 'a boolean room': { room: true },
      'a String object': { room: new String('lobby') }, 'a null room': { room: null },
      // Rust trims Unicode White_Space: U+0085 yes, U+FEFF no (JavaScript's trim() the reverse).
      'NEL padding': { room: '\u0085lobby\u0085' }, 'BOM padding': { room: '\ufefflobby' },
      'ideographic space': { room: 'lobby\u3000' },
      'a bad site': { room: 'ok', site: 'BAD_SITE' }, 'an underscore site': { room: 'ok', site: 'a_b' },
      'an empty site': { room: 'ok', site: '' }, 'a padded site': { room: 'ok', site: ' acme-2 ' },
      'a site of 32': { room: 'ok', site: 'a'.repeat(32) }, 'a site of 33': { room: 'ok', site: 'a'.repeat(33) },
      'a numeric site': { room: 'ok', site: 12 }, 'a negative site': { room: 'ok', site: -3 },
      'a null site': { room: 'ok', site: null }, 'an object site': { room: 'ok', site: {} },
    };
    const el = document.getElementById('chat');
    const out = {};
    for (const [label, options] of Object.entries(cases)) {
      let mount;
      try {
        HelloChat.mount(el, options).destroy();
        mount = null;
      } catch (err) {
        mount = `${err.constructor.name}: ${err.message}`;
      }
      let connect;
      try {
        HelloChat.connect(options).close();
        connect = null;
      } catch (err) {
        connect = `${err.constructor.name}: ${err.message}`;
      }
      // The wasm's own verdict, through the headless client, past the
      // JavaScript check: room and site read valid the first time (the
      // check), as given after (the wasm). Not an object: both refuse it.
      const twoFaced = (o) => {
        const face = { ...o };
        for (const [key, first] of [['room', 'ok'], ['site', undefined]]) {
          let reads = 0;
          Object.defineProperty(face, key, { enumerable: true, get: () => (reads++ === 0 ? first : o[key]) });
        }
        return face;
      };
      const rust = typeof options !== 'object' || options === null
        ? 'HelloChat.mount: options must be an object with at least { room }'
        : await new Promise((resolve) => {
          const c = HelloChat.connect(twoFaced(options));
          const done = (v) => { clearTimeout(timer); c.close(); resolve(v); };
          const timer = setTimeout(() => done(null), 4000);
          c.on('error', (e) => { if (e.code === 'mount_failed') done(e.message.replace('HelloChat.connect:', 'HelloChat.mount:')); });
          c.on('status', (s) => { if (s.status === 'connecting' || s.status === 'connected') done(null); });
        });
      out[label] = { mount, connect, rust, left: el.childElementCount };
    }
    return out;
  });
  for (const [label, { mount, connect, rust, left }] of Object.entries(results)) {
    assert.equal(left, 0, `${label}: nothing left in the element`);
    assert.equal(mount, rust && `TypeError: ${rust}`, `${label}: mount and the wasm agree`);
    assert.equal(connect, mount && mount.replace('HelloChat.mount:', 'HelloChat.connect:'), `${label}: connect throws as mount does`);
  }
  // The cases QA reported, for the record.
  assert.match(results['a room with a space'].mount, /^TypeError: HelloChat\.mount: room "bad room!" must be 1-64 characters/);
  assert.match(results['no room'].mount, /^TypeError: HelloChat\.mount: the `room` option is required/);
  assert.match(results['a bad site'].mount, /^TypeError: HelloChat\.mount: site "BAD_SITE" must be 1-32 characters/);

  const missing = await page.evaluate(() => [undefined, null].map((o) => {
    try { HelloChat.mount(document.getElementById('chat'), o); return null; } catch (err) { return `${err.constructor.name}: ${err.message}`; }
  }));
  assert.deepEqual(missing, Array(2).fill('TypeError: HelloChat.mount: options must be an object with at least { room }'));
  await context.close();
});

// Markup can set `data-room` on an auto-mounted element: a long run of blanks
// inside it must not freeze the page (a trimming regex backtracked over it,
// in quadratic time: minutes for this one). The timeout only bounds a hang.
test('mount refuses a room with a million blanks inside at once', { timeout: 30_000 }, async () => {
  const context = await browser.newContext();
  const page = await apiPage(context);
  const thrown = await page.evaluate(() => {
    try { HelloChat.mount(document.getElementById('chat'), { room: `a${' '.repeat(1e6)}b` }); return null; } catch (err) { return [err.constructor.name, err.message.length]; }
  });
  assert.equal(thrown?.[0], 'TypeError');
  // The page's error reporting gets a message, not a megabyte of markup.
  assert.ok(thrown[1] < 200, `message of ${thrown[1]} characters`);
  await context.close();
});

test('options that throw when read again (a strings getter, in a language with a file) are mount_failed, told', async () => {
  const context = await browser.newContext();
  const page = await apiPage(context);
  const told = await page.evaluate(() => new Promise((resolve) => {
    const strings = {};
    Object.defineProperty(strings, 'send', { enumerable: true, get() { throw new Error('nope'); } });
    const chat = HelloChat.mount(document.getElementById('chat'), { room: 'lobby', locale: 'pl', strings });
    chat.on('error', (e) => resolve(e.code));
    setTimeout(() => resolve('nothing'), 5000);
  }));
  assert.equal(told, 'mount_failed');
  await context.close();
});

test('a valid but untidy room connects; a failure after the wasm loaded is not a load failure', async () => {
  const context = await browser.newContext();
  const page = await apiPage(context);
  const room = uniqueRoom('tidy');
  await page.evaluate((r) => {
    window.events = [];
    window.chat = HelloChat.mount(document.getElementById('chat'), { room: `  ${r} `, name: 'Ada' });
    for (const e of ['status', 'error']) window.chat.on(e, (d) => window.events.push([e, d]));
  }, room);
  await page.waitForFunction(() => window.events.some(([e, d]) => e === 'status' && d.status === 'connected'));
  assert.equal(await page.locator('.hc-title').textContent(), `#${room}`);

  // Options that change between mount's check and the wasm's read (a getter):
  // the wasm still refuses them, and says it is not the download.
  const failed = await page.evaluate(() => new Promise((resolve) => {
    let reads = 0;
    const options = { get room() { reads += 1; return reads > 1 ? 'bad room!' : 'lobby'; } };
    const events = [];
    const h = HelloChat.mount(document.createElement('div'), options);
    h.on('status', (d) => events.push(['status', d])).on('error', (d) => { events.push(['error', d]); resolve(events); });
    setTimeout(() => resolve(events), 5000);
  }));
  assert.equal(failed[0]?.[1].status, 'failed', JSON.stringify(failed));
  assert.equal(failed[1]?.[1].code, 'mount_failed', JSON.stringify(failed));
  assert.match(failed[1][1].message, /HelloChat\.mount: room "bad room!"/);
  await context.close();
});

test('the wasm that cannot load (a CSP without wasm-unsafe-eval) is a load failure', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.route(`${BASE}/csp`, (route) => route.fulfill({
    contentType: 'text/html',
    headers: { 'content-security-policy': "script-src 'self' 'unsafe-inline'" },
    body: '<!doctype html><title>csp</title><div id="chat"></div><script src="/hello-chat.js"></script>',
  }));
  await page.goto(`${BASE}/csp`);
  await page.waitForFunction(() => window.HelloChat);
  const [error, file] = await page.evaluate(() => new Promise((resolve) => {
    const chat = HelloChat.mount(document.getElementById('chat'), { room: 'lobby' });
    // Queued before the failure: its promise must settle too.
    const sent = chat.sendFile(new Blob(['x'], { type: 'text/plain' }));
    const settled = (p) => Promise.race([p.then((v) => ['settled', v ?? null]), new Promise((r) => setTimeout(r, 3000, ['pending']))]);
    // And one sent after the failure.
    chat.on('error', (e) => Promise.all([settled(sent), settled(chat.sendFile(new Blob(['y'])))]).then((f) => resolve([e, f])));
  }));
  assert.equal(error.code, 'load_failed', JSON.stringify(error));
  assert.deepEqual(file, [['settled', null], ['settled', null]]);
  await context.close();
});

test('a sendFile queued before the widget was ready settles when it is destroyed', async () => {
  const context = await browser.newContext();
  const page = await apiPage(context);
  const file = await page.evaluate(() => {
    const chat = HelloChat.mount(document.getElementById('chat'), { room: 'lobby', name: 'Ada' });
    const sent = chat.sendFile(new Blob(['x'], { type: 'text/plain' }));
    chat.destroy();
    return Promise.race([sent.then((v) => ['settled', v ?? null]), new Promise((r) => setTimeout(r, 3000, ['pending']))]);
  });
  assert.deepEqual(file, ['settled', null]);
  await context.close();
});

test('mount twice on one element (a page\'s script run twice) replaces the first widget: one on screen, one in the room', async () => {
  const room = uniqueRoom('twice');
  const context = await browser.newContext();
  const page = await apiPage(context);
  const sockets = [];
  page.on('websocket', (ws) => { const s = { open: true }; sockets.push(s); ws.on('close', () => { s.open = false; }); });
  await page.evaluate((room) => {
    const el = document.getElementById('chat');
    window.first = HelloChat.mount(el, { room, name: 'Ada' });
    window.statuses = [];
    window.first.on('status', (s) => window.statuses.push(s.status));
    window.second = HelloChat.mount(el, { room, name: 'Ada' });
    window.second.on('status', (s) => { window.connected = window.connected || s.status === 'connected'; });
  }, room);
  await page.waitForFunction(() => window.connected, null, { timeout: 15_000 });
  const audit = await join(room, 'Audit');
  await sleep(1500);
  assert.deepEqual({
    hosts: await page.evaluate(() => document.querySelectorAll('#chat [data-hello-chat-host]').length),
    open: sockets.filter((s) => s.open).length,
    first: await page.evaluate(() => window.statuses.at(-1)),
    online: audit.welcome.online,
  }, { hosts: 1, open: 1, first: 'closed', online: 2 }, 'the widget and the audit, no one else');
  await audit.close();
  await context.close();
});

/** Widgets `a` and `b` (notify.title) in rooms `r1`, `r2`, once both are connected. */
async function mountTwo(page, r1, r2) {
  await page.evaluate(([r1, r2]) => {
    window.connected = 0;
    for (const [id, room] of [['a', r1], ['b', r2]]) {
      window[id] = HelloChat.mount(document.getElementById(id), { room, name: 'Ada', notify: { title: true } });
      window[id].on('status', (s) => { if (s.status === 'connected') window.connected += 1; });
    }
  }, [r1, r2]);
  await page.waitForFunction(() => window.connected === 2);
}

test('two widgets with notify.title share one badge: the sum, and the page\'s title back after', async () => {
  const context = await browser.newContext();
  const page = await apiPage(context);
  const [r1, r2] = [uniqueRoom('ta'), uniqueRoom('tb')];
  await page.evaluate(() => {
    document.title = 'Shop';
    document.body.insertAdjacentHTML('beforeend', '<div id="a"></div><div id="b"></div>');
    // A background tab: nothing shown counts as read.
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    Object.defineProperty(document, 'hidden', { value: true, configurable: true });
  });
  await mountTwo(page, r1, r2);
  const [bo, cy] = [await join(r1, 'Bo'), await join(r2, 'Cy')];
  const say = async (client, id) => { client.send({ type: 'send', id, message: `msg ${id}` }); await client.next('ack'); };
  const title = (t) => page.waitForFunction((want) => document.title === want, t, { timeout: 5000 }).then(() => t, async () => page.title());

  await say(bo, 'x1');
  assert.equal(await title('(1) Shop'), '(1) Shop');
  await say(cy, 'y1');
  assert.equal(await title('(2) Shop'), '(2) Shop');
  await say(bo, 'x2');
  assert.equal(await title('(3) Shop'), '(3) Shop');
  await page.evaluate(() => window.a.destroy());
  assert.equal(await page.title(), '(1) Shop', 'the other widget\'s count stays');
  await page.evaluate(() => window.b.destroy());
  assert.equal(await page.title(), 'Shop', 'the page\'s own title is back');

  await bo.close();
  await cy.close();

  // A title the page sets meanwhile becomes the base, and is left alone at the end.
  const [r3, r4] = [uniqueRoom('tc'), uniqueRoom('td')];
  await mountTwo(page, r3, r4);
  const [di, ed] = [await join(r3, 'Di'), await join(r4, 'Ed')];
  await say(ed, 'y2');
  assert.equal(await title('(1) Shop'), '(1) Shop');
  await page.evaluate(() => { document.title = 'Cart'; });
  await say(di, 'x3');
  assert.equal(await title('(2) Cart'), '(2) Cart');
  await page.evaluate(() => { document.title = 'Checkout'; window.a.destroy(); window.b.destroy(); });
  assert.equal(await page.title(), 'Checkout');
  await di.close();
  await ed.close();
  await context.close();
});

// User content in the host page can hold named elements that shadow
// `document.title` and `document.hasFocus` ("DOM clobbering"): reading the
// title then threw (a cross-origin window as text), for every widget sharing
// the badge, before their listeners ran, and destroy() threw half-way.
test('named elements shadowing document.title and hasFocus break neither the badge, the events nor destroy()', async () => {
  const context = await browser.newContext();
  const page = await apiPage(context);
  const room = uniqueRoom('clobber');
  await page.evaluate((r) => {
    document.title = 'Shop';
    document.body.insertAdjacentHTML('beforeend', '<iframe name="title" sandbox srcdoc="hi"></iframe><img name="hasFocus"><div id="c"></div>');
    window.seen = { unread: 0, message: 0, closed: 0 };
    window.c = HelloChat.mount(document.getElementById('c'), { room: r, name: 'Ada', notify: { title: true, sound: true } });
    for (const e of ['unread', 'message']) window.c.on(e, () => { window.seen[e] += 1; });
    window.c.on('status', (s) => { if (s.status === 'closed') window.seen.closed += 1; window.status = s.status; });
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
  }, room);
  await page.waitForFunction(() => window.status === 'connected');
  const bo = await join(room, 'Bo');
  bo.send({ type: 'send', id: 'k1', message: 'hello' });
  await bo.next('ack');
  await page.waitForFunction(() => window.seen.message === 1 && window.seen.unread >= 1, null, { timeout: 5000 });
  const titled = await page.evaluate(() => Object.getOwnPropertyDescriptor(Document.prototype, 'title').get.call(document));
  assert.equal(titled, '(1) Shop');
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.evaluate(() => window.c.destroy());
  assert.deepEqual([await page.evaluate(() => window.seen.closed), errors], [1, []]);
  await bo.close();
  await context.close();
});

test('auto-mount: an element with a bad data-room is reported and the others still get their widget', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${BASE}/health`);
  await page.setContent(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>auto</title></head><body>
    <div id="a" data-hello-chat data-room="${uniqueRoom('auto')}"></div>
    <div id="bad" data-hello-chat data-room="bad room!"></div>
    <div id="c" data-hello-chat data-room="${uniqueRoom('auto')}" data-dir="rtl"></div>
    <script src="/hello-chat.js"></script></body></html>`);
  await page.waitForFunction(() => document.querySelectorAll('[data-hello-chat-host]').length === 2);
  await page.waitForFunction(() => window.HelloChat && document.getElementById('c').helloChat);
  assert.equal(await page.evaluate(() => [...document.querySelectorAll('[data-hello-chat]')].map((el) => Boolean(el.helloChat)).join()), 'true,false,true');
  await page.waitForTimeout(100);
  assert.deepEqual(errors, ['HelloChat.mount: room "bad room!" must be 1-64 characters of A-Z a-z 0-9 _ -']);
  // Every data-* option counts, data-dir too.
  assert.equal(await page.evaluate(() => document.querySelector('#c [data-hello-chat-host]').shadowRoot.querySelector('[dir]')?.getAttribute('dir')), 'rtl');
  await context.close();
});

test('a server without its scheme is refused at once (it looked like an outage, retried for ever)', async () => {
  const context = await browser.newContext();
  const page = await apiPage(context);
  const thrown = await page.evaluate(() => ['chat.example.com', 'localhost:8787', 'wss://chat.example.com'].map((server) => {
    try { HelloChat.mount(document.getElementById('chat'), { room: 'lobby', server }).destroy(); return null; } catch (err) { return err.message; }
  }));
  assert.deepEqual(thrown, ['chat.example.com', 'localhost:8787', 'wss://chat.example.com']
    .map((s) => `HelloChat.mount: server "${s}" must start with https:// or http://`));
  await context.close();
});

test('a server written with its scheme in capitals (HTTP://, as URLs allow) connects, the widget and connect alike', async () => {
  const server = BASE.replace(/^http/, 'HTTP');
  const page = await widgetPage(await browser.newContext(), { room: uniqueRoom('caps'), server });
  await waitForStatus(page, 'connected');
  const status = await page.evaluate(async (s) => {
    await new Promise((resolve) => { const el = document.createElement('script'); el.src = '/hello-chat-headless.js'; el.onload = resolve; document.head.append(el); });
    const client = HelloChat.connect({ room: 'caps-headless', server: s });
    const seen = await new Promise((resolve) => { client.on('status', (d) => { if (d.status !== 'connecting') resolve(d.status); }); });
    client.close();
    return seen;
  }, server);
  assert.equal(status, 'connected');
  await page.context().close();
});

test('the widget\'s handle throws a TypeError for wrong arguments, as the headless client does, and sends nothing', async () => {
  const room = uniqueRoom('args');
  const context = await browser.newContext();
  try {
    const page = await widgetPage(context, { room, name: 'Ada' });
    await waitForStatus(page, 'connected');
    const thrown = await page.evaluate(() => {
      const c = window.chat;
      const calls = {
        'send()': () => c.send(),
        'send({})': () => c.send({ text: 'hi' }),
        'reply("x")': () => c.reply('x', 'hi'),
        'edit(1.5)': () => c.edit(1.5, 'hi'),
        'remove()': () => c.remove(),
        'react(1)': () => c.react(1),
      };
      return Object.fromEntries(Object.entries(calls).map(([k, f]) => {
        try { return [k, `returned ${f()}`]; } catch (err) { return [k, `${err.constructor.name}: ${err.message}`]; }
      }));
    });
    for (const [call, outcome] of Object.entries(thrown)) assert.match(outcome, /^TypeError: HelloChat: /, call);
    // Before, send() posted the text "undefined" and edit(1.5) edited message 1.
    await page.evaluate(() => window.chat.send('the only one'));
    await page.locator('.hc-list .hc-msg[data-seq]', { hasText: 'the only one' }).waitFor();
    const audit = await join(room, 'Audit');
    assert.deepEqual(audit.history.messages.map((m) => m.message), ['the only one']);
    await audit.close();
  } finally {
    await context.close();
  }
});
