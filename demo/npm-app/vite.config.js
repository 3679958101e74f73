// Builds the npm demo into dist/public/npm/ (served by the worker at /npm/).
// No plugins: the package's `new URL('./hello_chat_bg.wasm', import.meta.url)`
// is understood by Vite (and webpack 5) as an asset reference.
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

export default {
  root,
  base: '/npm/',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../../dist/public/npm', import.meta.url)),
    emptyOutDir: true,
    rollupOptions: {
      // The widget page, and the headless client in a React UI of its own.
      input: { main: `${root}index.html`, react: `${root}react.html` },
    },
  },
};
