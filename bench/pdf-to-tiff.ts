// Benchmark: PDF → fax TIFF through pdfToFaxTiff versus the same Ghostscript command run directly.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { faxGhostscriptArgs, pdfToFaxTiff, type PdfToFaxTiffOptions } from '../src/documents/pdf-to-tiff.js';
import { textPdf } from './lib/docs.js';
import { fmt, interleavedMedians, printTable } from './lib/stats.js';

const execFileP = promisify(execFile);

export async function run(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'faxbot-bench-p2t-'));
  try {
    const opts: PdfToFaxTiffOptions = { resolution: 'fine', compression: 'g3', paperSize: 'letter', timeoutMs: 120_000, maxPages: 100 };
    const rows: (string | number)[][] = [];
    for (const [pages, runs] of [[1, 9], [20, 5]] as const) {
      const pdf = join(dir, `doc-${pages}.pdf`);
      await writeFile(pdf, await textPdf(pages));
      const ours = () => pdfToFaxTiff(pdf, join(dir, `ours-${pages}.tif`), opts);
      const raw = () => execFileP('gs', faxGhostscriptArgs(pdf, join(dir, `raw-${pages}.tif`), opts), { maxBuffer: 16 * 1024 * 1024 });
      await ours();
      await raw();
      const { a: o, b: r } = await interleavedMedians(runs, ours, raw);
      rows.push([`${pages}-page Letter text PDF`, runs, fmt(o), fmt(r), fmt(o / r, 2)]);
    }
    console.log('PDF → TIFF-F (fine, G3, Letter), medians in ms');
    printTable(['document', 'runs', 'pdfToFaxTiff', 'raw gs', 'ratio ours/raw'], rows);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
