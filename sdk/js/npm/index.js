// npm entry: `import { HelloChat } from "hello-chat"`.
// Safe to import during server-side rendering: nothing touches `window` or
// loads the wasm until the first `mount` call (in the browser).
import { createHelloChat } from './api.js';

export const HelloChat = createHelloChat(async () => {
  const glue = await import('./hello_chat.js');
  await glue.default({ module_or_path: new URL('./hello_chat_bg.wasm', import.meta.url) });
  return glue;
}, () => globalThis.location?.origin ?? '');

export default HelloChat;
