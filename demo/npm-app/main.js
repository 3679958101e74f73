// A bundler user's view of Hello Chat: one import, no plugins.
import { HelloChat } from 'hello-chat';

const params = new URLSearchParams(location.search);
const chat = HelloChat.mount(document.getElementById('chat'), {
  room: params.get('room') || 'npm-demo',
  name: params.get('name') || 'Vite fan',
});
chat.on('status', ({ status }) => {
  document.getElementById('status').textContent = `Widget status: ${status}`;
});
window.npmChat = chat;
