// Documents for the conversion benchmarks: Letter pages of dense text, made with pdf-lib.
import { PDFDocument, PageSizes, StandardFonts } from 'pdf-lib';

export async function textPdf(pages: number): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let p = 1; p <= pages; p++) {
    const page = doc.addPage(PageSizes.Letter);
    page.drawText(`Benchmark page ${p} of ${pages}`, { x: 50, y: 730, size: 18, font });
    for (let i = 0; i < 45; i++) {
      page.drawText(`${i}: Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod ${p}-${i}`, { x: 50, y: 700 - i * 14, size: 10, font });
    }
  }
  return doc.save();
}
