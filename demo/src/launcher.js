// The launcher demo: how a typical site embeds a chat. A bubble in the corner
// shows the unread count and opens a panel holding the widget; Escape (when
// the chat did not use it) or the close button hides it and returns focus to
// the bubble.
const $ = (id) => document.getElementById(id);
const panel = $('chat-panel');
const bubble = $('open-chat');
const unreadBadge = $('unread');
let unread = 0;
let ready = false;

const params = new URLSearchParams(location.search);
const chat = HelloChat.mount($('chat'), {
  room: params.get('room') || 'acme-support',
  name: params.get('name') || localStorage.getItem('hello-chat-demo-name') || 'Shopper',
  height: 440,
});
window.demoChat = chat;

// Count messages from others that arrive while the panel is closed; the
// history shown when the widget connects is not "unread".
chat.on('status', ({ status }) => { if (status === 'connected') setTimeout(() => { ready = true; }, 500); });
chat.on('message', (m) => {
  if (!ready || m.own || !panel.hidden) return;
  unread += 1;
  renderUnread();
});

function renderUnread() {
  unreadBadge.hidden = unread === 0;
  unreadBadge.textContent = unread > 99 ? '99+' : String(unread);
  bubble.setAttribute('aria-label', unread ? `Open chat, ${unread} unread` : 'Open chat');
}

function setOpen(open) {
  panel.hidden = !open;
  bubble.setAttribute('aria-expanded', String(open));
  if (open) {
    unread = 0;
    renderUnread();
    $('close-chat').focus();
  } else {
    bubble.focus();
  }
}

bubble.addEventListener('click', () => setOpen(panel.hidden));
$('close-chat').addEventListener('click', () => setOpen(false));
// Escape closes the panel, unless the chat used it: the widget marks the
// keys it handles (closing a message's menu, the image viewer or the mention
// list, cancelling a reply) with preventDefault, as the product launcher
// (sdk/js/launcher.js) relies on.
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && !e.defaultPrevented && !panel.hidden) setOpen(false);
});
renderUnread();
