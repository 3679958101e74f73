// npm entry: `import { HelloChat } from "hello-chat"`.
// Safe to import during server-side rendering: nothing touches `window` or
// loads the wasm until the first `mount` call (in the browser).
import { createHelloChat } from './api.js';
import { createConnect } from './connect.js';

// Each wasm is imported on first use: a page that only calls `connect`
// never downloads the widget's module, and one that only mounts never
// downloads the headless client's.
const origin = () => globalThis.location?.origin ?? '';
export const HelloChat = createHelloChat(async () => {
  const glue = await import('./hello_chat.js');
  await glue.default({ module_or_path: new URL('./hello_chat_bg.wasm', import.meta.url) });
  return glue;
}, origin);
HelloChat.connect = createConnect(async () => {
  const glue = await import('./hello_chat_headless.js');
  await glue.default({ module_or_path: new URL('./hello_chat_headless_bg.wasm', import.meta.url) });
  return glue;
}, origin);

export default HelloChat;
