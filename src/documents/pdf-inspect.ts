// Checks an uploaded PDF before it is accepted: it must parse, must not be encrypted, and must have pages.
import { PDFDocument } from 'pdf-lib';

export class DocumentError extends Error {
  constructor(readonly code: 'pdf_malformed' | 'pdf_encrypted' | 'pdf_no_pages' | 'too_many_pages', message: string) {
    super(message);
    this.name = 'DocumentError';
  }
}

const EOF_MARKER = Buffer.from('%%EOF', 'latin1');

export async function inspectPdf(bytes: Uint8Array, maxPages: number): Promise<{ pages: number }> {
  // pdf-lib recovers from almost anything, including a file cut short; a missing end marker is the
  // surest sign of a truncated upload, so check it first (PDF readers allow it within the last 1 KB).
  const tail = Buffer.from(bytes.buffer, bytes.byteOffset + Math.max(0, bytes.length - 1024), Math.min(1024, bytes.length));
  if (tail.indexOf(EOF_MARKER) < 0) {
    throw new DocumentError('pdf_malformed', 'the PDF is truncated or damaged (no %%EOF marker at its end)');
  }
  let doc: PDFDocument;
  try {
    doc = await PDFDocument.load(bytes, { ignoreEncryption: true, throwOnInvalidObject: true, updateMetadata: false });
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0]!.slice(0, 160) : 'unknown error';
    throw new DocumentError('pdf_malformed', `the PDF could not be parsed: ${reason}`);
  }
  if (doc.isEncrypted) {
    throw new DocumentError('pdf_encrypted', 'the PDF is encrypted or password-protected; send an unprotected copy');
  }
  let pages: number;
  try {
    pages = doc.getPageCount();
  } catch {
    throw new DocumentError('pdf_malformed', 'the PDF could not be parsed: its page tree is damaged');
  }
  if (pages < 1) throw new DocumentError('pdf_no_pages', 'the PDF has no pages');
  if (pages > maxPages) {
    throw new DocumentError('too_many_pages', `the document has ${pages} pages; at most ${maxPages} can be faxed (FAX_MAX_PAGES)`);
  }
  return { pages };
}
