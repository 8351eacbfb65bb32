// A small reader of the ESC/POS the till sends its printers (crates/core/src/till/escpos.rs), for
// the journeys: the bytes a loopback "printer" received become the lines as the paper would show
// them, and an HTML page of the paper strip to photograph. Only the subset the app writes is
// read; any other command is an error naming its offset, so a new command in the tickets shows up
// here rather than as garbage on the picture.
//
//   ESC @            initialise (styles back to normal)      ESC t n      code page (PC858: 19)
//   ESC a n          justify: 0 left, 1 centre, 2 right      ESC E n      bold
//   ESC - n          underline (1 single, 2 double)          ESC G n      double strike
//   ESC M n          font (0 A, 1 B)                         ESC d n      print the line, feed n
//   ESC p m t1 t2    drawer kick on pin m (t × 2 ms)         GS ! n       size (width, height)
//   GS B n           reverse colours                         GS b n       smoothing
//   GS V A n / m     cut (full, or partial)                  LF           print the line
//   GS ( k pL pH cn fn …   2D codes: QR (cn 49) model 65, size 67, error correction 69, store 80
//                          (the data after one more byte), print 81
//   DLE EOT n        real-time status request (answered by the printer, prints nothing)
//
// Text is in code page PC858 (CP850 with € at 0xD5). Its 0xF0 is the soft hyphen, which receipt
// printers draw as a short dash: the lines and the page show it as `-` (the block's spans keep
// U+00AD). The till's own tickets send `-` as ASCII.

const ESC = 0x1b;
const GS = 0x1d;
const DLE = 0x10;
const LF = 0x0a;
const CR = 0x0d;

/** The upper half of PC858, 0x80 to 0xFF. */
const PC858_HIGH = [
  'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å',
  'É', 'æ', 'Æ', 'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü', 'ø', '£', 'Ø', '×', 'ƒ',
  'á', 'í', 'ó', 'ú', 'ñ', 'Ñ', 'ª', 'º', '¿', '®', '¬', '½', '¼', '¡', '«', '»',
  '░', '▒', '▓', '│', '┤', 'Á', 'Â', 'À', '©', '╣', '║', '╗', '╝', '¢', '¥', '┐',
  '└', '┴', '┬', '├', '─', '┼', 'ã', 'Ã', '╚', '╔', '╩', '╦', '╠', '═', '╬', '¤',
  'ð', 'Ð', 'Ê', 'Ë', 'È', '€', 'Í', 'Î', 'Ï', '┘', '┌', '█', '▄', '¦', 'Ì', '▀',
  'Ó', 'ß', 'Ô', 'Ò', 'õ', 'Õ', 'µ', 'þ', 'Þ', 'Ú', 'Û', 'Ù', 'ý', 'Ý', '¯', '´',
  '\u00ad', '±', '‗', '¾', '¶', '§', '÷', '¸', '°', '¨', '·', '¹', '³', '²', '■', '\u00a0',
];

const PC858 = 19;

/** The text as the paper shows it: the soft hyphen drawn as a dash. */
const asPrinted = (text) => text.replaceAll('\u00ad', '-');

function pc858(byte) {
  return byte < 0x80 ? String.fromCharCode(byte) : PC858_HIGH[byte - 0x80];
}

const plain = () => ({ bold: false, underline: 0, strike: false, font: 0, width: 1, height: 1, reverse: false });

/**
 * Reads a ticket. Returns
 * - `blocks`: what the paper shows, in order: `{type: 'line', align, spans: [{text, bold,
 *   underline, width, height, reverse, font}], text}` (`text` as printed, the spans as sent),
 *   `{type: 'qr', align, data, size}`, `{type: 'cut', partial}`;
 * - `lines`: the text of each line (a QR as `[QR: data]`);
 * - `commands`: every command by name in the order sent (`init`, `codepage`, `drawer`, `text`, …),
 *   with its arguments;
 * - `drawers`: the drawer kicks `{pin, on_ms, off_ms}`; `status`: the status requests.
 */
export function decode(input) {
  const bytes = input instanceof Uint8Array ? input : Uint8Array.from(input);
  const blocks = [];
  const commands = [];
  const drawers = [];
  const status = [];
  let style = plain();
  let align = 'left';
  let codepage = PC858;
  let line = null; // {align, spans}
  const qr = { data: null, size: 3, model: 2, ecc: 'M' };

  const flush = () => {
    const spans = line?.spans ?? [];
    blocks.push({ type: 'line', align: line?.align ?? align, spans, text: asPrinted(spans.map((s) => s.text).join('')) });
    line = null;
  };
  const put = (ch) => {
    if (!line) line = { align, spans: [] };
    const last = line.spans.at(-1);
    const same = last && ['bold', 'underline', 'strike', 'font', 'width', 'height', 'reverse'].every((k) => last[k] === style[k]);
    if (same) last.text += ch;
    else line.spans.push({ text: ch, ...style });
  };
  const need = (i, n, what) => {
    if (i + n > bytes.length) throw new Error(`ESC/POS: ${what} at byte ${i} is cut short`);
  };
  const command = (name, args = {}) => commands.push({ name, ...args });

  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b === ESC) {
      need(i, 2, 'ESC');
      const c = String.fromCharCode(bytes[i + 1]);
      const n = bytes[i + 2];
      switch (c) {
        case '@':
          // The buffer is cleared with the styles.
          style = plain();
          align = 'left';
          line = null;
          command('init');
          i += 2;
          continue;
        case 't':
          need(i, 3, 'ESC t');
          codepage = n;
          if (codepage !== PC858) throw new Error(`ESC/POS: code page ${n} at byte ${i}: only PC858 (19) is read`);
          command('codepage', { n });
          break;
        case 'a':
          need(i, 3, 'ESC a');
          align = ['left', 'center', 'right'][n % 48] ?? 'left';
          command('justify', { align });
          break;
        case 'E':
          need(i, 3, 'ESC E');
          style.bold = (n & 1) === 1;
          command('bold', { on: style.bold });
          break;
        case '-':
          need(i, 3, 'ESC -');
          style.underline = n % 48;
          command('underline', { mode: style.underline });
          break;
        case 'G':
          need(i, 3, 'ESC G');
          style.strike = (n & 1) === 1;
          command('double-strike', { on: style.strike });
          break;
        case 'M':
          need(i, 3, 'ESC M');
          style.font = n % 48;
          command('font', { font: style.font });
          break;
        case 'd':
          need(i, 3, 'ESC d');
          // Prints what the line holds and feeds n lines: the line itself, then n − 1 blank ones.
          command('feed', { lines: n });
          flush();
          for (let k = 1; k < n; k++) flush();
          break;
        case 'p': {
          need(i, 5, 'ESC p');
          const kick = { pin: bytes[i + 2] % 48 === 0 ? 2 : 5, on_ms: bytes[i + 3] * 2, off_ms: bytes[i + 4] * 2 };
          drawers.push(kick);
          command('drawer', kick);
          i += 5;
          continue;
        }
        default:
          throw new Error(`ESC/POS: unknown command ESC ${JSON.stringify(c)} (0x${bytes[i + 1].toString(16)}) at byte ${i}`);
      }
      i += 3;
      continue;
    }
    if (b === GS) {
      need(i, 2, 'GS');
      const c = String.fromCharCode(bytes[i + 1]);
      const n = bytes[i + 2];
      switch (c) {
        case '!':
          need(i, 3, 'GS !');
          style.width = (n >> 4) + 1;
          style.height = (n & 0x0f) + 1;
          command('size', { width: style.width, height: style.height });
          i += 3;
          continue;
        case 'B':
          need(i, 3, 'GS B');
          style.reverse = (n & 1) === 1;
          command('reverse', { on: style.reverse });
          i += 3;
          continue;
        case 'b':
          need(i, 3, 'GS b');
          command('smoothing', { on: (n & 1) === 1 });
          i += 3;
          continue;
        case 'V': {
          need(i, 3, 'GS V');
          if (line) flush();
          if (n === 65 || n === 66) {
            // GS V m n: feed n, then cut (65 full, 66 partial).
            need(i, 4, 'GS V');
            blocks.push({ type: 'cut', partial: n === 66 });
            command('cut', { partial: n === 66, feed: bytes[i + 3] });
            i += 4;
          } else {
            blocks.push({ type: 'cut', partial: n === 1 || n === 49 });
            command('cut', { partial: n === 1 || n === 49 });
            i += 3;
          }
          continue;
        }
        case '(': {
          need(i, 5, 'GS (');
          if (bytes[i + 2] !== 0x6b) throw new Error(`ESC/POS: unknown command GS ( ${String.fromCharCode(bytes[i + 2])} at byte ${i}`);
          const len = bytes[i + 3] + 256 * bytes[i + 4];
          need(i + 5, len, 'GS ( k');
          const body = bytes.subarray(i + 5, i + 5 + len);
          const [cn, fn] = body;
          if (cn !== 49) throw new Error(`ESC/POS: 2D code cn=${cn} at byte ${i}: only QR (49) is read`);
          switch (fn) {
            case 65: qr.model = body[2] - 48; command('qr-model', { model: qr.model }); break;
            case 67: qr.size = body[2]; command('qr-size', { size: qr.size }); break;
            case 69: qr.ecc = ['L', 'M', 'Q', 'H'][body[2] - 48] ?? '?'; command('qr-correction', { level: qr.ecc }); break;
            case 80: qr.data = new TextDecoder().decode(body.subarray(3)); command('qr-store', { data: qr.data }); break;
            case 81:
              if (line) flush();
              blocks.push({ type: 'qr', align, data: qr.data ?? '', size: qr.size, ecc: qr.ecc });
              command('qr-print');
              break;
            default:
              throw new Error(`ESC/POS: QR function ${fn} at byte ${i} is not read`);
          }
          i += 5 + len;
          continue;
        }
        default:
          throw new Error(`ESC/POS: unknown command GS ${JSON.stringify(c)} (0x${bytes[i + 1].toString(16)}) at byte ${i}`);
      }
    }
    if (b === DLE) {
      need(i, 3, 'DLE');
      if (bytes[i + 1] !== 0x04) throw new Error(`ESC/POS: unknown command DLE 0x${bytes[i + 1].toString(16)} at byte ${i}`);
      status.push(bytes[i + 2]);
      command('status', { n: bytes[i + 2] });
      i += 3;
      continue;
    }
    if (b === LF) {
      command('lf');
      flush();
      i += 1;
      continue;
    }
    if (b === CR) {
      i += 1;
      continue;
    }
    if (b < 0x20 || b === 0x7f) throw new Error(`ESC/POS: control byte 0x${b.toString(16)} at byte ${i} is not read`);
    const last = commands.at(-1);
    if (last?.name !== 'text') command('text', { at: i });
    put(pc858(b));
    i += 1;
  }
  if (line) flush();
  const lines = blocks.filter((x) => x.type !== 'cut').map((x) => (x.type === 'qr' ? `[QR: ${x.data}]` : x.text));
  return { blocks, lines, commands, drawers, status };
}

const escapeHtml = (s) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

function spanHtml(s) {
  const classes = [s.bold || s.strike ? 'b' : '', s.underline === 1 ? 'u' : s.underline === 2 ? 'uu' : '', s.reverse ? 'rev' : '', s.font === 1 ? 'fb' : '']
    .filter(Boolean).join(' ');
  const styles = [];
  if (s.height !== 1) styles.push(`font-size:${s.height}em`);
  if (s.width !== s.height) styles.push(`display:inline-block;transform:scaleX(${s.width / s.height});transform-origin:left`);
  const attrs = `${classes ? ` class="${classes}"` : ''}${styles.length ? ` style="${styles.join(';')}"` : ''}`;
  const shown = escapeHtml(asPrinted(s.text));
  return attrs ? `<span${attrs}>${shown}</span>` : shown;
}

/**
 * An HTML page of the ticket as the paper shows it: a strip of `paper` ('80mm': 48 characters a
 * line, or '58mm': 32) in a monospace font, bold, underlined, centred and double-size where the
 * commands say; a QR as a box with its data (`qrSvg(data)`, when given, draws it instead); a
 * dashed line where the paper is cut. Drawer kicks are noted above the paper (they print nothing).
 */
export function ticketHtml(decoded, { paper = '80mm', title = 'Receipt as printed', qrSvg = null } = {}) {
  const columns = paper === '58mm' ? 32 : 48;
  const width = paper === '58mm' ? 58 : 80;
  const body = decoded.blocks.map((block) => {
    if (block.type === 'cut') return `<div class="cut" role="separator" aria-label="${block.partial ? 'Partial cut' : 'Cut'}"></div>`;
    if (block.type === 'qr') {
      const inner = qrSvg ? qrSvg(block.data) : `<span class="qr-text">[QR: ${escapeHtml(block.data)}]</span>`;
      return `<div class="line ${block.align}"><div class="qr" style="--modules:${block.size}">${inner}</div></div>`;
    }
    const text = block.spans.map(spanHtml).join('');
    return `<div class="line ${block.align}">${text || '&nbsp;'}</div>`;
  }).join('\n');
  const kicks = decoded.drawers.map((d) => `<p class="kick">Cash drawer opened: pin ${d.pin}, ${d.on_ms} ms pulse</p>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
  html { background: #e4e4e4; }
  body { margin: 0; padding: 16px; font-family: 'DejaVu Sans', sans-serif; }
  main { width: ${width}mm; margin: 0 auto; }
  .kick { margin: 0 0 6px; font-size: 12px; color: #333; }
  .paper {
    font-family: 'DejaVu Sans Mono', 'Liberation Mono', monospace;
    font-size: ${((width - 8) / columns / 0.602).toFixed(3)}mm;
    line-height: 1.3;
    background: #fff;
    color: #111;
    padding: 5mm calc((${width}mm - ${columns}ch) / 2) 0;
    box-shadow: 0 1px 4px rgb(0 0 0 / 0.3);
  }
  .line { white-space: pre; width: ${columns}ch; min-height: 1.3em; overflow: visible; }
  .center { text-align: center; }
  .right { text-align: right; }
  .b { font-weight: 700; }
  .u { text-decoration: underline; }
  .uu { text-decoration: underline double; }
  .rev { background: #111; color: #fff; }
  .fb { font-size: 0.75em; }
  .qr {
    display: inline-flex; align-items: center; justify-content: center; box-sizing: border-box;
    width: calc(var(--modules) * 25px); max-width: 100%; aspect-ratio: 1; margin: 2mm 0;
    border: 2px solid #111; white-space: normal; word-break: break-all; padding: 2mm;
  }
  .qr svg { width: 100%; height: 100%; }
  .qr-text { font-size: 0.9em; }
  .cut { border-top: 2px dashed #666; margin: 4mm calc((${columns}ch - ${width}mm) / 2) 0; height: 4mm; background: #e4e4e4; }
</style>
</head>
<body>
<main>
${kicks}
<div class="paper" role="document" aria-label="${escapeHtml(title)}">
${body}
</div>
</main>
</body>
</html>
`;
}
