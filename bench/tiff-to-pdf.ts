// Benchmark: fax TIFF → PDF through tiffToPdf (file in, file out) versus libtiff's tiff2pdf on the same files.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { pdfToFaxTiff } from '../src/documents/pdf-to-tiff.js';
import { tiffToPdf } from '../src/documents/tiff-to-pdf.js';
import { textPdf } from './lib/docs.js';
import { fmt, interleavedMedians, printTable } from './lib/stats.js';

const execFileP = promisify(execFile);

export async function run(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'faxbot-bench-t2p-'));
  try {
    const rows: (string | number)[][] = [];
    for (const pages of [1, 20]) {
      const pdf = join(dir, `doc-${pages}.pdf`);
      await writeFile(pdf, await textPdf(pages));
      for (const compression of ['g3', 'g4'] as const) {
        const tif = join(dir, `fax-${pages}-${compression}.tif`);
        const { bytes } = await pdfToFaxTiff(pdf, tif, { resolution: 'fine', compression, paperSize: 'letter', timeoutMs: 120_000, maxPages: 100 });
        const ours = async () => {
          const { pdf: out } = await tiffToPdf(await readFile(tif));
          await writeFile(join(dir, 'ours.pdf'), out);
        };
        const t2p = () => execFileP('tiff2pdf', ['-o', join(dir, 'tiff2pdf.pdf'), tif]);
        await ours();
        await t2p();
        const runs = pages === 1 ? 15 : 9;
        const { a: o, b: t } = await interleavedMedians(runs, ours, t2p);
        rows.push([`${pages}-page fine ${compression.toUpperCase()} (${Math.round(bytes / 1024)} KiB)`, runs, fmt(o), fmt(t), fmt(o / t, 2)]);
      }
    }
    console.log('TIFF → PDF, medians in ms (ours includes reading the TIFF and writing the PDF)');
    printTable(['fax TIFF', 'runs', 'tiffToPdf', 'tiff2pdf', 'ratio ours/tiff2pdf'], rows);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
