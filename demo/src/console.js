// The moderation console (/console.html): a site's owner signs in with the
// site id and a site key, and moderates through the site API on this origin
// (docs/api.md, "Site API"): rooms, what is in force in a room (who is online,
// lock, slow mode, pin, mutes and bans), open reports, latest messages, delete,
// dismiss, mute, ban, unmute, unban, pin, unpin, slow mode, lock, bot messages.
//
// The key controls the whole site. It is kept in this page's memory, and in
// sessionStorage only while the page is shown (docs/security.md, "The
// moderation console's key"), sent only in the Authorization header of
// same-origin fetches, never put in a URL. Everything that comes from the API
// (names, messages, notes, room ids) is rendered as text (textContent,
// setAttribute), never as HTML; the page runs under a strict CSP
// (demo/_headers): no inline script or style, so no `style` attributes either.

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
  // A toggle keeps its name and tells its state by aria-pressed: "Light theme, pressed" would say the opposite of what is on.
  $('theme-toggle').setAttribute('aria-pressed', String(theme === 'dark'));
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
  // An error of reaching the server goes when the server answers again (see `api`).
  statusEl.dataset.unreachable = error && text.includes(UNREACHABLE) ? '1' : '';
  // Emptied first so that the same text twice is announced twice.
  statusEl.textContent = '';
  statusEl.classList.toggle('error', error);
  statusTimer = setTimeout(() => {
    statusEl.textContent = text;
    // Results fade after a while (they were announced); errors stay until the next result.
    if (!error) statusTimer = setTimeout(() => { statusEl.textContent = ''; }, 10000);
  }, 30);
}

/**
 * The note that the room list (`rooms-stale`) or the open room (`room-stale`)
 * may be out of date; '' takes it away. Each note is a live region of its own,
 * always in the page (empty, it takes no room): a region shown with its text
 * at once is not announced by every screen reader. Set only when it changes,
 * so that a retry failing the same way is not said again and again.
 */
function staleNote(id, text) {
  if ($(id).textContent !== text) $(id).textContent = text;
}

// ---- The API ----

const UNREACHABLE = 'Could not reach the server';

class ApiError extends Error {
  constructor(status, body, fallback) {
    const code = body?.error;
    const message = body?.message;
    // What went wrong in words first; the status and code after, for
    // whoever is asked for help; a sentence, ended.
    const words = String(message || fallback || 'the server refused the request').replace(/\.$/, '');
    super(status ? `${words} (${status}${code ? ` ${code}` : ''}).` : fallback);
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
      // A request that never ends (a connection gone half-open) would hold
      // the list's refresh, which waits for the one before, for good.
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new ApiError(0, null, `${UNREACHABLE} (${err.message}). Check the connection.`);
  }
  if (statusEl.dataset.unreachable) say('The server answers again.');
  let data = null;
  try { data = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) {
    const err = new ApiError(res.status, data, res.statusText);
    if (res.status === 401 && creds === session) signOut(`The site key was refused: ${err.message} Sign in again.`);
    throw err;
  }
  return data;
}

const roomPath = (room) => `/rooms/${encodeURIComponent(room)}`;

// ---- Sign in and out ----

// In sessionStorage (never localStorage) for one reason: a background tab the
// browser discards to save memory is reloaded when the owner comes back to it,
// without a pagehide, and finds the key there. Leaving the page in any other
// way (another page in this tab, a reload, closing the tab) takes it out: no
// later page of this origin in the tab, no tab opened or restored from this
// one afterwards, finds it. A page kept in the back-forward cache still holds
// it in memory and puts it back when it is shown again.
addEventListener('pagehide', () => storeSession(null));
addEventListener('pageshow', (e) => { if (e.persisted && session) storeSession(session); });

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
  $('workspace-title').textContent = `Moderation console: site ${session.site}`;
  $('sign-out').hidden = false;
  $('sign-out').textContent = `Sign out of ${session.site}`;
  loadLimits();
}

// ---- The bot's message length ----

// The site's longest message (its `limits.maxMessageChars`), for the bot
// box's counter: told before posting, not refused after.
let maxChars = 2000;

async function loadLimits() {
  const creds = session;
  try {
    const site = await api('GET', '', undefined, creds);
    if (creds !== session) return;
    maxChars = site?.limits?.maxMessageChars || maxChars;
  } catch { /* the default; the server still checks */ }
  countBotText();
}

function countBotText() {
  // Characters as the server counts them (code points, not UTF-16 units).
  const n = [...$('bot-text').value].length;
  const over = n > maxChars;
  $('bot-count').textContent = over
    ? `${n} of ${maxChars} characters: ${n - maxChars} too many.`
    : `${n} of ${maxChars} characters.`;
  $('bot-count').classList.toggle('over', over);
  if (over) $('bot-text').setAttribute('aria-invalid', 'true');
  else $('bot-text').removeAttribute('aria-invalid');
}
$('bot-text').addEventListener('input', countBotText);

function signOut(message) {
  session = null;
  storeSession(null);
  poll.gen++;
  Object.assign(poll, { cursor: '', failures: 0 });
  scheduleRooms();
  staleNote('rooms-stale', '');
  closePanel(false);
  rooms = { items: [], next: null };
  current = null;
  ownChange();
  roomPoll.failures = 0;
  scheduleRoom();
  staleNote('room-stale', '');
  $('room-list').replaceChildren();
  $('report-list').replaceChildren();
  $('message-list').replaceChildren();
  $('muted-list').replaceChildren();
  $('banned-list').replaceChildren();
  $('room').hidden = true;
  $('skip-room').hidden = true;
  $('site-key').value = '';
  // Nothing of this site carries over to the next one signed in to.
  $('room-filter').value = '';
  $('bot-text').value = '';
  countBotText();
  pendingPost = null;
  for (const d of document.querySelectorAll('details.room-actions')) d.open = false;
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
$('skip-room').addEventListener('click', (e) => {
  e.preventDefault();
  $('room-title').focus();
});

let signingIn = false;
$('sign-in-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (signingIn) return;
  // Site ids are lower-case: "Acme" is acme, not a refusal.
  const site = $('site-id').value.trim().toLowerCase();
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

// The list keeps itself up to date while the page is shown: it is read again
// every POLL_MS (a page of up to 100 rooms at a time: with more rooms loaded,
// the next page at the next turn), at once when the page is shown again and
// after each of the console's own actions, and not at all while the page is
// hidden. Rooms tell the server's list of their news every 10 s when busy,
// every 2 s while someone lists them (docs/api.md, "Rooms and messages").
const POLL_MS = 2000;
let rooms = { items: [], next: null };
// `cursor`: where the next refresh starts (a room id; '' for the first page);
// `gen` changes with each fresh first page, so that a refresh under way then is dropped.
const poll = { cursor: '', gen: 0, timer: null, running: false, failures: 0 };
// `overview`: what is in force (GET /rooms/{room}), or null with `overviewError`;
// `names`: sender key -> the latest name seen in the messages and reports loaded.
let current = null; // { room, reports, reportsNext, messages, earlier, overview, overviewError, names }

/** The site's storage for files, as a page of rooms tells it (an older server: none). */
const storageOf = (page) => (Number.isFinite(page.fileBytes) && Number.isFinite(page.maxStorageBytes)
  ? { used: page.fileBytes, max: page.maxStorageBytes } : null);

/** Load the first page of rooms (`more`: the next one): the rooms it brought, or null when it failed (said so) or was overtaken. */
async function loadRooms(more = false) {
  const gen = more ? poll.gen : ++poll.gen;
  try {
    // `watch`: a person looks at these rooms, so they report every 2 s.
    const query = new URLSearchParams({ limit: String(PAGE), watch: '1' });
    if (more && rooms.next) query.set('cursor', rooms.next);
    const page = await api('GET', `/rooms?${query}`);
    if (gen !== poll.gen || !session) return null;
    const seenReports = new Map([...(more ? rooms.seenReports ?? [] : []), ...page.rooms.map((r) => [r.room, r.openReports > 0 ? r.openReports : 0])]);
    rooms = { items: more ? [...rooms.items, ...page.rooms] : page.rooms, next: page.next ?? null, storage: storageOf(page) ?? rooms.storage, seenReports };
    if (!more) poll.cursor = '';
    poll.failures = 0;
    staleNote('rooms-stale', '');
    renderRooms();
    return page.rooms;
  } catch (err) {
    say(`Could not load the rooms: ${err.message}`, true);
    // What is shown is what the last load or refresh brought; the poll goes on trying.
    if (gen === poll.gen && session) staleNote('rooms-stale', `The list may be out of date: ${err.message} Trying again.`);
    return null;
  } finally {
    scheduleRooms();
  }
}

/**
 * Read one page of the rooms loaded again, from `poll.cursor`, and put it in
 * place: rooms new there are added, rooms gone are taken out, counts and
 * times updated. Rooms past those loaded ("More rooms") are left for More.
 */
async function refreshRooms() {
  if (!session || poll.running) return;
  poll.running = true;
  const { gen, cursor } = poll;
  const bound = rooms.next; // the last room loaded, when there are more (null: every room is)
  try {
    const query = new URLSearchParams({ limit: String(Math.min(100, Math.max(PAGE, rooms.items.length))), watch: '1' });
    if (cursor) query.set('cursor', cursor);
    const page = await api('GET', `/rooms?${query}`);
    if (gen !== poll.gen || !session) return;
    // This page covers the rooms after `cursor` through `upper` (null: to the end).
    let upper = page.next ?? null;
    let fresh = page.rooms;
    if (bound !== null && (upper === null || upper > bound)) {
      upper = bound;
      fresh = fresh.filter((r) => r.room <= bound);
    }
    const outside = rooms.items.filter((r) => r.room <= cursor || (upper !== null && r.room > upper));
    rooms.items = [...outside, ...fresh].sort((x, y) => (x.room < y.room ? -1 : x.room > y.room ? 1 : 0));
    rooms.storage = storageOf(page) ?? rooms.storage;
    announceRoomReports(fresh);
    poll.cursor = upper !== null && upper !== bound ? upper : '';
    poll.failures = 0;
    staleNote('rooms-stale', '');
    renderRooms();
  } catch (err) {
    if (gen !== poll.gen || !session) return;
    poll.failures++;
    staleNote('rooms-stale', `The list may be out of date: ${err.message} Trying again.`);
  } finally {
    poll.running = false;
  }
}

/**
 * Say when reports come in a room other than the open one (the open room
 * says its own): the list shows where, but nobody looks at every line.
 */
function announceRoomReports(fresh) {
  const before = new Map(rooms.seenReports ?? []);
  for (const r of fresh) {
    const had = before.get(r.room);
    const now = r.openReports > 0 ? r.openReports : 0;
    if (had !== undefined && now > had && r.room !== current?.room) say(`${plural(now - had, 'new report')} in room ${r.room}.`);
  }
  rooms.seenReports = new Map([...before, ...fresh.map((r) => [r.room, r.openReports > 0 ? r.openReports : 0])]);
}

/**
 * Run `refresh` in `delay` ms (longer after `state.failures`), then every
 * `interval`, while `active()`; `state.timer` is the wait under way.
 */
function schedulePoll(state, interval, active, refresh, delay = interval * 2 ** Math.min(state.failures, 4)) {
  clearTimeout(state.timer);
  state.timer = null;
  if (!active()) return;
  state.timer = setTimeout(async () => {
    state.timer = null;
    await refresh();
    if (!state.timer) schedulePoll(state, interval, active, refresh);
  }, delay);
}

/** Run `refresh` now (if `active()`), then go on polling. */
async function pollNow(state, interval, active, refresh) {
  clearTimeout(state.timer);
  state.timer = null;
  if (!active()) return;
  await refresh();
  if (!state.timer) schedulePoll(state, interval, active, refresh);
}

function listShown() {
  return Boolean(session) && document.visibilityState !== 'hidden';
}

/** Refresh the list in `delay` ms (longer after failures), unless signed out or the page is hidden. */
function scheduleRooms(delay) {
  schedulePoll(poll, POLL_MS, listShown, refreshRooms, delay);
}

/** Refresh the list now (the page is shown again, or the console changed a room), then go on polling. */
function refreshRoomsNow() {
  return pollNow(poll, POLL_MS, listShown, refreshRooms);
}

// Back online: refresh at once, not when the backed-off poll comes round.
window.addEventListener('online', () => {
  if (document.visibilityState === 'hidden') return;
  refreshRoomsNow();
  refreshRoomNow();
});

// The open room (scheduleRoom, below) follows the page's visibility the same way.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') {
    scheduleRooms();
    scheduleRoom();
  } else {
    refreshRoomsNow();
    refreshRoomNow();
  }
});

/** A room's entry in the list: its button, named by the room and what is known of it. */
function roomItem(room) {
  return el('li', { attrs: { 'data-room': room } },
    el('button', { className: 'room-button', attrs: { type: 'button', 'data-room': room }, on: { click: () => openRoom(room) } },
      el('span', { className: 'room-name', text: room }),
      el('span', { className: 'room-meta' })));
}

/**
 * The list as loaded, filtered. Entries are updated in place, added and
 * removed, never rebuilt or moved (the list is by room id, so rooms already
 * shown keep their order): a refresh leaves focus and a screen reader's
 * place on the room they were on.
 */
function renderRooms() {
  const filter = $('room-filter').value.trim().toLowerCase();
  const list = $('room-list');
  const shown = new Map([...list.children].map((li) => [li.dataset.room, li]));
  const wanted = rooms.items.filter((r) => !filter || r.room.toLowerCase().includes(filter)).map((r) => {
    const li = shown.get(r.room) ?? roomItem(r.room);
    const reports = r.openReports > 0 ? r.openReports : 0;
    const meta = `${r.messages} ${r.lastActivity} ${r.fileBytes} ${reports}`;
    if (li.dataset.meta !== meta) {
      li.dataset.meta = meta;
      // Where the site's storage for files goes, for an owner whose uploads are refused as full.
      const files = r.fileBytes > 0 ? `, ${sizeText(r.fileBytes)} of files` : '';
      li.querySelector('.room-meta').replaceChildren(
        // Where reports wait, without opening every room (first: it is what asks for the owner).
        reports ? el('strong', { className: 'room-reports', text: `${plural(reports, 'open report')}, ` }) : null,
        plural(r.messages, 'message'), files, ', last active ', r.lastActivity ? timeEl(r.lastActivity) : 'never');
    }
    const button = li.firstChild;
    if (current?.room === r.room) button.setAttribute('aria-current', 'true');
    else button.removeAttribute('aria-current');
    return li;
  });
  const keep = new Set(wanted);
  const focused = list.contains(document.activeElement) ? document.activeElement : null;
  for (const li of [...list.children]) if (!keep.has(li)) li.remove();
  wanted.forEach((li, i) => { if (list.children[i] !== li) list.insertBefore(li, list.children[i] ?? null); });
  // The room that had focus left the list (erased): its heading.
  if (focused && !focused.isConnected) $('rooms-title').focus();
  const total = rooms.items.length;
  const more = rooms.next ? ' (more to load)' : '';
  const count = total === 0
    ? 'No rooms yet: a room appears once someone writes in it.'
    : filter ? `${wanted.length} of ${plural(total, 'room')} match${more}.` : `${plural(total, 'room')}${more}.`;
  const storage = rooms.storage ? `Files: ${sizeText(rooms.storage.used)} of ${sizeText(rooms.storage.max)} stored.` : '';
  if ($('site-storage').textContent !== storage) $('site-storage').textContent = storage;
  if ($('rooms-count').textContent !== count) $('rooms-count').textContent = count;
  $('more-rooms').hidden = !rooms.next;
}

$('room-filter').addEventListener('input', renderRooms);
$('reload-rooms').addEventListener('click', async () => {
  // Failed: its error (and the note) stays, not followed by a success.
  if (!(await loadRooms())) return;
  say(`Rooms reloaded: ${plural(rooms.items.length, 'room')}${rooms.next ? ', more to load' : ''}.`);
});
$('more-rooms').addEventListener('click', async () => {
  const added = await loadRooms(true);
  if (!added) return;
  say(`${plural(added.length, 'more room')} loaded.`);
  // Focus the first new room the filter shows, or the list's heading when
  // there is none to show (not by position: the filter hides some).
  const fresh = new Set(added.map((r) => r.room));
  const first = [...$('room-list').children].find((li) => fresh.has(li.dataset.room))?.querySelector('.room-button');
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
  $('skip-room').textContent = `Skip to room ${room}`;
  $('skip-room').hidden = false;
  // Nothing of the last room stays while this one loads, nor when it cannot be
  // loaded: its count of reports, its Earlier and More buttons (which would
  // page this room from nowhere) and its notes that there are none.
  $('report-list').replaceChildren();
  $('message-list').replaceChildren();
  $('reports-title').textContent = 'Open reports';
  for (const id of ['reports-empty', 'more-reports', 'earlier', 'messages-empty', 'room-state']) $(id).hidden = true;
  $('room-updated').textContent = 'Loading…';
  staleNote('room-stale', '');
  roomPoll.failures = 0;
  $('room-title').focus();
  const view = current;
  const ok = await loadRoom();
  if (ok && current === view) {
    say(`Room ${room}: ${plural(groupReports(current.reports).length, 'reported message')}, ${plural(current.messages.length, 'message')} shown.`);
  }
}

/** What is in force, the first page of reports and of messages, afresh. */
async function loadRoom() {
  const view = current;
  const { room } = view;
  ownChange();
  roomPoll.loading++;
  try {
    const [, reports, messages] = await Promise.all([
      reloadOverview(),
      api('GET', `${roomPath(room)}/reports?limit=${PAGE}`),
      api('GET', `${roomPath(room)}/messages?limit=${PAGE}`),
    ]);
    if (current !== view) return false;
    current.reports = reports.reports;
    current.reportsNext = reports.more ? reports.next : null;
    current.messages = messages.messages;
    current.earlier = messages.more ? messages.next : null;
    renderRoom();
    $('room-updated').textContent = `Updated ${new Date().toLocaleTimeString()}.`;
    roomPoll.failures = 0;
    staleNote('room-stale', '');
    return true;
  } catch (err) {
    if (current === view) $('room-updated').textContent = '';
    if (session) say(`Could not load room ${room}: ${err.message}`, true);
    return false;
  } finally {
    roomPoll.loading--;
    scheduleRoom();
  }
}

/**
 * What is in force in the room: online count, lock, slow mode, pin, mutes and
 * bans. Never throws: when it cannot be read the panel says so, and the rest
 * of the room is still shown.
 */
async function reloadOverview() {
  const view = current;
  const { room } = view;
  let overview = null;
  let error = null;
  try {
    overview = await api('GET', roomPath(room));
  } catch (err) {
    error = err;
  }
  if (current !== view) return;
  current.overview = overview;
  current.overviewError = error;
}

/** Reload the reports (as many pages as were shown, at most 100). */
async function reloadReports() {
  const view = current;
  const { room } = view;
  const limit = Math.min(100, Math.max(PAGE, current.reports.length));
  const page = await api('GET', `${roomPath(room)}/reports?limit=${limit}`);
  if (current !== view) return;
  current.reports = page.reports;
  current.reportsNext = page.more ? page.next : null;
}

/** Fetch message `seq` again (its current state) and put it in place. */
async function reloadMessage(seq) {
  const view = current;
  const { room } = view;
  const page = await api('GET', `${roomPath(room)}/messages?after=${seq - 1}&limit=1`);
  if (current !== view) return;
  const fresh = page.messages.find((m) => m.seq === seq);
  current.messages = current.messages.map((m) => (m.seq === seq && fresh ? fresh : m));
}

/** Messages after the last one shown (a bot post, news since). */
async function loadNewer() {
  const view = current;
  const { room } = view;
  let after = current.messages.at(-1)?.seq ?? 0;
  for (let i = 0; i < 5; i++) {
    const page = await api('GET', `${roomPath(room)}/messages?after=${after}&limit=100`);
    if (current !== view) return;
    const known = new Set(current.messages.map((m) => m.seq));
    current.messages.push(...page.messages.filter((m) => !known.has(m.seq)));
    if (!page.more || page.next === undefined) break;
    after = page.next;
  }
}

// ---- The open room, live ----

// While the page is shown, the open room is read again every ROOM_POLL_MS, as
// the room list is: what is in force, the open reports and the latest page of
// messages. The latest page, not `after=` the newest shown: that one skips
// edits and deletes (they are events, not messages), and the latest page
// shows new messages and the current state of those shown in one read. Not
// while hidden or signed out, nor while one of the console's own actions or
// loads runs (it reads the room itself): a refresh never starts while another
// one or a load is under way. Longer apart after failures, with a note that
// the room may be out of date.
const ROOM_POLL_MS = 3000;
// `gen` changes whenever the console itself changes what the room shows (a
// room opened, Refresh, an action): a refresh under way then read the room
// before that, and is dropped. (What Earlier and More reports add is kept by
// the merges: a refresh only replaces what its own reads cover.)
const roomPoll = { gen: 0, timer: null, running: false, loading: 0, failures: 0 };

/** The console changes what the room shows by its own hand: a refresh under way is dropped. */
const ownChange = () => { roomPoll.gen++; };

/** Read the open room again and show what changed, in place. */
async function refreshRoom() {
  if (!session || !current || busy || roomPoll.running || roomPoll.loading) return;
  roomPoll.running = true;
  const view = current;
  const { room } = view;
  const { gen } = roomPoll;
  try {
    const [overview, reports, latest] = await Promise.all([
      api('GET', roomPath(room)),
      api('GET', `${roomPath(room)}/reports?limit=${Math.min(100, Math.max(PAGE, current.reports.length))}`),
      api('GET', `${roomPath(room)}/messages?limit=${PAGE}`),
    ]);
    const gap = await readGap(room, latest);
    if (gen !== roomPoll.gen || current !== view || !session) return;
    const known = new Set(current.reports.map((r) => r.id));
    const fresh = reports.reports.filter((r) => !known.has(r.id));
    current.overview = overview;
    current.overviewError = null;
    mergeReports(reports);
    mergeMessages(latest, gap);
    roomPoll.failures = 0;
    staleNote('room-stale', '');
    renderRoom();
    $('room-updated').textContent = `Updated ${new Date().toLocaleTimeString()}.`;
    announceReports(fresh);
  } catch (err) {
    if (gen !== roomPoll.gen || current !== view || !session) return;
    roomPoll.failures++;
    staleNote('room-stale', `The room may be out of date: ${err.message} Trying again.`);
  } finally {
    roomPoll.running = false;
  }
}

/**
 * The messages between the newest shown and the oldest of the latest page,
 * when more than a page came since the last look (at most 5 pages of 100);
 * null when even those do not reach it: the list then starts again from the
 * latest page.
 */
async function readGap(room, latest) {
  const newest = current.messages.at(-1)?.seq;
  const oldest = latest.messages[0]?.seq;
  if (!latest.more || newest === undefined || oldest === undefined || oldest <= newest) return [];
  const gap = [];
  let after = newest;
  for (let i = 0; i < 5; i++) {
    const page = await api('GET', `${roomPath(room)}/messages?after=${after}&limit=100`);
    gap.push(...page.messages.filter((m) => m.seq < oldest));
    if (!page.more || page.next === undefined || page.next >= oldest) return gap;
    after = page.next;
  }
  return null;
}

/**
 * Put the latest page (and the gap before it) among the messages shown: new
 * ones added; those it covers in their current state (edited, deleted), or
 * taken out when it no longer holds them (purged, erased, trimmed by
 * retention); older ones (loaded with Earlier) kept as they are.
 */
function mergeMessages(latest, gap) {
  // A seq shown as another message: the room was erased and written in
  // again, and nothing shown before is of the room as it is now.
  const shown = new Map(current.messages.map((m) => [m.seq, messageIdentity(m)]));
  const reused = [...(gap ?? []), ...latest.messages].some((m) => shown.has(m.seq) && shown.get(m.seq) !== messageIdentity(m));
  if (gap === null || reused) {
    current.messages = latest.messages;
    current.earlier = latest.more ? latest.next : null;
    return;
  }
  const from = latest.more ? latest.messages[0]?.seq ?? Infinity : 0;
  const kept = current.messages.filter((m) => m.seq < from);
  const bySeq = new Map(kept.map((m) => [m.seq, m]));
  for (const m of [...gap, ...latest.messages]) bySeq.set(m.seq, m);
  current.messages = [...bySeq.values()].sort((x, y) => x.seq - y.seq);
  // Nothing older kept: "Earlier" goes on from the latest page.
  if (!kept.length) current.earlier = latest.more ? latest.next : null;
}

/**
 * Put the first page of reports in place of those it covers: reports older
 * than it, loaded with More reports, are kept, and More goes on after them.
 */
function mergeReports(page) {
  const oldest = page.reports.at(-1)?.id;
  const older = page.more ? current.reports.filter((r) => r.id < oldest) : [];
  current.reports = [...page.reports, ...older];
  if (!older.length) current.reportsNext = page.more ? page.next : null;
}

/** Reports that came in since the last look, said politely (new messages are not: they would drown the rest). */
function announceReports(fresh) {
  if (!fresh.length) return;
  const one = new Set(fresh.map((r) => r.target)).size === 1
    ? ` on ${senderName(fresh[0].message)}'s message #${fresh[0].target}` : '';
  say(`${plural(fresh.length, 'new report')} in ${current.room}${one}.`);
}

function roomShown() {
  return listShown() && Boolean(current);
}

/** Refresh the open room in `delay` ms (longer after failures), unless none is open, signed out or the page is hidden. */
function scheduleRoom(delay) {
  schedulePoll(roomPoll, ROOM_POLL_MS, roomShown, refreshRoom, delay);
}

/** Refresh the open room now (the page is shown again), then go on polling. */
function refreshRoomNow() {
  return pollNow(roomPoll, ROOM_POLL_MS, roomShown, refreshRoom);
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

/**
 * Show the room as loaded. Everything is updated in place (the room refreshes
 * itself while shown): what did not change is left alone, so focus, a text
 * selection, an open confirmation step and a screen reader's place survive.
 */
function renderRoom() {
  const keepFocus = focusKeeper();
  renderState();
  const groups = groupReports(current.reports);
  renderCards($('report-list'), groups.map((g) => [`r-${g.target}`, g, messageIdentity(g.message)]), reportCard);
  $('reports-empty').hidden = groups.length > 0;
  $('more-reports').hidden = !current.reportsNext;
  const reportsTitle = groups.length ? `Open reports (${groups.length}${current.reportsNext ? '+' : ''})` : 'Open reports';
  if ($('reports-title').textContent !== reportsTitle) $('reports-title').textContent = reportsTitle;
  renderCards($('message-list'), current.messages.map((m) => [`m-${m.seq}`, m, messageIdentity(m)]), messageCard);
  $('messages-empty').hidden = current.messages.length > 0;
  $('earlier').hidden = !current.earlier;
  settlePanel();
  keepFocus();
}

// ---- Updating in place ----

// What each card (or sanction) shows, as JSON: one that shows the same is not rebuilt.
const shownAs = new WeakMap();
// Which message a card is about. A seq names another message once the room
// was erased and written in again: such a card is replaced, not refilled,
// so that a step open in it (acting on that seq) goes with it.
const identityOf = new WeakMap();
const messageIdentity = (m) => (m ? `${m.id}|${m.timestamp}` : '');

/**
 * Make `list` hold one node per `[key, data, identity]` of `items` (`keyOf` a
 * node: its key, by default its id), in that order: a node already shown for
 * the same data is kept as it is, one whose data changed is refilled in place
 * (`refill`), a new one is built with `build(data)`, also in place of one of
 * the same key about something else (another `identity`).
 */
function renderCards(list, items, build, keyOf = (node) => node.id) {
  const shown = new Map([...list.children].map((node) => [keyOf(node), node]));
  const wanted = items.map(([id, data, identity = '']) => {
    const json = JSON.stringify(data);
    const same = shown.get(id);
    const old = same && identityOf.get(same) === identity ? same : null;
    if (old && shownAs.get(old) === json) return old;
    const fresh = build(data);
    if (old) refill(old, fresh);
    shownAs.set(old ?? fresh, json);
    identityOf.set(old ?? fresh, identity);
    return old ?? fresh;
  });
  const keep = new Set(wanted);
  for (const node of [...list.children]) if (!keep.has(node)) node.remove();
  placeInOrder(list, wanted);
}

/**
 * Put `nodes` in `list` in that order. A node moved in the DOM loses focus,
 * so the one holding focus stays where it is and the others move around it.
 */
function placeInOrder(list, nodes) {
  const still = nodes.findIndex((node) => node.contains(document.activeElement));
  for (let i = still - 1; i >= 0; i--) {
    if (nodes[i].nextElementSibling !== nodes[i + 1]) list.insertBefore(nodes[i], nodes[i + 1]);
  }
  for (let i = Math.max(still + 1, 0); i < nodes.length; i++) {
    const previous = i ? nodes[i - 1] : null;
    if (previous ? nodes[i].previousElementSibling !== previous : list.firstElementChild !== nodes[i]) {
      if (previous) previous.after(nodes[i]);
      else list.prepend(nodes[i]);
    }
  }
}

/**
 * Give `node` the content of `fresh` (built anew for its new data), keeping
 * the node itself and an open confirmation step in it: the step stays where
 * it is (moving it would take focus from its fields) and now belongs to the
 * new button that does the same (`data-action`). Focus on a button of the old
 * content goes to the new one that does the same, else to the node.
 */
function refill(node, fresh) {
  const step = panel && node.contains(panel.node) ? panel : null;
  const focused = node.contains(document.activeElement) && !step?.node.contains(document.activeElement) ? document.activeElement : null;
  const sameAs = (old) => (old?.dataset.action && fresh.querySelector(`[data-action="${old.dataset.action}"]`)) || null;
  // Found before the new content moves over. None for the step (the message
  // was deleted): its opener stays the old one, gone, and settlePanel closes it.
  const opener = step && sameAs(step.opener);
  const focus = focused && (sameAs(focused) || node);
  node.className = fresh.className;
  for (const child of [...node.childNodes]) if (child !== step?.node) child.remove();
  if (step) step.node.before(...fresh.childNodes);
  else node.append(...fresh.childNodes);
  if (opener) step.opener = opener;
  focus?.focus();
}

/**
 * A confirmation step whose button went away with what it asks about (the
 * message deleted, the mute ended, another message pinned), or whose
 * question changed (a report came in on the message: Dismiss closes them
 * all), is no longer the owner's question: it closes (focusKeeper sees to
 * the focus it had).
 */
function settlePanel() {
  if (panel && (!panel.opener.isConnected || !panel.node.isConnected || panel.stale?.())) closePanel(false);
}

/**
 * Where focus goes if what has it now goes away in a render: the card it is
 * in (a deleted message stays, as a tombstone), else the heading of that part
 * of the room, not the page's body. Call before; call the answer after.
 */
function focusKeeper() {
  const focused = document.activeElement;
  if (!focused || focused === document.body || !$('room').contains(focused)) return () => {};
  const card = focused.closest('.card')?.id;
  const part = [['report-list', 'reports-title'], ['message-list', 'messages-title'], ['state-pinned', 'state-pinned'],
    ['muted-list', 'muted-title'], ['banned-list', 'banned-title'], ['room-state', 'state-title']]
    .find(([id]) => $(id).contains(focused))?.[1] ?? 'room-title';
  return () => {
    if (!focused.isConnected) ((card && $(card)) || $(part)).focus();
  };
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
  // Locked or unlocked by someone else: focus on the button now hidden goes to the one shown.
  const lockFocused = [$('lock'), $('unlock')].find((b) => b === document.activeElement);
  $('lock').hidden = o?.locked === true;
  $('unlock').hidden = o?.locked === false;
  if (lockFocused?.hidden) (lockFocused.id === 'lock' ? $('unlock') : $('lock')).focus();
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
  // Rebuilt only when the pin changed: its Unpin button may have focus.
  const pinJson = JSON.stringify(pin);
  if (shownAs.get($('pinned-body')) !== pinJson) {
    shownAs.set($('pinned-body'), pinJson);
    renderPinned(pin);
  }
  renderSanctions('muted');
  renderSanctions('banned');
}

/** The pinned message, with its Unpin button, or that there is none. */
function renderPinned(pin) {
  $('pinned-body').replaceChildren(...(pin
    ? [messageMeta(pin), ...messageBody(pin),
      el('div', { className: 'actions' }, el('button', {
        className: 'secondary', text: 'Unpin',
        attrs: { type: 'button', id: 'unpin', 'aria-label': `Unpin message #${pin.seq} by ${senderName(pin)}` },
        on: { click: (e) => confirmStep(e.currentTarget, {
          id: 'confirm-unpin',
          question: `Unpin message #${pin.seq} by ${senderName(pin)}? It is no longer shown above the room.`,
          label: 'Unpin message',
          run: (go) => roomAction(go, { action: 'unpin', target: pin.seq },
            `Message #${pin.seq} by ${senderName(pin)} unpinned in ${current.room}.`, 'unpin', () => $('state-pinned')),
        }) },
      }))]
    : [el('p', { className: 'hint', text: 'Nothing pinned.' })]));
}

/** The mutes or bans in force, each with whom (the name when known), until when, and the button that lifts it. */
function renderSanctions(kind) {
  const list = $(`${kind}-list`);
  const items = Array.isArray(current.overview[kind]) ? current.overview[kind] : [];
  const [verb, action, title] = kind === 'muted' ? ['Unmute', 'unmute', 'Muted'] : ['Unban', 'unban', 'Banned'];
  const names = items.map((s) => current.names.get(s.sender) ?? null);
  const seen = new Map();
  for (const n of names) if (n) seen.set(n, (seen.get(n) ?? 0) + 1);
  // Two senders of the same name are told apart by their keys.
  const shown = items.map((s, i) => [s.sender, { ...s, name: names[i], twin: Boolean(names[i] && seen.get(names[i]) > 1) }]);
  renderCards(list, shown, ({ sender, until, name, twin }) => {
    const key = el('code', { className: 'key', text: shortKey(sender), attrs: { title: sender } });
    const who = !name ? shortKey(sender) : twin ? `${name} (${shortKey(sender)})` : name;
    return el('li', { className: 'sanction', attrs: { 'data-sender': sender } },
      el('p', {},
        name ? el('span', { className: 'name', text: name }) : key,
        twin ? [' ', key] : null,
        name ? null : el('span', { className: 'unknown', text: ' (name unknown)' }),
        el('span', { className: 'until' }, until ? [' until ', timeEl(until)] : ' for good')),
      el('button', {
        className: 'secondary', text: `${verb} ${who}`,
        attrs: { type: 'button', 'data-action': action },
        on: { click: (e) => liftSanction(e.currentTarget, kind, action, sender, who) },
      }));
  }, (node) => node.dataset.sender);
  $(`${kind}-empty`).hidden = items.length > 0;
  $(`${kind}-title`).textContent = items.length ? `${title} (${items.length})` : title;
}

/**
 * Unmute or unban from the lists, once confirmed; focus then goes to the same
 * sender if still listed, else the next, else the list's heading.
 */
function liftSanction(opener, kind, action, sender, who) {
  const list = $(`${kind}-list`);
  const index = [...list.children].indexOf(opener.closest('li'));
  const { room } = current;
  confirmStep(opener, {
    id: `confirm-${action}`,
    question: action === 'unmute' ? `Unmute ${who}? They can write in ${room} again.` : `Unban ${who}? They can join ${room} again.`,
    label: `${action === 'unmute' ? 'Unmute' : 'Unban'} ${who}`,
    anchor: opener,
    run: (go) => roomAction(go, { action, sender }, `${who} ${action === 'unmute' ? 'unmuted' : 'unbanned'}.`, `${action} ${who}`, () => {
      const items = [...$(`${kind}-list`).children];
      const item = items.find((li) => li.dataset.sender === sender) ?? items[index] ?? items[index - 1];
      return item?.querySelector('[data-action]') ?? $(`${kind}-title`);
    }),
  });
}

/** What a message says: its text, or that it is deleted; files and the quote it replies to. */
function messageBody(m) {
  const parts = [];
  if (m.replyTo) {
    parts.push(el('p', { className: 'quote' }, 'Replying to ', el('bdi', { text: senderName(m.replyTo) }), ': ',
      m.replyTo.deleted ? el('em', { text: 'deleted message' }) : (m.replyTo.excerpt ?? '')));
  }
  if (m.deleted) parts.push(el('p', { className: 'text deleted', text: 'Message deleted.' }));
  else if (m.message) parts.push(el('p', { className: 'text', text: m.message }));
  if (Array.isArray(m.attachments) && m.attachments.length) parts.push(fileList(m.attachments));
  return parts;
}

const sizeText = (bytes) => (bytes >= 1073741824 ? `${(bytes / 1073741824).toFixed(1)} GB`
  : bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB`
  : bytes >= 1024 ? `${Math.round(bytes / 1024)} KB` : plural(bytes, 'byte'));

/**
 * A message's files (`attachments`, docs/protocol.md): each a link to its
 * signed URL (same origin: the console's CSP allows its images), named by
 * its name; an image with a thumbnail and its alternative text. In a new
 * tab, noopener: leaving this page would forget the key, and a tab opened
 * with an opener may start with a copy of its sessionStorage.
 */
function fileList(files) {
  return el('ul', { className: 'files', attrs: { 'aria-label': 'Files' } }, files.map((f) => {
    const name = f?.name || 'file';
    // A path on this server, as the API gives it: nothing else becomes a link or an image source.
    const url = typeof f?.url === 'string' && /^\/(?![/\\])/.test(f.url) ? f.url : null;
    const image = typeof f?.mime === 'string' && f.mime.startsWith('image/');
    const size = Number.isFinite(f?.size) ? ` (${sizeText(f.size)})` : '';
    const thumb = image && url ? el('img', { className: 'thumb', attrs: {
      src: url, alt: f.alt ?? '', width: f.width, height: f.height, loading: 'lazy', decoding: 'async',
    } }) : null;
    const label = [thumb, el('span', { className: 'file-name', text: name })];
    return el('li', {},
      url ? el('a', { attrs: { href: url, target: '_blank', rel: 'noopener noreferrer' } }, label) : label,
      el('span', { className: 'file-size', text: size }));
  }));
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
  // (The name in a <bdi>: a right-to-left one must not reorder the words around it.)
  const title = el('h4', {}, el('bdi', { text: senderName(m) }), `'s message #${g.target}: ${plural(g.count ?? g.items.length, 'open report')}`);
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
    actionBar(m, true, g.count ?? g.items.length, reportsKey(g)));
}

// ---- Actions ----

/** Which open reports a report card shows: Dismiss closes them all, so its step asks about these. */
const reportsKey = (g) => `${g.count ?? g.items.length}:${g.items.map((r) => r.id).join(',')}`;

/** The buttons under a message; in a report card Dismiss comes first. */
function actionBar(m, inReport, reportCount, reports) {
  const who = senderName(m);
  const bar = el('div', { className: 'actions', attrs: { role: 'group', 'aria-label': `Actions on message #${m.seq}` } });
  const add = (action, text, label, handler, kind = 'secondary') =>
    bar.append(el('button', { className: kind, text, attrs: { type: 'button', 'data-action': action, 'aria-label': label }, on: { click: handler } }));
  if (inReport) {
    add('dismiss', 'Dismiss reports', `Dismiss reports on message #${m.seq} by ${who}`, (e) => {
      const count = reportCount ?? 0;
      confirmStep(e.currentTarget, {
        id: `panel-report-${m.seq}-dismiss`,
        question: `Dismiss ${count === 1 ? 'the open report' : `the ${plural(count, 'open report')}`} on message #${m.seq} by ${who}? `
          + 'The message stays as it is; the reports leave this list.',
        label: 'Dismiss reports',
        run: (go) => act(go, { kind: 'report', seq: m.seq, action: 'dismiss' }, () => moderate({ action: 'dismiss', target: m.seq }),
          `Reports on message #${m.seq} dismissed.`),
        // Another report came in (or one went): not what was asked about.
        stale: () => {
          const g = groupReports(current?.reports ?? []).find((x) => x.target === m.seq);
          return !g || reportsKey(g) !== reports;
        },
      });
    });
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
    add('pin', 'Pin', `Pin message #${m.seq} by ${who}`, (e) => {
      const pinned = current.overview?.pinned;
      const replaces = !pinned ? ''
        : pinned.seq === m.seq ? ' It is pinned already.'
          : ` It replaces message #${pinned.seq} by ${senderName(pinned)}.`;
      confirmStep(e.currentTarget, {
        id: `panel-message-${m.seq}-pin`,
        question: `Pin message #${m.seq} by ${who} above the room, for everyone in it?${replaces}`,
        label: 'Pin message',
        run: (go) => act(go, { kind: 'message', seq: m.seq, action: 'pin' }, () => moderate({ action: 'pin', target: m.seq }),
          `Message #${m.seq} pinned above the room.`),
      });
    });
  }
  return bar;
}

const moderate = (body) => api('POST', `${roomPath(current.room)}/moderation`, body);

let panel = null; // { node, opener, stale? }

function closePanel(refocus = true) {
  if (!panel) return;
  const { node, opener } = panel;
  panel = null;
  node.remove();
  if (refocus && opener.isConnected) opener.focus();
}

/**
 * Open the inline confirmation step of `opener` (a second click on it closes
 * it): a group labelled by its question, put after `anchor` (by default the
 * opener's row of buttons). Focus goes to its first field, else to its
 * confirm button; Cancel or Escape closes it and gives focus back to the
 * opener. A key held down (a repeated Enter or Space) presses none of its
 * buttons: the press that opened it cannot go on to confirm it.
 */
function showPanel(opener, { id, question, anchor = opener.closest('.actions'), stale }, ...content) {
  const reopen = panel?.opener === opener;
  closePanel(false);
  if (reopen) { opener.focus(); return; }
  const node = el('div', { className: 'confirm', attrs: { role: 'group', id, 'aria-labelledby': `${id}-title` } },
    el('p', { attrs: { id: `${id}-title` }, text: question }));
  node.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.preventDefault(); closePanel(); }
    else if (e.repeat && (e.key === 'Enter' || e.key === ' ') && e.target.tagName === 'BUTTON') e.preventDefault();
  });
  const cancel = el('button', { className: 'secondary', text: 'Cancel', attrs: { type: 'button' }, on: { click: () => closePanel() } });
  const buttons = content.filter((c) => c.tagName === 'BUTTON');
  node.append(...content.filter((c) => c.tagName !== 'BUTTON'), el('div', { className: 'buttons' }, buttons, cancel));
  anchor.after(node);
  panel = { node, opener, stale };
  (node.querySelector('select, input') || node.querySelector('[data-confirm]')).focus();
  (opener.closest('.card') ?? node).scrollIntoView?.({ block: 'nearest' });
}

/** The confirmation step of a one-step action: its question, then `label` (runs `run(button)`) and Cancel. */
function confirmStep(opener, { id, question, label, anchor, run, stale }) {
  const go = el('button', { className: 'primary', text: label, attrs: { type: 'button', 'data-confirm': opener.dataset.action ?? opener.id } });
  go.addEventListener('click', () => run(go));
  showPanel(opener, { id, question, anchor, stale }, go);
}

/** The inline confirmation under a message: delete, or mute / ban with a duration and a reason. */
function openPanel(opener, m, action, inReport) {
  const who = senderName(m);
  const kind = inReport ? 'report' : 'message';
  const id = `panel-${kind}-${m.seq}-${action}`;
  if (action === 'delete') {
    const go = el('button', { className: 'danger', text: 'Delete message', attrs: { type: 'button', 'data-confirm': 'delete' } });
    go.addEventListener('click', () => act(go, { kind, seq: m.seq, action: 'delete' },
      () => api('DELETE', `${roomPath(current.room)}/messages/${m.seq}`), `Message #${m.seq} by ${who} deleted.`));
    showPanel(opener, { id, question: `Delete message #${m.seq} by ${who} for everyone? This cannot be undone.` }, go);
    return;
  }
  const verb = action === 'mute' ? 'Mute' : 'Ban';
  const undo = action === 'mute' ? 'Unmute' : 'Unban';
  const select = el('select', { attrs: { id: `${id}-for` } },
    DURATIONS.map(([s, text]) => el('option', { text, attrs: { value: s } })));
  select.value = action === 'mute' ? '600' : '86400';
  const reason = el('input', { attrs: { id: `${id}-reason`, maxlength: '200', autocomplete: 'off' } });
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
  showPanel(opener, {
    id,
    question: action === 'mute'
      ? `Mute ${who}: they can read but not write.`
      : `Ban ${who}: they are disconnected and cannot join this room (anonymous visitors: their address too).`,
  },
  el('div', { className: 'field-inline' }, el('label', { attrs: { for: select.id }, text: 'For' }), select),
  el('div', { className: 'field-inline' }, el('label', { attrs: { for: reason.id }, text: 'Reason (optional)' }), reason),
  go, lift);
}

let busy = false;

/** One action at a time: a click meanwhile is told so, not dropped unsaid. */
function stillBusy() {
  if (busy) say('Still working on the last action.');
  return busy;
}

/** `text` about the room `view` shows, naming it if the owner has opened another room (or site) since. */
const about = (view, text) => (current === view ? text : `In ${view.room}: ${text}`);

/**
 * Run an action: `call` is the API request. Then the room's reports and the
 * message are read again and shown, and focus goes back where it makes sense:
 * the same button on the same card, else the card, else the next card in the
 * list, else the list's heading.
 */
async function act(button, { kind, seq, action, verb = action }, call, success) {
  if (stillBusy()) return;
  busy = true;
  ownChange();
  const view = current;
  const step = panel?.node.contains(button) ? panel : null;
  const card = button.closest('.card');
  const list = card?.parentElement;
  const index = list ? [...list.children].indexOf(card) : -1;
  const listId = list?.id;
  button.setAttribute('aria-disabled', 'true');
  card?.setAttribute('aria-busy', 'true');
  try {
    await call();
    say(about(view, success));
    refreshRoomsNow();
  } catch (err) {
    say(about(view, `Could not ${verb} (message #${seq}): ${err.message}`), true);
    button.removeAttribute('aria-disabled');
    card?.removeAttribute('aria-busy');
    busy = false;
    if (button.isConnected) button.focus();
    return;
  }
  try {
    if (current === view) {
      await Promise.all([reloadReports(), reloadMessage(seq), reloadOverview()]);
    }
  } catch (err) {
    say(`${success} The room could not be read again: ${err.message}`, true);
  }
  busy = false;
  if (current !== view) return;
  // Only this action's step: one the owner opened while the room was read
  // again stays open, and keeps the focus.
  if (panel === step) closePanel(false);
  renderRoom();
  // Cards are kept across renders now: this one is no longer busy.
  card?.removeAttribute('aria-busy');
  if (panel) return;
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
  // Nothing to page from (hidden with it): never `before=null`.
  if (!current?.reportsNext) return;
  const view = current;
  const { room } = view;
  try {
    const before = groupReports(current.reports).length;
    const page = await api('GET', `${roomPath(room)}/reports?limit=${PAGE}&before=${current.reportsNext}`);
    if (current !== view) return;
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
  if (!current?.earlier) return;
  const view = current;
  const { room } = view;
  try {
    const page = await api('GET', `${roomPath(room)}/messages?limit=${PAGE}&before=${current.earlier}`);
    if (current !== view) return;
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
 * unban), confirmed with `button` in its confirmation step: then the panel is
 * read again, the step closes, and focus goes back to the button that opened
 * it, or when that one is gone or hidden to what `refocus` answers.
 */
async function roomAction(button, body, success, failure, refocus) {
  if (stillBusy()) return;
  busy = true;
  ownChange();
  const view = current;
  const step = panel?.node.contains(button) ? panel : null;
  button.setAttribute('aria-disabled', 'true');
  try {
    await moderate(body);
  } catch (err) {
    say(about(view, `Could not ${failure}: ${err.message}`), true);
    busy = false;
    button.removeAttribute('aria-disabled');
    return;
  }
  say(about(view, success));
  refreshRoomsNow();
  await reloadOverview();
  busy = false;
  button.removeAttribute('aria-disabled');
  if (current !== view) return;
  if (current.overviewError) say(`${success} What is in force could not be read again: ${current.overviewError.message}`, true);
  // Only the step of this action: the owner may have opened another one meanwhile.
  const stillOpen = step && panel === step;
  if (stillOpen) closePanel(false);
  renderState();
  if (!stillOpen) return;
  const { opener } = step;
  if (opener.isConnected && !opener.hidden) opener.focus();
  else refocus?.()?.focus();
}

/** The confirmation step of an action on the whole room, under the line of lock and slow mode. */
const roomStep = (opener, id, question, label, body, success, failure, refocus) => confirmStep(opener, {
  id, question, label, anchor: $('state-line'),
  run: (go) => roomAction(go, body, success, failure, refocus),
});

$('slow-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const seconds = Number($('slow-seconds').value);
  const { room } = current;
  roomStep(e.submitter || $('slow-form').querySelector('button'), 'confirm-slow',
    seconds ? `Set slow mode in ${room}: one message per ${seconds} seconds per member?` : `Turn slow mode off in ${room}?`,
    seconds ? 'Set slow mode' : 'Turn slow mode off', { action: 'slow', seconds },
    seconds ? `Slow mode in ${room}: one message per ${seconds} seconds per member.` : `Slow mode off in ${room}.`,
    'set slow mode');
});
// A step asked about another value than the one now picked is not the owner's question any more.
$('slow-seconds').addEventListener('change', () => {
  if (panel?.node.id === 'confirm-slow') closePanel(false);
});
// Lock and Unlock: the one that applies shows; after it, focus goes to the other (what undoes it).
$('lock').addEventListener('click', (e) => roomStep(e.currentTarget, 'confirm-lock',
  `Lock room ${current.room}? Only moderators and this console can write in it until it is unlocked.`, 'Lock room',
  { action: 'lock' }, `Room ${current.room} locked: only moderators can write.`, 'lock', () => $('unlock')));
$('unlock').addEventListener('click', (e) => roomStep(e.currentTarget, 'confirm-unlock',
  `Unlock room ${current.room}? Everyone in it can write again.`, 'Unlock room',
  { action: 'unlock' }, `Room ${current.room} unlocked.`, 'unlock', () => $('lock')));

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
  const view = current;
  const { room } = view;
  if (!pendingPost || pendingPost.room !== room || pendingPost.name !== name || pendingPost.text !== text) {
    const random = crypto.getRandomValues(new Uint8Array(12));
    pendingPost = { room, name, text, id: `console-${[...random].map((b) => b.toString(16).padStart(2, '0')).join('')}` };
  }
  busy = true;
  ownChange();
  const button = $('bot-form').querySelector('button[type=submit]');
  button.setAttribute('aria-disabled', 'true');
  try {
    const res = await api('POST', `${roomPath(room)}/messages`, { name, message: text, id: pendingPost.id });
    pendingPost = null;
    localStorage.setItem(BOT_NAME_KEY, name);
    $('bot-text').value = '';
    countBotText();
    say(`Posted in ${room} as ${name} (message #${res.seq}).`);
    refreshRoomsNow();
    if (current === view) {
      await Promise.all([loadNewer().catch(() => {}), reloadOverview()]);
      if (current === view) renderRoom();
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
