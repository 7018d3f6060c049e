// Documents for tests: real PDFs made with pdf-lib, and broken ones made from them.
import { PDFDocument, StandardFonts } from 'pdf-lib';

export async function makePdf(pages = 1, text = 'Faxbot test page'): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let i = 0; i < pages; i++) {
    const p = doc.addPage([612, 792]);
    p.drawText(`${text} ${i + 1}`, { x: 72, y: 700, size: 18, font });
  }
  return doc.save();
}

/** The first half of a real PDF: what an interrupted upload leaves. */
export async function truncatedPdf(): Promise<Uint8Array> {
  const full = await makePdf(3);
  return full.slice(0, Math.floor(full.length / 2));
}

/** "%PDF-" followed by junk: claims to be a PDF, is not one. */
export function garbagePdf(): Uint8Array {
  return Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(2048, 0x41), Buffer.from('\n%%EOF\n')]);
}
