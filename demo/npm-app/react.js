// A chat UI of its own, in React, on HelloChat.connect (see use-hello-chat.js).
// Plain createElement calls: no JSX step needed for this small example.
import { createElement as h, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { useHelloChat } from './use-hello-chat.js';

function Chat({ room, name, site }) {
  const chat = useHelloChat({ room, name, site });
  const [draft, setDraft] = useState('');
  const last = chat.messages.at(-1);
  // Everything rendered is seen: this page shows the whole list.
  useEffect(() => { if (last) chat.markRead(last.seq); }, [last?.seq]);

  const submit = (e) => {
    e.preventDefault();
    if (draft.trim()) chat.send(draft);
    setDraft('');
  };
  return h('section', { className: 'react-chat', 'aria-label': `Room ${room}` },
    h('p', { id: 'react-status', 'aria-live': 'polite' }, `Status: ${chat.status}`),
    h('ul', { id: 'react-messages' },
      chat.messages.map((m) => h('li', { key: m.seq, className: m.own ? 'own' : undefined },
        h('b', null, m.name), ' ', m.deleted ? '(deleted)' : m.message)),
      chat.pending.map((p) => h('li', { key: p.id, className: p.failed ? 'failed' : 'pending' }, p.text,
        p.failed
          ? [` (not sent: ${p.failed}) `,
            h('button', { type: 'button', key: 'retry', onClick: () => chat.retry(p.id) }, 'Retry'), ' ',
            h('button', { type: 'button', key: 'discard', onClick: () => chat.discard(p.id) }, 'Discard')]
          : ' (sending…)'))),
    h('form', { onSubmit: submit },
      h('label', { htmlFor: 'react-input' }, 'Message'), ' ',
      h('input', { id: 'react-input', value: draft, onChange: (e) => setDraft(e.target.value), autoComplete: 'off' }),
      ' ', h('button', { type: 'submit' }, 'Send')));
}

/** The chat, and a field to move it to another room (the hook starts that room clean). */
function App({ site, name, first }) {
  const [room, setRoom] = useState(first);
  const [next, setNext] = useState(first);
  return h('div', null,
    h('form', { onSubmit: (e) => { e.preventDefault(); if (next.trim()) setRoom(next.trim()); } },
      h('label', { htmlFor: 'react-room' }, 'Room'), ' ',
      h('input', { id: 'react-room', value: next, onChange: (e) => setNext(e.target.value), autoComplete: 'off' }),
      ' ', h('button', { type: 'submit' }, 'Go')),
    h(Chat, { room, name, site }));
}

const params = new URLSearchParams(location.search);
createRoot(document.getElementById('react-chat')).render(
  h(App, { site: params.get('site') || undefined, name: params.get('name') || 'React fan', first: params.get('room') || 'react-demo' }));
