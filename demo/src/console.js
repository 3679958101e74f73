// The moderation console (/console.html): a site's owner signs in with the
// site id and a site key, and moderates through the site API on this origin
// (docs/api.md, "Site API"): rooms, what is in force in a room (who is online,
// lock, slow mode, pin, mutes and bans), open reports, latest messages, delete,
// dismiss, mute, ban, unmute, unban, pin, unpin, slow mode, lock, bot messages.
//
// The key controls the whole site. It is kept in sessionStorage only (gone
// with the tab), sent only in the Authorization header of same-origin fetches,
// never put in a URL. Everything that comes from the API (names, messages,
// notes, room ids) is rendered as text (textContent, setAttribute), never as
// HTML; the page runs under a strict CSP (demo/_headers): no inline script or
// style, so no `style` attributes either.

const SESSION_KEY = 'hello-chat-console';
const SITE_KEY = 'hello-chat-console-site';
const BOT_NAME_KEY = 'hello-chat-console-bot-name';
const THEME_KEY = 'hello-chat-demo-theme';
const PAGE = 50;
const DURATIONS = [
  [600, '10 minutes'],
  [3600, '1 hour'],
  [86400, '1 day'],
  [0, 'for good'],
];

const $ = (id) => document.getElementById(id);

/** An element: `props` sets className, text, hidden, attributes (`attrs`) and listeners (`on`). */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  if (props.hidden) node.hidden = true;
  for (const [k, v] of Object.entries(props.attrs ?? {})) {
    if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const [k, v] of Object.entries(props.on ?? {})) node.addEventListener(k, v);
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const localTime = (ms) => new Date(ms).toLocaleString();
const timeEl = (ms) => el('time', { attrs: { datetime: new Date(ms).toISOString() }, text: localTime(ms) });
const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const senderName = (m) => (m?.name ? m.name : 'Someone');
const durationText = (seconds) => DURATIONS.find(([s]) => s === seconds)?.[1] ?? `${seconds} s`;

// ---- Theme (shared with the demo pages) ----

let theme = localStorage.getItem(THEME_KEY) || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
function applyTheme() {
  document.documentElement.dataset.theme = theme;
  $('theme-toggle').setAttribute('aria-pressed', String(theme === 'dark'));
  $('theme-toggle').textContent = theme === 'dark' ? 'Light theme' : 'Dark theme';
}
$('theme-toggle').addEventListener('click', () => {
  theme = theme === 'dark' ? 'light' : 'dark';
  localStorage.setItem(THEME_KEY, theme);
  applyTheme();
});
applyTheme();

// ---- Results: one live region ----

const statusEl = $('status');
let statusTimer;
/** Tell the result of an action (polite live region); `error` styles it as one. */
function say(text, error = false) {
  clearTimeout(statusTimer);
  // Emptied first so that the same text twice is announced twice.
  statusEl.textContent = '';
  statusEl.classList.toggle('error', error);
  statusTimer = setTimeout(() => {
    statusEl.textContent = text;
    // Results fade after a while (they were announced); errors stay until the next result.
    if (!error) statusTimer = setTimeout(() => { statusEl.textContent = ''; }, 10000);
  }, 30);
}

// ---- The API ----

class ApiError extends Error {
  constructor(status, body, fallback) {
    const code = body?.error;
    const message = body?.message;
    super(status
      ? `${status}${code ? ` ${code}` : ''}: ${message || fallback || 'the server refused the request'}`
      : fallback);
    this.status = status;
    this.code = code;
  }
}

let session = null; // { site, key }

/** A call to `/v1/sites/{site}<path>` with the site key; the answer's JSON or an ApiError. */
async function api(method, path, body, creds = session) {
  let res;
  try {
    res = await fetch(`/v1/sites/${encodeURIComponent(creds.site)}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${creds.key}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
  } catch (err) {
    throw new ApiError(0, null, `Could not reach the server (${err.message}). Check the connection and try again.`);
  }
  let data = null;
  try { data = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) {
    const err = new ApiError(res.status, data, res.statusText);
    if (res.status === 401 && creds === session) signOut(`The site key was refused (${err.message}). Sign in again.`);
    throw err;
  }
  return data;
}

const roomPath = (room) => `/rooms/${encodeURIComponent(room)}`;

// ---- Sign in and out ----

function storeSession(s) {
  if (s) sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
  else sessionStorage.removeItem(SESSION_KEY);
}

function loadSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
    return s && typeof s.site === 'string' && typeof s.key === 'string' ? s : null;
  } catch {
    return null;
  }
}

function showSignIn(error = '') {
  $('workspace').hidden = true;
  $('sign-in').hidden = false;
  $('who').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in-error').textContent = error;
}

function showWorkspace() {
  $('sign-in').hidden = true;
  $('workspace').hidden = false;
  $('who').hidden = false;
  $('who').textContent = `Site ${session.site}`;
  $('sign-out').hidden = false;
  $('sign-out').textContent = `Sign out of ${session.site}`;
}

function signOut(message) {
  session = null;
  storeSession(null);
  closePanel(false);
  rooms = { items: [], next: null };
  current = null;
  $('room-list').replaceChildren();
  $('report-list').replaceChildren();
  $('message-list').replaceChildren();
  $('muted-list').replaceChildren();
  $('banned-list').replaceChildren();
  $('room').hidden = true;
  $('site-key').value = '';
  showSignIn(message ?? '');
  if (message) {
    $('site-key').setAttribute('aria-invalid', 'true');
    $('site-key').focus();
  } else {
    say('Signed out. The key is forgotten.');
    $('site-id').focus();
  }
}

$('sign-out').addEventListener('click', () => signOut());

let signingIn = false;
$('sign-in-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (signingIn) return;
  const site = $('site-id').value.trim();
  const key = $('site-key').value.trim();
  for (const id of ['site-id', 'site-key']) $(id).removeAttribute('aria-invalid');
  const field = !site ? 'site-id' : !key ? 'site-key' : null;
  if (field) {
    $('sign-in-error').textContent = field === 'site-id' ? 'Enter the site id.' : 'Enter the site key.';
    $(field).setAttribute('aria-invalid', 'true');
    $(field).focus();
    return;
  }
  signingIn = true;
  const button = $('sign-in-button');
  button.setAttribute('aria-disabled', 'true');
  button.textContent = 'Signing in…';
  $('sign-in-error').textContent = '';
  try {
    const creds = { site, key };
    await api('GET', '', undefined, creds);
    session = creds;
    storeSession(session);
    localStorage.setItem(SITE_KEY, site);
    $('site-key').value = '';
    showWorkspace();
    say(`Signed in to ${site}.`);
    $('rooms-title').focus();
    await loadRooms();
  } catch (err) {
    $('sign-in-error').textContent = `Could not sign in: ${err.message}`;
    const bad = err.status === 400 || err.status === 403 || err.status === 404 ? 'site-id' : 'site-key';
    if (err.status) $(bad).setAttribute('aria-invalid', 'true');
    $(bad).focus();
  } finally {
    signingIn = false;
    button.removeAttribute('aria-disabled');
    button.textContent = 'Sign in';
  }
});

// ---- Rooms ----

let rooms = { items: [], next: null };
// `overview`: what is in force (GET /rooms/{room}), or null with `overviewError`;
// `names`: sender key -> the latest name seen in the messages and reports loaded.
let current = null; // { room, reports, reportsNext, messages, earlier, overview, overviewError, names }

async function loadRooms(more = false) {
  try {
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (more && rooms.next) query.set('cursor', rooms.next);
    const page = await api('GET', `/rooms?${query}`);
    rooms = { items: more ? [...rooms.items, ...page.rooms] : page.rooms, next: page.next ?? null };
    renderRooms();
    return page.rooms;
  } catch (err) {
    say(`Could not load the rooms: ${err.message}`, true);
    return [];
  }
}

function renderRooms() {
  const filter = $('room-filter').value.trim().toLowerCase();
  const list = $('room-list');
  list.replaceChildren();
  let shown = 0;
  for (const r of rooms.items) {
    const match = !filter || r.room.toLowerCase().includes(filter);
    if (!match) continue;
    shown++;
    const button = el('button', {
      className: 'room-button',
      attrs: { type: 'button', 'data-room': r.room, 'aria-current': current?.room === r.room ? 'true' : null },
      on: { click: () => openRoom(r.room) },
    },
    el('span', { className: 'room-name', text: r.room }),
    el('span', { className: 'room-meta' },
      plural(r.messages, 'message'), ', last active ', r.lastActivity ? timeEl(r.lastActivity) : 'never'));
    list.append(el('li', {}, button));
  }
  const total = rooms.items.length;
  const more = rooms.next ? ' (more to load)' : '';
  $('rooms-count').textContent = total === 0
    ? 'No rooms yet: a room appears once someone writes in it.'
    : filter ? `${shown} of ${plural(total, 'room')} match${more}.` : `${plural(total, 'room')}${more}.`;
  $('more-rooms').hidden = !rooms.next;
}

$('room-filter').addEventListener('input', renderRooms);
$('reload-rooms').addEventListener('click', async () => {
  await loadRooms();
  say(`Rooms reloaded: ${plural(rooms.items.length, 'room')}${rooms.next ? ', more to load' : ''}.`);
});
$('more-rooms').addEventListener('click', async () => {
  const before = rooms.items.length;
  const added = await loadRooms(true);
  say(`${plural(added.length, 'more room')} loaded.`);
  // Focus the first new room, or the list's heading when there is none to show.
  const first = $('room-list').querySelectorAll('.room-button')[before];
  (first || ($('more-rooms').hidden ? $('rooms-title') : $('more-rooms'))).focus();
});

// ---- A room ----

async function openRoom(room) {
  closePanel(false);
  current = { room, reports: [], reportsNext: null, reportsMore: false, messages: [], earlier: null,
    overview: null, overviewError: null, names: new Map() };
  for (const b of document.querySelectorAll('.room-button')) {
    if (b.dataset.room === room) b.setAttribute('aria-current', 'true');
    else b.removeAttribute('aria-current');
  }
  $('room').hidden = false;
  $('room-title').textContent = `Room ${room}`;
  $('report-list').replaceChildren();
  $('message-list').replaceChildren();
  $('room-state').hidden = true;
  $('room-updated').textContent = 'Loading…';
  $('room-title').focus();
  const ok = await loadRoom();
  if (ok && current?.room === room) {
    say(`Room ${room}: ${plural(groupReports(current.reports).length, 'reported message')}, ${plural(current.messages.length, 'message')} shown.`);
  }
}

/** What is in force, the first page of reports and of messages, afresh. */
async function loadRoom() {
  const { room } = current;
  try {
    const [, reports, messages] = await Promise.all([
      reloadOverview(),
      api('GET', `${roomPath(room)}/reports?limit=${PAGE}`),
      api('GET', `${roomPath(room)}/messages?limit=${PAGE}`),
    ]);
    if (current?.room !== room) return false;
    current.reports = reports.reports;
    current.reportsNext = reports.more ? reports.next : null;
    current.messages = messages.messages;
    current.earlier = messages.more ? messages.next : null;
    renderRoom();
    $('room-updated').textContent = `Updated ${new Date().toLocaleTimeString()}.`;
    return true;
  } catch (err) {
    if (current?.room === room) $('room-updated').textContent = '';
    if (session) say(`Could not load room ${room}: ${err.message}`, true);
    return false;
  }
}

/**
 * What is in force in the room: online count, lock, slow mode, pin, mutes and
 * bans. Never throws: when it cannot be read the panel says so, and the rest
 * of the room is still shown.
 */
async function reloadOverview() {
  const { room } = current;
  let overview = null;
  let error = null;
  try {
    overview = await api('GET', roomPath(room));
  } catch (err) {
    error = err;
  }
  if (current?.room !== room) return;
  current.overview = overview;
  current.overviewError = error;
}

/** Reload the reports (as many pages as were shown, at most 100). */
async function reloadReports() {
  const { room } = current;
  const limit = Math.min(100, Math.max(PAGE, current.reports.length));
  const page = await api('GET', `${roomPath(room)}/reports?limit=${limit}`);
  if (current?.room !== room) return;
  current.reports = page.reports;
  current.reportsNext = page.more ? page.next : null;
}

/** Fetch message `seq` again (its current state) and put it in place. */
async function reloadMessage(seq) {
  const { room } = current;
  const page = await api('GET', `${roomPath(room)}/messages?after=${seq - 1}&limit=1`);
  if (current?.room !== room) return;
  const fresh = page.messages.find((m) => m.seq === seq);
  current.messages = current.messages.map((m) => (m.seq === seq && fresh ? fresh : m));
}

/** Messages after the last one shown (a bot post, news since). */
async function loadNewer() {
  const { room } = current;
  let after = current.messages.at(-1)?.seq ?? 0;
  for (let i = 0; i < 5; i++) {
    const page = await api('GET', `${roomPath(room)}/messages?after=${after}&limit=100`);
    if (current?.room !== room) return;
    const known = new Set(current.messages.map((m) => m.seq));
    current.messages.push(...page.messages.filter((m) => !known.has(m.seq)));
    if (!page.more || page.next === undefined) break;
    after = page.next;
  }
}

/** The open reports, one group per reported message, in the order of their newest report. */
function groupReports(reports) {
  const groups = new Map();
  for (const r of reports) {
    if (!groups.has(r.target)) groups.set(r.target, { target: r.target, message: r.message, count: r.reports, reasons: r.reasons, items: [] });
    groups.get(r.target).items.push(r);
  }
  return [...groups.values()];
}

function renderRoom() {
  renderState();
  const groups = groupReports(current.reports);
  $('report-list').replaceChildren(...groups.map(reportCard));
  $('reports-empty').hidden = groups.length > 0;
  $('more-reports').hidden = !current.reportsNext;
  $('reports-title').textContent = groups.length ? `Open reports (${groups.length}${current.reportsNext ? '+' : ''})` : 'Open reports';
  $('message-list').replaceChildren(...current.messages.map(messageCard));
  $('messages-empty').hidden = current.messages.length > 0;
  $('earlier').hidden = !current.earlier;
}

// ---- What is in force ----

const shortKey = (key) => (key.length > 8 ? `${key.slice(0, 8)}…` : key);

/** Sender keys to names, from what the console has loaded (sanctions carry no names); the latest seen wins. */
function learnNames() {
  const { names } = current;
  const learn = (m) => { if (m?.sender && m.name) names.set(m.sender, m.name); };
  for (const r of current.reports) { learn(r.reporter); learn(r.message); }
  for (const m of current.messages) { learn(m.replyTo); learn(m); }
  learn(current.overview?.pinned);
}

/** The panel at the top of the room: online, lock, slow mode, the pinned message, mutes and bans. */
function renderState() {
  learnNames();
  const o = current.overview;
  const error = current.overviewError;
  $('room-state').hidden = !o && !error;
  $('state-error').hidden = !error;
  $('state-error').textContent = error ? `Could not read what is in force: ${error.message}` : '';
  $('state-online').hidden = !o;
  $('state-online').textContent = o ? `${o.online} online now` : '';
  // Unknown (not read): both buttons.
  $('lock-state').textContent = !o ? 'Lock not known' : o.locked ? 'Locked' : 'Not locked';
  $('lock-state').classList.toggle('is-on', Boolean(o?.locked));
  $('lock').hidden = o?.locked === true;
  $('unlock').hidden = o?.locked === false;
  // The select shows the slow mode in force, marked "(in force)", and follows it when it
  // changes, unless the owner has picked another value meanwhile (not yet set: kept).
  const select = $('slow-seconds');
  const seconds = o ? Number(o.slowMode) || 0 : null;
  if (o && current.slowShown !== seconds) {
    const moved = current.slowShown === undefined || select.value === String(current.slowShown);
    current.slowShown = seconds;
    const chosen = select.value;
    select.querySelector('[data-extra]')?.remove();
    if (![...select.options].some((opt) => Number(opt.value) === seconds)) {
      select.append(el('option', { text: `${seconds} seconds`, attrs: { value: seconds, 'data-extra': true } }));
    }
    for (const opt of select.options) {
      opt.dataset.label ??= opt.textContent;
      opt.textContent = Number(opt.value) === seconds ? `${opt.dataset.label} (in force)` : opt.dataset.label;
    }
    select.value = moved || ![...select.options].some((opt) => opt.value === chosen) ? String(seconds) : chosen;
  }
  $('state-pinned').hidden = !o;
  $('sanctions').hidden = !o;
  if (!o) return;
  const pin = o.pinned;
  $('pinned-body').replaceChildren(...(pin
    ? [messageMeta(pin), ...messageBody(pin),
      el('div', { className: 'actions' }, el('button', {
        className: 'secondary', text: 'Unpin',
        attrs: { type: 'button', id: 'unpin', 'aria-label': `Unpin message #${pin.seq} by ${senderName(pin)}` },
        on: { click: (e) => roomAction(e.currentTarget, { action: 'unpin', target: pin.seq },
          `Message #${pin.seq} by ${senderName(pin)} unpinned in ${current.room}.`, 'unpin', () => $('state-pinned')) },
      }))]
    : [el('p', { className: 'hint', text: 'Nothing pinned.' })]));
  renderSanctions('muted');
  renderSanctions('banned');
}

/** The mutes or bans in force, each with whom (the name when known), until when, and the button that lifts it. */
function renderSanctions(kind) {
  const list = $(`${kind}-list`);
  const items = Array.isArray(current.overview[kind]) ? current.overview[kind] : [];
  const [verb, action, title] = kind === 'muted' ? ['Unmute', 'unmute', 'Muted'] : ['Unban', 'unban', 'Banned'];
  const names = items.map((s) => current.names.get(s.sender) ?? null);
  const seen = new Map();
  for (const n of names) if (n) seen.set(n, (seen.get(n) ?? 0) + 1);
  list.replaceChildren(...items.map((s, i) => {
    const name = names[i];
    const key = el('code', { className: 'key', text: shortKey(s.sender), attrs: { title: s.sender } });
    // Two senders of the same name are told apart by their keys.
    const twin = name && seen.get(name) > 1;
    const who = !name ? shortKey(s.sender) : twin ? `${name} (${shortKey(s.sender)})` : name;
    return el('li', { className: 'sanction', attrs: { 'data-sender': s.sender } },
      el('p', {},
        name ? el('span', { className: 'name', text: name }) : key,
        twin ? [' ', key] : null,
        name ? null : el('span', { className: 'unknown', text: ' (name unknown)' }),
        el('span', { className: 'until' }, s.until ? [' until ', timeEl(s.until)] : ' for good')),
      el('button', {
        className: 'secondary', text: `${verb} ${who}`,
        attrs: { type: 'button', 'data-action': action },
        on: { click: (e) => liftSanction(e.currentTarget, kind, action, s.sender, who) },
      }));
  }));
  $(`${kind}-empty`).hidden = items.length > 0;
  $(`${kind}-title`).textContent = items.length ? `${title} (${items.length})` : title;
}

/** Unmute or unban from the lists; focus then goes to the same sender if still listed, else the next, else the list's heading. */
function liftSanction(button, kind, action, sender, who) {
  const list = $(`${kind}-list`);
  const index = [...list.children].indexOf(button.closest('li'));
  roomAction(button, { action, sender }, `${who} ${action === 'unmute' ? 'unmuted' : 'unbanned'}.`, `${action} ${who}`, () => {
    const items = [...$(`${kind}-list`).children];
    const item = items.find((li) => li.dataset.sender === sender) ?? items[index] ?? items[index - 1];
    return item?.querySelector('button') ?? $(`${kind}-title`);
  });
}

/** What a message says: its text, or that it is deleted; files and the quote it replies to. */
function messageBody(m) {
  const parts = [];
  if (m.replyTo) {
    parts.push(el('p', { className: 'quote' }, `Replying to ${senderName(m.replyTo)}: `,
      m.replyTo.deleted ? el('em', { text: 'deleted message' }) : (m.replyTo.excerpt ?? '')));
  }
  if (m.deleted) parts.push(el('p', { className: 'text deleted', text: 'Message deleted.' }));
  else if (m.message) parts.push(el('p', { className: 'text', text: m.message }));
  if (Array.isArray(m.files) && m.files.length) {
    parts.push(el('p', { className: 'files' }, `Files: ${m.files.map((f) => f?.name ?? 'file').join(', ')}`));
  }
  return parts;
}

function messageMeta(m) {
  return el('p', { className: 'meta' },
    el('span', { className: 'name', text: senderName(m) }),
    m.role ? el('span', { className: 'badge', text: m.role }) : null,
    m.verified && !m.role ? el('span', { className: 'badge', text: 'verified' }) : null,
    ' ', timeEl(m.timestamp),
    m.edited && !m.deleted ? el('span', { className: 'edited', text: ' (edited)' }) : null,
    el('span', { className: 'seq', text: ` #${m.seq}` }));
}

function messageCard(m) {
  return el('li', { className: `card${m.deleted ? ' is-deleted' : ''}`, attrs: { id: `m-${m.seq}`, tabindex: '-1', 'data-seq': m.seq } },
    messageMeta(m), messageBody(m), m.deleted ? null : actionBar(m, false));
}

function reportCard(g) {
  const m = g.message ?? { seq: g.target, name: '', message: '' };
  const reasons = Object.entries(g.reasons ?? {}).map(([r, n]) => `${r} ${n}`).join(', ');
  const title = el('h4', { text: `${senderName(m)}'s message #${g.target}: ${plural(g.count ?? g.items.length, 'open report')}` });
  const items = el('ul', { className: 'report-items' }, g.items.map((r) => {
    const seen = r.reported;
    const changed = seen && (seen.message !== m.message || (m.edited && m.edited !== seen.edited) || m.deleted);
    return el('li', {},
      el('p', {},
        'Reported by ', el('strong', { text: r.reporter?.name || 'Someone' }),
        r.reporter?.verified ? ' (verified)' : '', ' ', timeEl(r.timestamp),
        ' for ', el('strong', { text: r.reason })),
      r.note ? el('p', { className: 'note' }, 'Note: ', el('q', { text: r.note })) : null,
      seen
        ? el('div', { className: 'evidence' },
          el('p', { className: 'label', text: changed ? 'As reported (changed since):' : 'As reported (unchanged):' }),
          el('p', { className: 'text', text: seen.message ?? '' }),
          Array.isArray(seen.files) && seen.files.length ? el('p', { className: 'files', text: `Files: ${seen.files.join(', ')}` }) : null)
        : el('p', { className: 'hint', text: 'No copy of the message as reported (an older report).' }));
  }));
  return el('li', { className: 'card report', attrs: { id: `r-${g.target}`, tabindex: '-1', 'data-seq': g.target } },
    title,
    el('p', { className: 'hint', text: reasons ? `Reasons: ${reasons}.` : '' }),
    el('p', { className: 'label', text: 'The message now:' }),
    messageMeta(m), messageBody(m),
    items,
    actionBar(m, true));
}

// ---- Actions ----

/** The buttons under a message; in a report card Dismiss comes first. */
function actionBar(m, inReport) {
  const who = senderName(m);
  const bar = el('div', { className: 'actions', attrs: { role: 'group', 'aria-label': `Actions on message #${m.seq}` } });
  const add = (action, text, label, handler, kind = 'secondary') =>
    bar.append(el('button', { className: kind, text, attrs: { type: 'button', 'data-action': action, 'aria-label': label }, on: { click: handler } }));
  if (inReport) {
    add('dismiss', 'Dismiss reports', `Dismiss reports on message #${m.seq} by ${who}`, (e) =>
      act(e.currentTarget, { kind: 'report', seq: m.seq, action: 'dismiss' }, () => moderate({ action: 'dismiss', target: m.seq }),
        `Reports on message #${m.seq} dismissed.`));
  }
  if (!m.deleted) {
    add('delete', 'Delete message', `Delete message #${m.seq} by ${who}`, (e) => openPanel(e.currentTarget, m, 'delete', inReport), 'danger');
  }
  const canSanction = m.sender && !m.role;
  if (canSanction) {
    add('mute', `Mute ${who}`, null, (e) => openPanel(e.currentTarget, m, 'mute', inReport));
    add('ban', `Ban ${who}`, null, (e) => openPanel(e.currentTarget, m, 'ban', inReport), 'danger');
  }
  if (!inReport && !m.deleted) {
    add('pin', 'Pin', `Pin message #${m.seq} by ${who}`, (e) =>
      act(e.currentTarget, { kind: 'message', seq: m.seq, action: 'pin' }, () => moderate({ action: 'pin', target: m.seq }),
        `Message #${m.seq} pinned above the room.`));
  }
  return bar;
}

const moderate = (body) => api('POST', `${roomPath(current.room)}/moderation`, body);

let panel = null; // { node, opener }

function closePanel(refocus = true) {
  if (!panel) return;
  const { node, opener } = panel;
  panel = null;
  node.remove();
  if (refocus && opener.isConnected) opener.focus();
}

/** The inline confirmation under a message: delete, or mute / ban with a duration and a reason. */
function openPanel(opener, m, action, inReport) {
  const reopen = panel?.opener === opener;
  closePanel(false);
  if (reopen) { opener.focus(); return; }
  const who = senderName(m);
  const card = opener.closest('.card');
  const kind = inReport ? 'report' : 'message';
  const id = `panel-${kind}-${m.seq}-${action}`;
  const node = el('div', { className: 'confirm', attrs: { role: 'group', id, 'aria-labelledby': `${id}-title` } });
  node.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.preventDefault(); closePanel(); }
  });
  const cancel = el('button', { className: 'secondary', text: 'Cancel', attrs: { type: 'button' }, on: { click: () => closePanel() } });
  if (action === 'delete') {
    node.append(el('p', { attrs: { id: `${id}-title` }, text: `Delete message #${m.seq} by ${who} for everyone? This cannot be undone.` }));
    const go = el('button', { className: 'danger', text: 'Delete message', attrs: { type: 'button', 'data-confirm': 'delete' } });
    go.addEventListener('click', () => act(go, { kind, seq: m.seq, action: 'delete' },
      () => api('DELETE', `${roomPath(current.room)}/messages/${m.seq}`), `Message #${m.seq} by ${who} deleted.`));
    node.append(el('div', { className: 'buttons' }, go, cancel));
  } else {
    const verb = action === 'mute' ? 'Mute' : 'Ban';
    const undo = action === 'mute' ? 'Unmute' : 'Unban';
    const select = el('select', { attrs: { id: `${id}-for` } },
      DURATIONS.map(([s, text]) => el('option', { text, attrs: { value: s } })));
    select.value = action === 'mute' ? '600' : '86400';
    const reason = el('input', { attrs: { id: `${id}-reason`, maxlength: '200', autocomplete: 'off' } });
    node.append(
      el('p', { attrs: { id: `${id}-title` }, text: action === 'mute'
        ? `Mute ${who}: they can read but not write.`
        : `Ban ${who}: they are disconnected and cannot join this room (anonymous visitors: their address too).` }),
      el('div', { className: 'field-inline' }, el('label', { attrs: { for: select.id }, text: 'For' }), select),
      el('div', { className: 'field-inline' }, el('label', { attrs: { for: reason.id }, text: 'Reason (optional)' }), reason));
    const go = el('button', { className: action === 'ban' ? 'danger' : 'primary', text: `${verb} ${who}`, attrs: { type: 'button', 'data-confirm': action } });
    go.addEventListener('click', () => {
      const seconds = Number(select.value);
      const body = { action, sender: m.sender, ...(seconds ? { seconds } : {}), ...(reason.value.trim() ? { reason: reason.value.trim() } : {}) };
      act(go, { kind, seq: m.seq, action }, () => moderate(body),
        `${who} ${action === 'mute' ? 'muted' : 'banned'} ${seconds ? `for ${durationText(seconds)}` : 'for good'}.`);
    });
    const lift = el('button', { className: 'secondary', text: `${undo} ${who}`, attrs: { type: 'button', 'data-confirm': `un${action}` } });
    lift.addEventListener('click', () => act(lift, { kind, seq: m.seq, action, verb: `un${action}` }, () => moderate({ action: `un${action}`, sender: m.sender }),
      `${who} ${action === 'mute' ? 'unmuted' : 'unbanned'}.`));
    node.append(el('div', { className: 'buttons' }, go, lift, cancel));
  }
  opener.closest('.actions').after(node);
  panel = { node, opener };
  (node.querySelector('select') || node.querySelector('[data-confirm]')).focus();
  card?.scrollIntoView?.({ block: 'nearest' });
}

let busy = false;

/** One action at a time: a click meanwhile is told so, not dropped unsaid. */
function stillBusy() {
  if (busy) say('Still working on the last action: try again in a moment.');
  return busy;
}

/** `text` about `room`, naming it if the owner has opened another room since. */
const about = (room, text) => (current?.room === room ? text : `In ${room}: ${text}`);

/**
 * Run an action: `call` is the API request. Then the room's reports and the
 * message are read again and shown, and focus goes back where it makes sense:
 * the same button on the same card, else the card, else the next card in the
 * list, else the list's heading.
 */
async function act(button, { kind, seq, action, verb = action }, call, success) {
  if (stillBusy()) return;
  busy = true;
  const room = current.room;
  const card = button.closest('.card');
  const list = card?.parentElement;
  const index = list ? [...list.children].indexOf(card) : -1;
  const listId = list?.id;
  button.setAttribute('aria-disabled', 'true');
  card?.setAttribute('aria-busy', 'true');
  try {
    await call();
    say(about(room, success));
  } catch (err) {
    say(about(room, `Could not ${verb} (message #${seq}): ${err.message}`), true);
    button.removeAttribute('aria-disabled');
    card?.removeAttribute('aria-busy');
    busy = false;
    if (button.isConnected) button.focus();
    return;
  }
  try {
    if (current?.room === room) {
      await Promise.all([reloadReports(), reloadMessage(seq), reloadOverview()]);
    }
  } catch (err) {
    say(`${success} The room could not be read again: ${err.message}`, true);
  }
  busy = false;
  if (current?.room !== room) return;
  closePanel(false);
  renderRoom();
  const prefix = kind === 'report' ? 'r' : 'm';
  const same = $(`${prefix}-${seq}`);
  const again = same?.querySelector(`[data-action="${action}"]`);
  if (again) again.focus();
  else if (same) same.focus();
  else {
    const next = listId && ($(listId).children[index] || $(listId).children[index - 1]);
    (next || $(kind === 'report' ? 'reports-title' : 'messages-title')).focus();
  }
}

$('more-reports').addEventListener('click', async () => {
  const { room } = current;
  try {
    const before = groupReports(current.reports).length;
    const page = await api('GET', `${roomPath(room)}/reports?limit=${PAGE}&before=${current.reportsNext}`);
    if (current?.room !== room) return;
    const known = new Set(current.reports.map((r) => r.id));
    current.reports.push(...page.reports.filter((r) => !known.has(r.id)));
    current.reportsNext = page.more ? page.next : null;
    renderRoom();
    const cards = $('report-list').children;
    say(`${plural(cards.length - before, 'more reported message')} loaded.`);
    (cards[before] || $('reports-title')).focus();
  } catch (err) {
    say(`Could not load more reports: ${err.message}`, true);
  }
});

$('earlier').addEventListener('click', async () => {
  const { room } = current;
  try {
    const page = await api('GET', `${roomPath(room)}/messages?limit=${PAGE}&before=${current.earlier}`);
    if (current?.room !== room) return;
    const known = new Set(current.messages.map((m) => m.seq));
    const added = page.messages.filter((m) => !known.has(m.seq));
    current.messages.unshift(...added);
    current.earlier = page.more ? page.next : null;
    renderRoom();
    say(`${plural(added.length, 'earlier message')} loaded.`);
    // The newest of the earlier ones: where reading back goes on.
    const last = added.at(-1);
    (last ? $(`m-${last.seq}`) : $('messages-title')).focus();
  } catch (err) {
    say(`Could not load earlier messages: ${err.message}`, true);
  }
});

$('refresh').addEventListener('click', async () => {
  closePanel(false);
  if (await loadRoom()) say(`Room ${current.room} refreshed.`);
});

/**
 * An action on what is in force (slow mode, lock, unlock, unpin, unmute,
 * unban) from `button`: then the panel is read again, and when `button` is
 * gone or hidden focus goes to what `refocus` answers.
 */
async function roomAction(button, body, success, failure, refocus) {
  if (stillBusy()) return;
  busy = true;
  const { room } = current;
  button.setAttribute('aria-disabled', 'true');
  try {
    await moderate(body);
  } catch (err) {
    say(about(room, `Could not ${failure}: ${err.message}`), true);
    busy = false;
    button.removeAttribute('aria-disabled');
    return;
  }
  say(about(room, success));
  await reloadOverview();
  busy = false;
  button.removeAttribute('aria-disabled');
  if (current?.room !== room) return;
  if (current.overviewError) say(`${success} What is in force could not be read again: ${current.overviewError.message}`, true);
  renderState();
  if (!button.isConnected || button.hidden) refocus?.()?.focus();
}

$('slow-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const seconds = Number($('slow-seconds').value);
  roomAction(e.submitter || $('slow-form').querySelector('button'), { action: 'slow', seconds },
    seconds ? `Slow mode in ${current.room}: one message per ${seconds} seconds per member.` : `Slow mode off in ${current.room}.`,
    'set slow mode');
});
// Lock and Unlock: the one that applies shows; after it, focus goes to the other (what undoes it).
$('lock').addEventListener('click', (e) => roomAction(e.currentTarget, { action: 'lock' },
  `Room ${current.room} locked: only moderators can write.`, 'lock', () => $('unlock')));
$('unlock').addEventListener('click', (e) => roomAction(e.currentTarget, { action: 'unlock' },
  `Room ${current.room} unlocked.`, 'unlock', () => $('lock')));

// A bot message: its id is drawn once per text, so a retry of the same text
// (a lost answer, a double click) never posts it twice.
let pendingPost = null; // { room, name, text, id }
$('bot-name').value = localStorage.getItem(BOT_NAME_KEY) || 'Site';
$('bot-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (stillBusy()) return;
  const name = $('bot-name').value.trim();
  const text = $('bot-text').value;
  if (!name || !text.trim()) {
    say(!name ? 'Enter the bot\'s name.' : 'Write the message first.', true);
    $(!name ? 'bot-name' : 'bot-text').focus();
    return;
  }
  const { room } = current;
  if (!pendingPost || pendingPost.room !== room || pendingPost.name !== name || pendingPost.text !== text) {
    const random = crypto.getRandomValues(new Uint8Array(12));
    pendingPost = { room, name, text, id: `console-${[...random].map((b) => b.toString(16).padStart(2, '0')).join('')}` };
  }
  busy = true;
  const button = $('bot-form').querySelector('button[type=submit]');
  button.setAttribute('aria-disabled', 'true');
  try {
    const res = await api('POST', `${roomPath(room)}/messages`, { name, message: text, id: pendingPost.id });
    pendingPost = null;
    localStorage.setItem(BOT_NAME_KEY, name);
    $('bot-text').value = '';
    say(`Posted in ${room} as ${name} (message #${res.seq}).`);
    if (current?.room === room) {
      await Promise.all([loadNewer().catch(() => {}), reloadOverview()]);
      if (current?.room === room) renderRoom();
    }
    $('bot-text').focus();
  } catch (err) {
    say(`Could not post: ${err.message}`, true);
  } finally {
    busy = false;
    button.removeAttribute('aria-disabled');
  }
});

// ---- Start ----

$('site-id').value = localStorage.getItem(SITE_KEY) || '';
session = loadSession();
if (session) {
  showWorkspace();
  loadRooms();
} else {
  showSignIn();
}
