// Renders plain text as a fax-friendly PDF: monospace, wrapped, paginated, any UTF-8 the font can draw.
import { readFileSync } from 'node:fs';
import fontkit from '@pdf-lib/fontkit';
import { PDFDocument, StandardFonts, type PDFFont } from 'pdf-lib';
import { assetPath } from '../assets.js';

export type PageSize = 'letter' | 'a4';

const SIZES: Record<PageSize, [number, number]> = { letter: [612, 792], a4: [595.28, 841.89] };
const MARGIN = 36; // half an inch: fax machines print a header line and lose a few millimetres at the edges
const FONT_SIZE = 10;
const LINE_HEIGHT = 12;
const TAB = 8;

/** Characters Courier (WinAnsi) can draw; text outside this set is drawn with the embedded DejaVu Sans Mono. */
const WIN_ANSI_EXTRA = '€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ';
function winAnsiEncodable(text: string): boolean {
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c === 0x0a || c === 0x0c) continue;
    if ((c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xff)) continue;
    if (WIN_ANSI_EXTRA.includes(ch)) continue;
    return false;
  }
  return true;
}

let unicodeFontBytes: Buffer | undefined;
let unicodeFontCoverage: { hasGlyphForCodePoint(cp: number): boolean } | undefined;

function unicodeFont(): { bytes: Buffer; covers: (cp: number) => boolean } {
  if (!unicodeFontBytes) {
    unicodeFontBytes = readFileSync(assetPath('fonts/DejaVuSansMono.ttf'));
    unicodeFontCoverage = fontkit.create(unicodeFontBytes) as unknown as { hasGlyphForCodePoint(cp: number): boolean };
  }
  const cov = unicodeFontCoverage!;
  return { bytes: unicodeFontBytes, covers: (cp) => cov.hasGlyphForCodePoint(cp) };
}

/** Thrown by layoutText when the text needs more pages than allowed: found before any page is drawn. */
export class TooManyPagesError extends Error {
  constructor(readonly maxPages: number) {
    super(`the text renders to more than ${maxPages} pages`);
    this.name = 'TooManyPagesError';
  }
}

/**
 * Splits text into pages of lines: tabs expanded, long lines wrapped (at a space when one is near), \f starts
 * a page. Linear in the text's length, and it stops as soon as the page limit is passed, so a huge upload
 * costs little before it is refused.
 */
export function layoutText(text: string, columns: number, rowsPerPage: number, maxPages = Infinity): string[][] {
  const pages: string[][] = [[]];
  let normalized = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  if (normalized.endsWith('\u001a')) normalized = normalized.slice(0, -1); // DOS end-of-file marker
  const newPage = () => {
    if (pages.length >= maxPages) throw new TooManyPagesError(maxPages);
    pages.push([]);
  };
  const push = (line: string) => {
    if (pages[pages.length - 1]!.length >= rowsPerPage) newPage();
    pages[pages.length - 1]!.push(line);
  };
  const chunks = normalized.split('\f');
  chunks.forEach((chunk, i) => {
    if (i > 0) newPage();
    const lines = chunk.split('\n');
    if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
    for (const raw of lines) {
      // Expand tabs to the next multiple of TAB columns (columns count characters, not UTF-16 units).
      const chars: string[] = [];
      for (const ch of raw) {
        if (ch === '\t') do chars.push(' '); while (chars.length % TAB !== 0);
        else chars.push(ch);
      }
      let end = chars.length;
      while (end > 0 && /\s/u.test(chars[end - 1]!)) end--;
      if (end === 0) {
        push('');
        continue;
      }
      let pos = 0;
      while (pos < end) {
        if (end - pos <= columns) {
          push(chars.slice(pos, end).join(''));
          break;
        }
        let cut = columns;
        for (let k = columns; k > columns * 0.6; k--) {
          if (chars[pos + k] === ' ') {
            cut = k;
            break;
          }
        }
        let lineEnd = pos + cut;
        while (lineEnd > pos && chars[lineEnd - 1] === ' ') lineEnd--;
        push(chars.slice(pos, lineEnd).join(''));
        pos += cut;
        while (pos < end && chars[pos] === ' ') pos++;
      }
    }
  });
  return pages.map((p) => (p.length === 0 ? [''] : p));
}

export interface RenderedText {
  pdf: Uint8Array;
  pages: number;
}

export async function textToPdf(text: string, pageSize: PageSize = 'letter', maxPages = Infinity): Promise<RenderedText> {
  const doc = await PDFDocument.create({ updateMetadata: false });
  doc.setProducer('Faxbot');
  doc.setCreationDate(new Date(0));
  let font: PDFFont;
  let draw = text;
  if (winAnsiEncodable(text)) {
    font = await doc.embedFont(StandardFonts.Courier);
  } else {
    const uf = unicodeFont();
    doc.registerFontkit(fontkit);
    font = await doc.embedFont(uf.bytes, { subset: true });
    // Characters the font has no glyph for become "?" rather than an invisible box.
    draw = Array.from(text, (ch) => {
      const cp = ch.codePointAt(0)!;
      return cp < 0x20 || uf.covers(cp) ? ch : '?';
    }).join('');
  }
  const [w, h] = SIZES[pageSize];
  const charWidth = font.widthOfTextAtSize('M', FONT_SIZE);
  const columns = Math.floor((w - 2 * MARGIN) / charWidth);
  const rows = Math.floor((h - 2 * MARGIN) / LINE_HEIGHT);
  const pages = layoutText(draw, columns, rows, maxPages);
  for (const lines of pages) {
    const page = doc.addPage([w, h]);
    lines.forEach((line, i) => {
      if (line.length > 0) {
        page.drawText(line, { x: MARGIN, y: h - MARGIN - FONT_SIZE - i * LINE_HEIGHT, size: FONT_SIZE, font });
      }
    });
  }
  return { pdf: await doc.save({ useObjectStreams: false }), pages: pages.length };
}
