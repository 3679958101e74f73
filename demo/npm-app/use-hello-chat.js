// A React hook over HelloChat.connect: the chat's session (reconnect,
// resume, outbox, no duplicates) as React state, for a UI of your own.
// Copy it into your app; it is an example, not part of the package.
import { useEffect, useRef, useState } from 'react';
import { HelloChat } from 'hello-chat';

/**
 * @param {{ room: string, name?: string, site?: string, server?: string, token?: string }} options
 * @returns {{ messages: object[], pending: {id: string, text: string, failed?: string}[], status: string,
 *   unread: number, send: (text: string) => void, markRead: (seq: number) => void,
 *   retry: (id: string) => void, discard: (id: string) => void }}
 */
export function useHelloChat(options) {
  const [messages, setMessages] = useState([]);
  const [pending, setPending] = useState([]);
  const [status, setStatus] = useState('connecting');
  const [unread, setUnread] = useState(0);
  const client = useRef(null);
  const { room, name, site, server, token } = options;

  useEffect(() => {
    // Another room (or name, or token): nothing of the last one stays on screen.
    setMessages([]);
    setPending([]);
    setStatus('connecting');
    setUnread(0);
    let c;
    try {
      c = HelloChat.connect({ room, name, site, server, token });
    } catch (err) {
      // Options connect refuses (a bad room): say so instead of unmounting the app.
      setStatus(`failed: ${err.message}`);
      return undefined;
    }
    client.current = c;
    c.on('message', (m) => setMessages((list) => [...list, m]));
    c.on('older', ({ messages: older }) => setMessages((list) => [...older, ...list]));
    c.on('update', (m) => setMessages((list) => list.map((x) => (x.seq === m.seq ? m : x))));
    // (Retry queues a message again under its id: it replaces its failed entry.)
    c.on('pending', (p) => setPending((list) => (list.some((x) => x.id === p.id)
      ? list.map((x) => (x.id === p.id ? p : x)) : [...list, p])));
    c.on('sent', ({ id }) => setPending((list) => list.filter((p) => p.id !== id)));
    // Refused for good (the room locked, a ban...): not sending any more, until retry().
    c.on('failed', ({ id, code }) => setPending((list) => list.map((p) => (p.id === id ? { ...p, failed: code } : p))));
    c.on('renamed', ({ id, newId }) => setPending((list) => list.map((p) => (p.id === id ? { id: newId, text: p.text } : p))));
    c.on('status', (s) => setStatus(s.status));
    c.on('unread', ({ count }) => setUnread(count));
    return () => {
      c.close();
      if (client.current === c) client.current = null;
    };
  }, [room, name, site, server, token]);

  return {
    messages,
    pending,
    status,
    unread,
    send: (text) => client.current?.send(text),
    markRead: (seq) => client.current?.markRead(seq),
    retry: (id) => client.current?.retry(id),
    discard: (id) => {
      if (client.current?.discard(id)) setPending((list) => list.filter((p) => p.id !== id));
    },
  };
}
