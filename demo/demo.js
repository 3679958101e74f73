// The demo page: one widget, room and name from the URL (?room=...&name=...).
const params = new URLSearchParams(location.search);
const room = params.get('room') || 'lobby';
const name = params.get('name') || localStorage.getItem('hello-chat-demo-name') || 'Guest';
window.demoChat = HelloChat.mount(document.getElementById('chat'), { room, name });
