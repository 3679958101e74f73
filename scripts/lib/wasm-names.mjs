// Short names for what wasm-bindgen's glue and its wasm call each other by.
//
// wasm-bindgen names every import after the JavaScript it wraps plus a hash
// (`__wbg_addEventListener_847fd86b8c33ec43`), all from the module
// "./hello_chat_bg.js", and some exports after the closure types they invoke
// (over 100 characters each). The names are in the wasm and again in the
// glue, and hashes do not compress: together about 5 KB of the gzipped
// embed. This renames them to `_0`, `_1`, ... in both, consistently. Nothing
// else reads them: the page sees only the glue's own exports.

/** LEB128 (unsigned) at `at` in `buf`: [value, next offset]. */
function readU32(buf, at) {
  let value = 0;
  let shift = 0;
  let byte;
  do {
    byte = buf[at++];
    value |= (byte & 0x7f) << shift;
    shift += 7;
  } while (byte & 0x80);
  return [value >>> 0, at];
}

function u32(n) {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
}

function readName(buf, at) {
  const [len, start] = readU32(buf, at);
  return [buf.subarray(start, start + len).toString('utf8'), start + len];
}

const name = (s) => {
  const bytes = Buffer.from(s, 'utf8');
  return [...u32(bytes.length), ...bytes];
};

/** Where an import's description ends (function, table, memory or global). */
function skipImportDesc(buf, at) {
  const kind = buf[at++];
  const limits = () => {
    const flags = buf[at++];
    [, at] = readU32(buf, at);
    if (flags & 1) [, at] = readU32(buf, at);
  };
  if (kind === 0) [, at] = readU32(buf, at);
  else if (kind === 1) { at++; limits(); }
  else if (kind === 2) limits();
  else if (kind === 3) at += 2;
  else throw new Error(`wasm-names: unknown import kind ${kind}`);
  return at;
}

/**
 * Exports renamed too: the closure invokers (named after their types, over
 * 100 characters), and the others (`__wbindgen_malloc`, `widget_send`, ...),
 * which the glue names at every call. Not the memory, which the glue reaches
 * as `wasm.memory`, a word too common to replace, nor any export the glue
 * does not name (`__abort_handler`).
 */
const KEPT_EXPORTS = new Set(['memory']);

/**
 * `wasm` (Buffer) and its glue (`glue`, the JavaScript source) with short
 * import and export names; `moduleName` is the glue's import module
 * ("./hello_chat_bg.js"). Throws if anything is not as expected, so that a
 * new wasm-bindgen cannot break the build silently.
 */
export function shortenNames(wasm, glue, moduleName) {
  const renames = new Map();
  const fresh = () => `_${renames.size.toString(36)}`;
  const parts = [wasm.subarray(0, 8)];
  let at = 8;
  while (at < wasm.length) {
    const id = wasm[at];
    const [size, start] = readU32(wasm, at + 1);
    let body = wasm.subarray(start, start + size);
    if (id === 2 || id === 7) {
      let p;
      let count;
      [count, p] = readU32(body, 0);
      const out = [...u32(count)];
      for (let i = 0; i < count; i++) {
        if (id === 2) {
          let module;
          let field;
          [module, p] = readName(body, p);
          [field, p] = readName(body, p);
          if (module !== moduleName) throw new Error(`wasm-names: an import from ${module}`);
          const desc = p;
          p = skipImportDesc(body, p);
          if (!renames.has(field)) renames.set(field, fresh());
          out.push(...name('m'), ...name(renames.get(field)), ...body.subarray(desc, p));
        } else {
          let field;
          [field, p] = readName(body, p);
          const desc = p;
          p += 1;
          [, p] = readU32(body, p);
          if (!KEPT_EXPORTS.has(field) && new RegExp(`\\b${field}\\b`).test(glue)) renames.set(field, fresh());
          out.push(...name(renames.get(field) ?? field), ...body.subarray(desc, p));
        }
      }
      body = Buffer.from(out);
    }
    parts.push(Buffer.from([id, ...u32(body.length)]), body);
    at = start + size;
  }
  const moduleKey = `${JSON.stringify(moduleName)}:`;
  if (!glue.includes(moduleKey)) throw new Error(`wasm-names: the glue has no ${moduleKey}`);
  let js = glue.replace(moduleKey, 'm:');
  for (const [from, to] of renames) {
    const word = new RegExp(`\\b${from}\\b`, 'g');
    if (!word.test(js)) throw new Error(`wasm-names: ${from} is not in the glue`);
    js = js.replace(word, to);
  }
  const shortened = Buffer.concat(parts);
  new WebAssembly.Module(shortened); // still valid
  return { wasm: shortened, glue: js };
}
