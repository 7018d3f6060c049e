// Decides what an upload is from its bytes (never its name or declared type): a PDF, UTF-8 text, or neither.

export type Sniffed =
  | { kind: 'pdf' }
  | { kind: 'text'; text: string }
  | { kind: 'empty' }
  | { kind: 'unsupported'; reason: string };

const PDF_MAGIC = Buffer.from('%PDF-', 'latin1');
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Control characters a text file may contain: tab, line feed, form feed (page break), carriage return, DOS EOF. */
function isAllowedControl(code: number): boolean {
  return code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d || code === 0x1a;
}

export function sniff(buf: Uint8Array): Sniffed {
  if (buf.length === 0) return { kind: 'empty' };
  // A PDF may carry a few bytes of whitespace before its header; anything else before it is not a PDF.
  let start = 0;
  while (start < buf.length && start < 16 && (buf[start] === 0x20 || buf[start] === 0x0a || buf[start] === 0x0d || buf[start] === 0x09)) start++;
  if (Buffer.from(buf.buffer, buf.byteOffset + start, Math.min(5, buf.length - start)).equals(PDF_MAGIC)) return { kind: 'pdf' };

  if ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff)) {
    return { kind: 'unsupported', reason: 'text files must be UTF-8 (this one is UTF-16)' };
  }
  let text: string;
  try {
    text = utf8.decode(buf);
  } catch {
    return { kind: 'unsupported', reason: 'only PDF and UTF-8 text files can be faxed' };
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && !isAllowedControl(c)) || c === 0x7f) {
      return { kind: 'unsupported', reason: 'only PDF and UTF-8 text files can be faxed (this file contains binary data)' };
    }
  }
  return { kind: 'text', text };
}
