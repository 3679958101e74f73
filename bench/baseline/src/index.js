// The baseline for `npm run bench`: JavaScript Durable Objects doing what the
// workshop's room does (hibernating WebSockets, one storage write per message,
// broadcast to the others, the whole history sent on join), and an echo room
// (the same fan-out with no storage), as the ceiling of what workerd allows.
// They speak the workshop's frames: {"message"} in, {name, message, timestamp} out.
import { DurableObject } from 'cloudflare:workers';

class Room extends DurableObject {
  async fetch(request) {
    const url = new URL(request.url);
    const name = url.searchParams.get('name')?.trim() || 'Anonymous';
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[0]);
    pair[0].serializeAttachment({ name });
    this.broadcast({ message: 'joined the chat', name, timestamp: Date.now() }, pair[0]);
    this.sendHistory(pair[0]);
    return new Response(null, { status: 101, webSocket: pair[1] });
  }

  sendHistory() {}
  store() {}

  broadcast(data, self) {
    const text = JSON.stringify({ message: data.message, name: data.name, timestamp: data.timestamp });
    for (const ws of this.ctx.getWebSockets()) {
      if (ws === self) continue;
      try { ws.send(text); } catch { /* closing */ }
    }
  }

  async webSocketMessage(ws, data) {
    try {
      const { message } = JSON.parse(data);
      if (!message || typeof message !== 'string' || message.trim().length === 0) return;
      const { name } = ws.deserializeAttachment();
      const chatMessage = { message: message.trim(), name, timestamp: Date.now() };
      this.store(chatMessage);
      this.broadcast(chatMessage, ws);
    } catch (error) {
      console.error('Error processing message:', error);
    }
  }

  webSocketClose(ws) {
    const { name } = ws.deserializeAttachment();
    this.broadcast({ message: 'left the chat', name, timestamp: Date.now() }, ws);
  }

  webSocketError() {}
}

/** The workshop room. One deviation: keys get a counter so that messages in the
 *  same millisecond are not lost (the workshop keys by timestamp alone), so both
 *  servers store the same number of messages. */
export class Chat extends Room {
  counter = 0;

  sendHistory(ws) {
    for (const [, m] of this.ctx.storage.kv.list({ prefix: 'msg_' })) {
      ws.send(JSON.stringify({ message: m.message, name: m.name, timestamp: m.timestamp }));
    }
  }

  store(m) {
    this.counter += 1;
    this.ctx.storage.kv.put(`msg_${m.timestamp}_${String(this.counter).padStart(9, '0')}`, m);
  }
}

/** Fan-out only: no storage, no history. */
export class Echo extends Room {}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/health') return new Response('ok');
    const room = url.searchParams.get('room') || 'bench';
    const ns = url.pathname === '/echo' ? env.ECHO : env.CHAT;
    return ns.get(ns.idFromName(room)).fetch(request);
  },
};
