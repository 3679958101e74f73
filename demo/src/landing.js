// The demo's landing page: pick or create a room, choose a name (remembered),
// share the room by link or QR code, switch light/dark theme. The widget is
// mounted through the <script> embed, exactly as a site owner would.
import qrcode from 'qrcode-generator';

const NAME_KEY = 'hello-chat-demo-name';
const THEME_KEY = 'hello-chat-demo-theme';
const ROOM_RE = /^[A-Za-z0-9_-]{1,64}$/;
const $ = (id) => document.getElementById(id);

const params = new URLSearchParams(location.search);
const state = {
  room: ROOM_RE.test(params.get('room') || '') ? params.get('room') : 'lobby',
  name: params.get('name') || localStorage.getItem(NAME_KEY) || `Guest ${Math.floor(Math.random() * 900 + 100)}`,
  theme: localStorage.getItem(THEME_KEY) || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'),
};

function roomLink() {
  const url = new URL(location.href);
  url.search = new URLSearchParams({ room: state.room }).toString();
  return url.toString();
}

function drawQr(text) {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const canvas = $('qr');
  const ctx = canvas.getContext('2d');
  const count = qr.getModuleCount();
  const quiet = 2;
  const cell = Math.floor(canvas.width / (count + quiet * 2));
  const offset = Math.floor((canvas.width - cell * count) / 2);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = '#000000';
  for (let r = 0; r < count; r++) {
    for (let c = 0; c < count; c++) {
      if (qr.isDark(r, c)) ctx.fillRect(offset + c * cell, offset + r * cell, cell, cell);
    }
  }
  canvas.setAttribute('aria-label', `QR code to open room ${state.room} on a phone: ${text}`);
}

function mountChat() {
  window.demoChat?.destroy();
  window.demoChat = HelloChat.mount($('chat'), { room: state.room, name: state.name, theme: state.theme, height: 480 });
}

function applyTheme() {
  document.documentElement.dataset.theme = state.theme;
  const toggle = $('theme-toggle');
  // One name, the state in aria-pressed: "Light theme, pressed" would say the opposite of what is on.
  toggle.setAttribute('aria-pressed', String(state.theme === 'dark'));
}

function showRoom() {
  $('room').value = state.room;
  const link = roomLink();
  $('share-link').value = link;
  history.replaceState(null, '', `?room=${encodeURIComponent(state.room)}`);
  drawQr(link);
}

function switchRoom(room) {
  if (!ROOM_RE.test(room) || room === state.room) return;
  state.room = room;
  showRoom();
  mountChat();
}

$('room-form').addEventListener('submit', (e) => {
  e.preventDefault();
  switchRoom($('room').value.trim());
});
$('new-room').addEventListener('click', () => {
  const words = ['amber', 'birch', 'cedar', 'delta', 'ember', 'fjord', 'grove', 'harbor', 'island', 'juniper'];
  const word = words[Math.floor(Math.random() * words.length)];
  switchRoom(`${word}-${crypto.getRandomValues(new Uint32Array(1))[0].toString(36)}`);
  $('copy-link').focus();
});
$('name').value = state.name;
$('name').addEventListener('change', () => {
  const name = $('name').value.trim();
  if (!name || name === state.name) return;
  state.name = name;
  localStorage.setItem(NAME_KEY, name);
  mountChat();
});
$('copy-link').addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText($('share-link').value);
    $('copy-status').textContent = 'Link copied.';
  } catch {
    $('share-link').select();
    $('copy-status').textContent = 'Select the link and copy it.';
  }
});
$('theme-toggle').addEventListener('click', () => {
  state.theme = state.theme === 'dark' ? 'light' : 'dark';
  localStorage.setItem(THEME_KEY, state.theme);
  applyTheme();
  mountChat();
});
$('script-origin').textContent = location.origin;

applyTheme();
showRoom();
mountChat();
