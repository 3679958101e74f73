// Files in the widget, in real Chromium against the real worker: picked with
// the button, pasted and dropped; downscaled (and EXIF dropped) in the
// browser before upload; sent offline and delivered once; shown as
// thumbnails with their space reserved, opening an accessible viewer; other
// files as cards; progress and Cancel; destroy() leaves no object URL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, admin, createSite, join, launchBrowser, mintToken, sleep, uniqueRoom, waitForStatus, widgetPage } from './helpers.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** Helpers in the page: `makeImage` draws a w×h gradient and returns it as a File. */
function pageHelpers() {
  window.root = () => document.querySelector('[data-hello-chat-host]').shadowRoot;
  window.makeImage = async (w, h, type = 'image/png', name = 'image.png') => {
    const c = document.createElement('canvas');
    c.width = w;
    c.height = h;
    const g = c.getContext('2d');
    const grad = g.createLinearGradient(0, 0, w, h);
    grad.addColorStop(0, '#c00000');
    grad.addColorStop(1, '#0000c0');
    g.fillStyle = grad;
    g.fillRect(0, 0, w, h);
    const blob = await new Promise((r) => c.toBlob(r, type, 0.92));
    return new File([blob], name, { type });
  };
  // A 700×700 PNG of noise (about 1.5 MB: it does not compress), as a File.
  window.makeNoise = async () => {
    const c = document.createElement('canvas');
    c.width = 700;
    c.height = 700;
    const g = c.getContext('2d');
    const data = g.createImageData(700, 700);
    for (let i = 0; i < data.data.length; i++) data.data[i] = (Math.random() * 256) | 0;
    g.putImageData(data, 0, 0);
    const blob = await new Promise((r) => c.toBlob(r, 'image/png'));
    return new File([blob], 'noise.png', { type: 'image/png' });
  };
  window.base64 = async (blob) => {
    let s = '';
    for (const b of new Uint8Array(await blob.arrayBuffer())) s += String.fromCharCode(b);
    return btoa(s);
  };
}

/** Two widgets in one room, each in its own browser context, both connected. */
async function pair(prefix, contextOptions = {}) {
  const room = uniqueRoom(prefix);
  const ctxA = await browser.newContext(contextOptions);
  const ctxB = await browser.newContext();
  const ada = await widgetPage(ctxA, { room, name: 'Ada' });
  const bo = await widgetPage(ctxB, { room, name: 'Bo' });
  await Promise.all([waitForStatus(ada, 'connected'), waitForStatus(bo, 'connected')]);
  await Promise.all([ada.evaluate(pageHelpers), bo.evaluate(pageHelpers)]);
  return { room, ada, bo, ctxA, ctxB, close: () => Promise.all([ctxA.close(), ctxB.close()]) };
}

/** Bytes of an image drawn in `page` (for a file chooser). */
const imageBytes = (page, w, h, type = 'image/png') =>
  page.evaluate(async ([w, h, type]) => window.base64(await window.makeImage(w, h, type)), [w, h, type])
    .then((b64) => Buffer.from(b64, 'base64'));

/** The image with `alt` in `page`'s list, once it has loaded: its natural and reserved sizes. */
async function loadedImage(page, alt) {
  await page.locator(`.hc-list img[alt="${alt}"]`).waitFor({ timeout: 15000 });
  const handle = await page.waitForFunction((alt) => {
    const img = window.root().querySelector(`.hc-list img[alt="${CSS.escape(alt)}"]`);
    return img && img.complete && img.naturalWidth > 0 && img;
  }, alt, { timeout: 15000 });
  return handle.evaluate((img) => ({
    natural: [img.naturalWidth, img.naturalHeight],
    attrs: [Number(img.getAttribute('width')), Number(img.getAttribute('height'))],
    src: img.src,
    lazy: img.getAttribute('loading'),
  }));
}

/** `message` events seen by `page` that carry files. */
const fileMessages = (page) => page.evaluate(() =>
  window.events.filter(([e, d]) => e === 'message' && d.attachments.length > 0).map(([, d]) => d));

test('a picked image goes with the file button: alt text from its name, editable; the others see it inline', async () => {
  const { ada, bo, close } = await pair('pick');
  const png = await imageBytes(ada, 320, 200);

  const attach = ada.getByRole('button', { name: 'Attach files' });
  const chooser = ada.waitForEvent('filechooser');
  await attach.click();
  await (await chooser).setFiles([
    { name: 'red-square.png', mimeType: 'image/png', buffer: png },
    { name: 'second.png', mimeType: 'image/png', buffer: png },
  ]);
  const staged = ada.locator('.hc-tray .hc-staged');
  await ada.locator('.hc-tray .hc-staged[data-state="ready"]').nth(1).waitFor();
  assert.equal(await staged.count(), 2);
  const alt = ada.getByRole('textbox', { name: 'Description of red-square.png' });
  assert.equal(await alt.inputValue(), 'red-square', 'alt text starts as the file name without extension');

  // Removing one: its button is labelled, focus moves on to the other's.
  await ada.getByRole('button', { name: 'Remove second.png' }).click();
  assert.equal(await staged.count(), 1);
  assert.equal(await ada.evaluate(() => window.root().activeElement?.getAttribute('aria-label')), 'Remove red-square.png');

  await alt.fill('A red square');
  await ada.locator('.hc-input').fill('look at this');
  await ada.locator('.hc-input').press('Enter');
  assert.equal(await staged.count(), 0, 'the tray empties when it is sent');

  const img = await loadedImage(bo, 'A red square');
  assert.deepEqual(img.natural, [320, 200]);
  assert.deepEqual(img.attrs, [240, 150], 'space reserved from the measured size, scaled to a thumbnail');
  assert.equal(img.lazy, 'lazy');
  assert.ok(img.src.startsWith(`${BASE}/files/`), img.src);
  await bo.locator('.hc-list .hc-text', { hasText: 'look at this' }).waitFor();
  const [m] = await fileMessages(bo);
  assert.deepEqual(
    { message: m.message, name: m.attachments[0].name, mime: m.attachments[0].mime, width: m.attachments[0].width, height: m.attachments[0].height, alt: m.attachments[0].alt },
    { message: 'look at this', name: 'red-square.png', mime: 'image/png', width: 320, height: 200, alt: 'A red square' },
  );
  assert.ok(m.attachments[0].url.startsWith(`${BASE}/files/`));
  // The sender sees its own message with the image too.
  // (Delivered: the outbox, an .hc-list too, shows a pending one's preview with that alt.)
  await ada.locator('.hc-list:not(.hc-outbox) .hc-own img[alt="A red square"]').waitFor();
  await close();
});

test('a pasted image and a dropped one are attached and arrive inline', async () => {
  const { ada, bo, close } = await pair('paste');

  const pasted = await ada.evaluate(async () => {
    const dt = new DataTransfer();
    dt.items.add(await window.makeImage(200, 120, 'image/png', 'screenshot.png'));
    const event = new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true, composed: true });
    window.root().querySelector('.hc-input').dispatchEvent(event);
    return event.defaultPrevented;
  });
  assert.equal(pasted, true, 'the paste is taken as a file, not text');
  await ada.locator('.hc-tray .hc-staged[data-state="ready"]').waitFor();
  await ada.locator('.hc-input').press('Enter');
  assert.deepEqual((await loadedImage(bo, 'screenshot')).natural, [200, 120]);
  assert.equal((await fileMessages(bo))[0].message, '', 'a message may be a file alone');

  // Cells copied from a spreadsheet: their text (plain and HTML) and a
  // picture of them. The text goes in the composer (the browser inserts it),
  // the picture is staged. A file copied from a file manager: its name as
  // plain text, which is not pasted.
  const paste = (text, name, html) => ada.evaluate(async ([text, name, html]) => {
    const dt = new DataTransfer();
    dt.setData('text/plain', text);
    if (html) dt.setData('text/html', html);
    dt.items.add(await window.makeImage(60, 20, 'image/png', name));
    const event = new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true, composed: true });
    window.root().querySelector('.hc-input').dispatchEvent(event);
    return event.defaultPrevented;
  }, [text, name, html]);
  const cells = '<table><tr><td>Q1</td><td>120</td></tr><tr><td>Q2</td><td>140</td></tr></table>';
  assert.equal(await paste('Q1\t120\nQ2\t140', 'image.png', cells), false, 'the text of copied cells was thrown away');
  assert.equal(await paste('report.png', 'report.png'), true, 'a copied file\'s name was pasted as text');
  // A browser's "Copy image": the image, an <img> and its address: the image only.
  const url = 'https://shop.example/cat.png';
  assert.equal(await paste(url, 'cat.png', `<img src="${url}">`), true, 'a copied image\'s address was pasted as text');
  await ada.locator('.hc-tray .hc-staged[data-state="ready"]').nth(2).waitFor();
  for (let i = 0; i < 3; i += 1) await ada.locator('.hc-tray .hc-unstage').first().click();
  await ada.locator('.hc-tray .hc-staged').first().waitFor({ state: 'detached' });

  const highlighted = await ada.evaluate(async () => {
    const dt = new DataTransfer();
    dt.items.add(await window.makeImage(150, 300, 'image/png', 'dropped.png'));
    const log = window.root().querySelector('.hc-log');
    const fire = (type) => log.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true, composed: true }));
    fire('dragenter');
    const accepted = !fire('dragover');
    const shown = window.root().querySelector('.hc').classList.contains('hc-drop');
    fire('drop');
    return { accepted, shown, after: window.root().querySelector('.hc').classList.contains('hc-drop') };
  });
  assert.deepEqual(highlighted, { accepted: true, shown: true, after: false });
  await ada.locator('.hc-tray .hc-staged[data-state="ready"]').waitFor();
  await ada.locator('.hc-send').click();
  assert.deepEqual((await loadedImage(bo, 'dropped')).natural, [150, 300]);
  await close();
});

test('the file button offers what the site accepts, and nothing on a site without files', async () => {
  const origins = ['http://127.0.0.1:*'];
  const noFiles = await createSite({ origins, limits: { maxFileBytes: 0 } });
  const pngOnly = await createSite({ origins, limits: { fileTypes: ['image/png'] } });
  const context = await browser.newContext();
  const off = await widgetPage(context, { room: uniqueRoom('nofiles'), site: noFiles, name: 'Ada' });
  await waitForStatus(off, 'connected');
  await off.evaluate(pageHelpers);
  assert.equal(await off.locator('.hc-attach').isHidden(), true, 'no 📎');
  // A pasted screenshot is not staged to fail later with a Retry that cannot succeed.
  const taken = await off.evaluate(async () => {
    const dt = new DataTransfer();
    dt.items.add(await window.makeImage(20, 20));
    const event = new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true, composed: true });
    window.root().querySelector('.hc-input').dispatchEvent(event);
    return event.defaultPrevented;
  });
  assert.equal(taken, false);
  assert.equal(await off.locator('.hc-tray .hc-staged').count(), 0);
  const png = await widgetPage(context, { room: uniqueRoom('png'), site: pngOnly, name: 'Ada' });
  await waitForStatus(png, 'connected');
  assert.equal(await png.locator('.hc-attach').isVisible(), true);
  assert.equal(await png.evaluate(() => document.querySelector('[data-hello-chat-host]').shadowRoot.querySelector('input[type=file]').accept), 'image/png');
  await context.close();
});

test('a file the site would refuse is refused in the tray with the reason, and the message goes without it', async () => {
  const origins = ['http://127.0.0.1:*'];
  const site = await createSite({ origins, limits: { fileTypes: ['image/png', 'text/plain'], maxFileBytes: 2000 } });
  const room = uniqueRoom('refuse');
  const context = await browser.newContext();
  const ada = await widgetPage(context, { room, site, name: 'Ada' });
  const bo = await widgetPage(context, { room, site, name: 'Bo' });
  await Promise.all([waitForStatus(ada, 'connected'), waitForStatus(bo, 'connected')]);
  const picker = ada.locator('.hc-composer input[type="file"]');
  const chip = (name) => ada.locator('.hc-tray .hc-staged').filter({ hasText: name });

  await picker.setInputFiles({ name: 'slides.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n%%EOF\n') });
  await chip('slides.pdf').and(ada.locator('[data-state="refused"]')).waitFor({ timeout: 10000 });
  assert.equal(await chip('slides.pdf').locator('.hc-file-meta').textContent(),
    'Not sent: files of this type are not accepted (allowed: image/png, text/plain)');
  // Send with only that file and no text: nothing can go, and the visitor
  // is told why again, at the file, rather than Send doing nothing.
  await ada.locator('.hc-input').press('Enter');
  await ada.waitForFunction(() => document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement?.classList.contains('hc-unstage'), null, { timeout: 5000 });
  assert.equal(await ada.locator('[aria-live] p').last().textContent(),
    'slides.pdf: Not sent: files of this type are not accepted (allowed: image/png, text/plain)');
  assert.equal(await ada.locator('.hc-list .hc-msg[data-state]').count(), 0, 'nothing was queued');
  await ada.locator('.hc-input').focus();
  await picker.setInputFiles({ name: 'long.txt', mimeType: 'text/plain', buffer: Buffer.from('x'.repeat(2001)) });
  await chip('long.txt').and(ada.locator('[data-state="refused"]')).waitFor({ timeout: 10000 });
  assert.equal(await chip('long.txt').locator('.hc-file-meta').textContent(), 'Not sent: files may be at most 1.9 KB');
  // Screen readers hear it too, and the chip can still be removed by keyboard.
  assert.equal(await ada.locator('[aria-live] p').last().textContent(), 'long.txt: Not sent: files may be at most 1.9 KB');
  assert.equal(await chip('long.txt').locator('button.hc-unstage').count(), 1);

  // A file staged under the old rules is checked again when the site changes them.
  await picker.setInputFiles({ name: 'fits.txt', mimeType: 'text/plain', buffer: Buffer.from('x'.repeat(2000)) });
  await chip('fits.txt').and(ada.locator('[data-state="ready"]')).waitFor({ timeout: 10000 });
  await picker.setInputFiles({ name: 'pic.png', mimeType: 'image/png', buffer: Buffer.from('not really a png') });
  await ada.locator('.hc-tray .hc-staged[data-state="ready"] .hc-alt').waitFor({ timeout: 10000 });
  await ada.locator('.hc-tray .hc-alt').focus();
  const patched = await admin('PATCH', `/sites/${site}`, { limits: { fileTypes: ['text/plain'], maxFileBytes: 1500 } });
  assert.equal(patched.status, 200);
  await chip('fits.txt').and(ada.locator('[data-state="refused"]')).waitFor({ timeout: 10000 });
  assert.equal(await chip('fits.txt').locator('.hc-file-meta').textContent(), 'Not sent: files may be at most 1.4 KB');
  // The image's preview goes with its bytes: its name comes back, and focus
  // in its description (which goes too) moves to its remove button.
  const pic = ada.locator('.hc-tray .hc-staged[data-state="refused"]').filter({ has: ada.locator('.hc-file-name', { hasText: 'pic.png' }) });
  await pic.waitFor({ timeout: 10000 });
  assert.equal(await pic.locator('img, .hc-alt').count(), 0);
  assert.equal(await ada.evaluate(() => document.querySelector('[data-hello-chat-host]').shadowRoot.activeElement?.className), 'hc-unstage');
  await picker.setInputFiles({ name: 'small.txt', mimeType: 'text/plain', buffer: Buffer.from('x'.repeat(1000)) });
  await chip('small.txt').and(ada.locator('[data-state="ready"]')).waitFor({ timeout: 10000 });
  await ada.locator('.hc-input').fill('the notes');
  await ada.locator('.hc-input').press('Enter');
  const card = bo.locator('.hc-list a.hc-file');
  await card.waitFor({ timeout: 15000 });
  assert.deepEqual(await bo.locator('.hc-list .hc-file-name').allTextContents(), ['small.txt'], 'only the file the site takes went');
  await ada.locator('.hc-list .hc-msg:not([data-state])').filter({ hasText: 'the notes' }).waitFor({ timeout: 10000 });
  assert.equal(await ada.locator('.hc-msg[data-state="failed"]').count(), 0, 'no message fails on upload');
  assert.equal(await ada.locator('.hc-tray .hc-staged').count(), 0, 'the tray empties on send');

  // The API refuses the same way, with an error event, before uploading.
  const api = await ada.evaluate(async () => {
    const id = await window.chat.sendFile(new File(['%PDF-1.4'], 'a.pdf', { type: 'application/pdf' }), 'pdf');
    return { id, codes: window.events.filter(([e]) => e === 'error').map(([, d]) => d.code) };
  });
  assert.equal(api.id, undefined);
  assert.deepEqual(api.codes, ['unsupported_type']);
  await context.close();
});

test('dropping more files than a message takes says so on the first one left out, where the visitor looks', async () => {
  const { ada, bo, close } = await pair('eleven');
  await ada.evaluate(() => {
    const dt = new DataTransfer();
    for (let i = 1; i <= 11; i++) dt.items.add(new File([`note ${i}`], `n${i}.txt`, { type: 'text/plain' }));
    window.root().querySelector('.hc-log').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true, composed: true }));
  });
  const left = ada.locator('.hc-tray .hc-staged[data-state="refused"]');
  await left.waitFor({ timeout: 10000 });
  assert.equal(await left.locator('.hc-file-name').textContent(), 'n11.txt');
  assert.equal(await left.locator('.hc-file-meta').textContent(), 'At most 10 files per message.');
  await ada.locator('.hc-tray .hc-staged[data-state="ready"]').nth(9).waitFor({ timeout: 10000 });
  await ada.locator('.hc-send').click();
  await bo.waitForFunction(() => window.events.some(([e, d]) => e === 'message' && d.attachments.length === 10), null, { timeout: 20000 });
  assert.equal(await ada.locator('.hc-tray .hc-staged').count(), 0, 'the tray empties on send');
  await close();
});

test('editing away the text of a message with an image leaves the image alone; the others see it so', async () => {
  const { ada, bo, close } = await pair('caption');
  await ada.locator('.hc-composer input[type="file"]').setInputFiles({ name: 'view.png', mimeType: 'image/png', buffer: await imageBytes(ada, 40, 30) });
  await ada.locator('.hc-tray .hc-staged[data-state="ready"]').waitFor();
  await ada.locator('.hc-input').fill('look at this');
  await ada.locator('.hc-input').press('Enter');
  await loadedImage(bo, 'view');
  const mine = ada.locator('.hc-list .hc-msg:not([data-state])').filter({ hasText: 'look at this' });
  await mine.waitFor({ timeout: 10000 });
  const seq = await mine.getAttribute('data-seq');
  await mine.locator('.hc-more').click();
  await mine.getByRole('menuitem', { name: 'Edit' }).click();
  await mine.locator('textarea').fill('  ');
  await mine.locator('textarea').press('Enter');
  const theirs = bo.locator(`.hc-list .hc-msg[data-seq="${seq}"]`);
  await bo.waitForFunction((seq) => {
    const li = window.root().querySelector(`.hc-list .hc-msg[data-seq="${seq}"]`);
    return li && !li.querySelector('.hc-text') && li.querySelector('.hc-edited');
  }, seq, { timeout: 10000 });
  assert.equal(await theirs.locator('img[alt="view"]').count(), 1, 'the image stays');
  const own = ada.locator(`.hc-list .hc-msg[data-seq="${seq}"]`);
  assert.equal(await own.locator('.hc-err').count(), 0, 'no "Not sent"');
  assert.equal(await own.locator('img[alt="view"]').count(), 1);
  await own.locator('.hc-text').waitFor({ state: 'detached', timeout: 10000 });
  // From the page's API too: a caption comes off the same way, and a
  // message of text only cannot be emptied: refused at once, never shown blank.
  const cap = await ada.evaluate(async () => {
    const id = await window.chat.sendFile(await window.makeImage(20, 20, 'image/png', 'dot.png'), 'a dot');
    return id;
  });
  const dot = ada.locator('.hc-list .hc-msg:not([data-state])').filter({ hasText: 'a dot' });
  await dot.waitFor({ timeout: 10000 });
  const dotSeq = await dot.getAttribute('data-seq');
  assert.ok(cap && await ada.evaluate((s) => window.chat.edit(Number(s), ''), dotSeq), 'the caption edit is queued');
  await bo.waitForFunction((seq) => {
    const li = window.root().querySelector(`.hc-list .hc-msg[data-seq="${seq}"]`);
    return li && !li.querySelector('.hc-text') && li.querySelector('img[alt="dot"]');
  }, dotSeq, { timeout: 10000 });
  await ada.locator('.hc-input').fill('just text');
  await ada.locator('.hc-input').press('Enter');
  const text = ada.locator('.hc-list .hc-msg:not([data-state])').filter({ hasText: 'just text' });
  await text.waitFor({ timeout: 10000 });
  const refused = await ada.evaluate((s) => {
    const id = window.chat.edit(Number(s), '');
    const li = window.root().querySelector(`.hc-list .hc-msg[data-seq="${s}"]`);
    return { id, shown: li.querySelector('.hc-text')?.textContent, codes: window.events.filter(([e]) => e === 'error').map(([, d]) => d.code) };
  }, await text.getAttribute('data-seq'));
  assert.deepEqual(refused, { id: undefined, shown: 'just text', codes: ['empty'] });
  await close();
});

test('a 4000×3000 JPEG arrives at 2048×1536; a small JPEG is re-encoded upright, its EXIF dropped', async () => {
  const { ada, bo, close } = await pair('big');
  const id = await ada.evaluate(async () => window.chat.sendFile(await window.makeImage(4000, 3000, 'image/jpeg', 'big.jpg'), 'big one'));
  assert.match(id, /\S/, 'sendFile resolves to the client id');
  const big = await loadedImage(bo, 'big');
  assert.deepEqual(big.natural, [2048, 1536]);
  assert.deepEqual(big.attrs, [240, 180]);
  const [m] = await fileMessages(bo);
  assert.deepEqual([m.attachments[0].width, m.attachments[0].height, m.attachments[0].mime], [2048, 1536, 'image/jpeg']);

  // A 400×200 JPEG with EXIF orientation 6 (rotate 90°) and a marker where
  // the GPS position would be: it arrives 200×400, without the marker.
  const sent = await ada.evaluate(async () => {
    const plain = new Uint8Array(await (await window.makeImage(400, 200, 'image/jpeg')).arrayBuffer());
    const tiff = [0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0];
    const marker = [...new TextEncoder().encode('GPS-SECRET-PLACE')];
    const payload = [...new TextEncoder().encode('Exif\0\0'), ...tiff, ...marker];
    const len = payload.length + 2;
    const app1 = [0xff, 0xe1, len >> 8, len & 0xff, ...payload];
    const bytes = new Uint8Array([...plain.slice(0, 2), ...app1, ...plain.slice(2)]);
    const file = new File([bytes], 'holiday.jpg', { type: 'image/jpeg' });
    return window.chat.sendFile(file);
  });
  assert.ok(sent);
  const small = await loadedImage(bo, 'holiday');
  assert.deepEqual(small.natural, [200, 400], 'EXIF orientation applied before upload');
  const served = await bo.evaluate(async (src) => new TextDecoder('latin1').decode(await (await fetch(src)).arrayBuffer()), small.src);
  assert.ok(!served.includes('GPS-SECRET-PLACE') && !served.includes('Exif'), 'no EXIF data left');
  await close();
});

test('a JPEG saved at a low quality is not made bigger on the way, so a site limit just above it still takes it', async () => {
  // Noise compresses badly: re-encoded at the widget's usual quality, this
  // photo (saved at 0.5) would grow by a third and pass the site's limit.
  const probe = await browser.newPage();
  await probe.goto(`${BASE}/`);
  const { b64, size } = await probe.evaluate(async () => {
    const c = document.createElement('canvas');
    c.width = c.height = 300;
    const g = c.getContext('2d');
    const px = g.createImageData(300, 300);
    let seed = 7;
    for (let i = 0; i < px.data.length; i++) { seed = (seed * 1103515245 + 12345) >>> 0; px.data[i] = i % 4 === 3 ? 255 : seed >>> 24; }
    g.putImageData(px, 0, 0);
    const blob = await new Promise((r) => c.toBlob(r, 'image/jpeg', 0.5));
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return { b64: btoa(s), size: bytes.length };
  });
  await probe.close();
  const site = await createSite({ origins: ['http://127.0.0.1:*'], limits: { maxFileBytes: size + 200 } });
  const room = uniqueRoom('lowq');
  const context = await browser.newContext();
  const ada = await widgetPage(context, { room, site, name: 'Ada' });
  await waitForStatus(ada, 'connected');
  await ada.locator('.hc-composer input[type="file"]').setInputFiles({ name: 'noise.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(b64, 'base64') });
  await ada.locator('.hc-tray .hc-staged[data-state="ready"], .hc-tray .hc-staged[data-state="refused"]').waitFor({ timeout: 10000 });
  assert.equal(await ada.locator('.hc-tray .hc-staged[data-state="refused"]').count(), 0, 'not refused for its copy');
  await ada.locator('.hc-input').press('Enter');
  await ada.waitForFunction(() => window.events.some(([e, d]) => e === 'message' && d.attachments.length === 1), null, { timeout: 15000 });
  const sent = await ada.evaluate(() => window.events.find(([e, d]) => e === 'message' && d.attachments.length === 1)[1].attachments[0]);
  assert.ok(sent.size <= size, `the copy (${sent.size} bytes) is not bigger than the original (${size})`);
  assert.deepEqual([sent.width, sent.height, sent.mime], [300, 300, 'image/jpeg']);
  await context.close();
});

test('an image attached offline waits in the outbox and goes out once when the link returns', async () => {
  const { ada, bo, ctxA, close } = await pair('offline');
  const png = await imageBytes(ada, 100, 100);
  await ctxA.setOffline(true);
  await ada.locator('.hc-banner', { hasText: 'Offline' }).waitFor({ timeout: 15000 });
  await ada.locator('.hc-composer input[type="file"]').setInputFiles({ name: 'offline.png', mimeType: 'image/png', buffer: png });
  await ada.locator('.hc-tray .hc-staged[data-state="ready"]').waitFor();
  await ada.locator('.hc-input').press('Enter');
  const pending = ada.locator('.hc-outbox .hc-msg[data-state="pending"]');
  await pending.locator('img.hc-preview[alt="offline"]').waitFor();
  assert.equal(await pending.getByRole('button', { name: 'Cancel' }).count(), 1);

  await ctxA.setOffline(false);
  await loadedImage(bo, 'offline');
  await pending.waitFor({ state: 'detached', timeout: 15000 });
  await sleep(1500);
  assert.equal((await fileMessages(bo)).length, 1, 'delivered exactly once');
  assert.equal(await bo.locator('.hc-list img[alt="offline"]').count(), 1);
  await close();
});

/** Ada sends an image; Bo has its thumbnail, the viewer's dialog and what has focus. */
async function chartForBo(name) {
  const { ada, bo, close } = await pair(name);
  await ada.evaluate(async () => window.chat.sendFile(await window.makeImage(640, 480, 'image/png', 'chart.png')));
  await loadedImage(bo, 'chart');
  const active = () => bo.evaluate(() => {
    const el = window.root().activeElement;
    return el && (el.getAttribute('aria-label') || el.className);
  });
  return { ada, bo, close, active, thumb: bo.getByRole('button', { name: 'Open image: chart' }),
    dialog: bo.getByRole('dialog', { name: 'Image: chart' }) };
}

test('a thumbnail opens the full image in a dialog (Enter or click); Escape and Close return focus to it', async () => {
  const { ada, bo, close, thumb, dialog, active } = await chartForBo('viewer');

  await thumb.focus();
  await bo.keyboard.press('Enter');
  await dialog.waitFor();
  assert.equal(await dialog.getAttribute('aria-modal'), 'true');
  assert.equal(await active(), 'Close', 'focus moves into the dialog');
  assert.equal(await dialog.locator('img').getAttribute('src'), await thumb.locator('img').getAttribute('src'));
  await bo.keyboard.press('Tab');
  assert.equal(await active(), 'Close', 'Tab stays in the dialog');
  const inert = () => bo.evaluate(() => [...window.root().querySelectorAll('.hc > [inert]')].map((el) => el.className));
  const logInert = () => bo.evaluate(() => window.root().querySelector('.hc-log').closest('[inert]') !== null);
  assert.ok(await logInert() && (await inert()).includes('hc-composer'), 'the rest is inert while it is open: a screen reader cannot wander off');
  await bo.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await active(), 'Open image: chart', 'focus returns to the thumbnail');
  assert.deepEqual(await inert(), [], 'and usable again once closed');

  await thumb.click();
  await dialog.waitFor();
  await dialog.getByRole('button', { name: 'Close' }).click();
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await active(), 'Open image: chart');
  await close();
});

test('someone reacts to a message while its image is open full size: closing the viewer still returns focus to the thumbnail', async () => {
  const { ada, bo, close, thumb, dialog, active } = await chartForBo('viewer-redraw');
  await thumb.focus();
  await bo.keyboard.press('Enter');
  await dialog.waitFor();
  // Ada reacts to her own message meanwhile: Bo's copy of it is redrawn.
  const seq = await ada.evaluate(() => Number(window.root().querySelector('.hc-list .hc-own[data-seq]').dataset.seq));
  await ada.evaluate((seq) => window.chat.react(seq, '👍'), seq);
  await bo.locator('.hc-list .hc-chip', { hasText: '👍 1' }).waitFor();
  await bo.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await active(), 'Open image: chart', 'back on the thumbnail, not the list as a whole');
  await close();
});

test('an image open full size that a moderator removes closes: the removed image is not kept on screen', async () => {
  const SECRET = 'widget-attachments-secret-0123456789';
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true, secret: SECRET }, 'wviewgone');
  const room = uniqueRoom('viewer-removed');
  const [ctxA, ctxB] = [await browser.newContext(), await browser.newContext()];
  const ada = await widgetPage(ctxA, { room, site, name: 'Ada' });
  const bo = await widgetPage(ctxB, { room, site, name: 'Bo' });
  await Promise.all([waitForStatus(ada, 'connected'), waitForStatus(bo, 'connected')]);
  await Promise.all([ada.evaluate(pageHelpers), bo.evaluate(pageHelpers)]);
  await ada.evaluate(async () => window.chat.sendFile(await window.makeImage(640, 480, 'image/png', 'offensive.png')));
  await loadedImage(bo, 'offensive');
  const dialog = bo.getByRole('dialog', { name: 'Image: offensive' });
  await bo.getByRole('button', { name: 'Open image: offensive' }).click();
  await dialog.waitFor();
  const seq = await bo.evaluate(() => Number(window.root().querySelector('.hc-list .hc-msg[data-seq]').dataset.seq));
  const mo = await join(room, 'Mo', { site, token: mintToken(SECRET, { sub: 'mod-1', name: 'Mo', role: 'moderator', exp: Math.floor(Date.now() / 1000) + 3600 }) });
  mo.send({ type: 'moderate', id: 'm1', action: 'delete', target: seq });
  await bo.locator('.hc-list .hc-msg.hc-deleted').waitFor();
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await bo.locator('.hc img').count(), 0, 'no image left in the widget');
  assert.equal(await bo.evaluate(() => window.root().activeElement?.closest('.hc') != null), true, 'focus stays in the widget');
  await mo.close();
  await Promise.all([ctxA.close(), ctxB.close()]);
});

test('a text file shows as a card with its name, type and size, linking to the file', async () => {
  const { ada, bo, close } = await pair('card');
  const text = 'notes from the call\nline two\n';
  await ada.locator('.hc-composer input[type="file"]').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from(text) });
  await ada.locator('.hc-tray .hc-staged[data-state="ready"]').waitFor();
  assert.equal(await ada.locator('.hc-tray .hc-alt').count(), 0, 'no alt text for a file that is not an image');
  await ada.locator('.hc-input').press('Enter');
  const card = bo.locator('.hc-list a.hc-file');
  await card.waitFor({ timeout: 15000 });
  assert.equal(await card.locator('.hc-file-name').textContent(), 'notes.txt');
  assert.equal(await card.locator('.hc-file-meta').textContent(), `TXT · ${text.length} B`);
  const href = await card.getAttribute('href');
  assert.ok(href.startsWith(`${BASE}/files/`), href);
  assert.equal(await card.getAttribute('download'), 'notes.txt');
  assert.equal(await (await fetch(href)).text(), text);
  await close();
});

test('a slow upload shows its progress and can be cancelled; destroy() leaves no object URL behind', async () => {
  const { ada, bo, ctxA, close } = await pair('cancel');
  await ada.evaluate(() => {
    const live = new Set();
    const create = URL.createObjectURL.bind(URL), revoke = URL.revokeObjectURL.bind(URL);
    URL.createObjectURL = (b) => { const u = create(b); live.add(u); return u; };
    URL.revokeObjectURL = (u) => { live.delete(u); revoke(u); };
    window.liveUrls = () => live.size;
  });
  // About 40 KB/s up: a 1.5 MB PNG of noise takes long enough to watch.
  const cdp = await ctxA.newCDPSession(ada);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 40 * 1024 });
  await ada.evaluate(async () => window.chat.sendFile(await window.makeNoise(), 'the noise I promised'));
  const pending = ada.locator('.hc-outbox .hc-msg[data-state="pending"]');
  const bar = pending.getByRole('progressbar', { name: 'Uploading' });
  await bar.waitFor({ timeout: 15000 });
  await pending.getByRole('button', { name: 'Cancel' }).click();
  await pending.waitFor({ state: 'detached' });
  // What was typed with it is not thrown away: back in the composer.
  assert.equal(await ada.locator('.hc-input').inputValue(), 'the noise I promised');
  await ada.locator('.hc-input').fill('');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

  // Nothing of it arrives; the next message goes out as usual.
  await ada.evaluate(() => window.chat.send('after the cancel'));
  await bo.locator('.hc-list .hc-text', { hasText: 'after the cancel' }).waitFor({ timeout: 15000 });
  assert.equal((await fileMessages(bo)).length, 0);

  await ada.evaluate(() => window.chat.destroy());
  assert.equal(await ada.evaluate(() => window.liveUrls()), 0, 'every object URL is revoked');
  await close();
});

test('Cancel with a new draft in the composer gives the cancelled text back before it, and its reply', async () => {
  const { ada, bo, ctxA, close } = await pair('canceldraft');
  await bo.evaluate(() => window.chat.send('can you send the photo?'));
  const question = ada.locator('.hc-list .hc-msg', { hasText: 'can you send the photo?' });
  await question.waitFor({ timeout: 10000 });
  await question.locator('.hc-more').click();
  await question.getByRole('menuitem', { name: 'Reply' }).click();
  // A PNG of noise (about 1.5 MB) at about 40 KB/s up: slow enough to cancel.
  const cdp = await ctxA.newCDPSession(ada);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 40 * 1024 });
  await ada.evaluate(async () => {
    const dt = new DataTransfer();
    dt.items.add(await window.makeNoise());
    const picker = window.root().querySelector('.hc-composer input[type="file"]');
    picker.files = dt.files;
    picker.dispatchEvent(new Event('change', { bubbles: true }));
  });
  await ada.locator('.hc-tray .hc-staged[data-state="ready"]').waitFor({ timeout: 10000 });
  await ada.locator('.hc-input').fill('here it is');
  await ada.locator('.hc-send').click();
  const pending = ada.locator('.hc-outbox .hc-msg[data-state="pending"]');
  await pending.getByRole('progressbar', { name: 'Uploading' }).waitFor({ timeout: 15000 });
  assert.equal(await ada.locator('.hc-replybar').isHidden(), true, 'the reply went with it');
  await ada.locator('.hc-input').fill('and the other one tomorrow');
  await pending.getByRole('button', { name: 'Cancel' }).click();
  await pending.waitFor({ state: 'detached' });
  // Nothing typed is lost: the cancelled text first (it was written first),
  // and it is a reply again.
  assert.equal(await ada.locator('.hc-input').inputValue(), 'here it is\nand the other one tomorrow');
  assert.match(await ada.locator('.hc-replybar').innerText(), /Replying to Bo/);
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await ada.locator('.hc-tray .hc-staged').waitFor({ state: 'detached' }).catch(() => {});
  await ada.locator('.hc-send').click();
  const reply = bo.locator('.hc-list .hc-msg', { hasText: 'and the other one tomorrow' });
  await reply.locator('.hc-quote', { hasText: 'can you send the photo?' }).waitFor({ timeout: 15000 });
  assert.equal((await fileMessages(bo)).length, 0, 'the cancelled file never arrives');
  await close();
});

test('replying to a message of files only names its files in the reply bar, as the quote does', async () => {
  const { ada, bo, close } = await pair('replyfiles');
  await ada.locator('.hc-composer input[type="file"]').setInputFiles([
    { name: 'minutes.txt', mimeType: 'text/plain', buffer: Buffer.from('what we said\n') },
    { name: 'board.png', mimeType: 'image/png', buffer: await imageBytes(ada, 40, 30) },
  ]);
  await ada.locator('.hc-tray .hc-staged[data-state="ready"]').nth(1).waitFor({ timeout: 10000 });
  await ada.locator('.hc-send').click();
  const msg = bo.locator('.hc-list .hc-msg', { has: bo.locator('.hc-file-name', { hasText: 'minutes.txt' }) });
  await msg.locator('.hc-thumb').waitFor({ timeout: 15000 });
  await msg.locator('.hc-more').click();
  await msg.getByRole('menuitem', { name: 'Reply' }).click();
  assert.equal(await bo.locator('.hc-replybar').innerText().then((t) => t.replace(/\s+/g, ' ').trim().replace(/ ?(Cancel.*)?$/, '')),
    'Replying to Ada: minutes.txt, board.png');
  await bo.locator('.hc-input').fill('thanks');
  await bo.locator('.hc-input').press('Enter');
  await ada.locator('.hc-list .hc-msg .hc-quote', { hasText: 'minutes.txt, board.png' }).waitFor({ timeout: 10000 });
  await close();
});
