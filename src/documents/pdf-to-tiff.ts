// Renders a PDF into a TIFF-F fax file (1728 px, 204x98/196, G3/G4, one strip per page) with Ghostscript, atomically.
import { randomUUID } from 'node:crypto';
import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { GhostscriptError, runGhostscript } from './ghostscript.js';
import { readTiff } from './tiff/reader.js';
import { validateFaxTiff } from './tiff/validate.js';
import { syncDir } from '../util/fsync.js';

export type FaxResolution = 'fine' | 'normal';
export type FaxCompression = 'g3' | 'g4';
export type FaxPaperSize = 'letter' | 'a4';

export interface PdfToFaxTiffOptions {
  resolution: FaxResolution;
  /** g3 = T.4 1-D (tiffg3), the most compatible; g4 = T.6 (tiffg4), smallest, spandsp transcodes when needed. */
  compression: FaxCompression;
  paperSize: FaxPaperSize;
  timeoutMs: number;
  /** A document with more pages fails with `too_many_pages`; at most maxPages + 1 pages are rendered. */
  maxPages: number;
  gsPath?: string;
  signal?: AbortSignal;
}

export interface PdfToFaxTiffResult {
  pages: number;
  bytes: number;
}

/** Page height in fax lines for each paper size and resolution, at 1728 px wide (protocol brief 5.3). */
export const FAX_PAGE_LINES: Readonly<Record<FaxPaperSize, Readonly<Record<FaxResolution, number>>>> = {
  letter: { fine: 2156, normal: 1078 },
  a4: { fine: 2292, normal: 1146 },
};

/**
 * The Ghostscript command line for one conversion (without the `gs` itself). Exported so the
 * benchmark runs exactly the same command raw.
 */
export function faxGhostscriptArgs(pdfPath: string, outPath: string, opts: PdfToFaxTiffOptions): string[] {
  const lines = FAX_PAGE_LINES[opts.paperSize][opts.resolution];
  return [
    // No -q: gs 10 then prints its summary of errors it "repaired or ignored", the only place where a
    // stream it could not read (part of a page silently missing) shows up.
    '-dSAFER',
    '-dBATCH',
    '-dNOPAUSE',
    '-dNOPROMPT',
    `-sDEVICE=${opts.compression === 'g4' ? 'tiffg4' : 'tiffg3'}`,
    `-r204x${opts.resolution === 'fine' ? 196 : 98}`,
    `-g1728x${lines}`,
    // Scale every page into the fax page whatever its own size, instead of cropping it.
    '-dFIXEDMEDIA',
    '-dPDFFitPage',
    // One strip per page (some fax stacks mishandle several).
    '-dMaxStripSize=0',
    // Render one page past the limit: enough to know the limit was passed, without rendering them all.
    `-dLastPage=${opts.maxPages + 1}`,
    // gs expands %d etc. in output names; a literal % must be doubled.
    `-sOutputFile=${outPath.replace(/%/g, '%%')}`,
    pdfPath,
  ];
}

/**
 * Converts the PDF at `pdfPath` into a fax TIFF at `outPath`. The file appears only when complete and
 * valid (temp file in the same directory, then rename); on any failure nothing is left behind and a
 * `GhostscriptError` says why in words fit for the job record.
 */
export async function pdfToFaxTiff(pdfPath: string, outPath: string, opts: PdfToFaxTiffOptions): Promise<PdfToFaxTiffResult> {
  if (!Number.isInteger(opts.maxPages) || opts.maxPages < 1) throw new RangeError('maxPages must be a positive integer');
  if (!(opts.timeoutMs > 0)) throw new RangeError('timeoutMs must be positive');
  const input = resolve(pdfPath);
  const target = resolve(outPath);
  await checkPdfFile(input);

  const tmp = join(dirname(target), `.${basename(target)}.${randomUUID()}.tmp`);
  try {
    // Claim the temp name first: a missing or read-only directory is then our error, not the document's.
    await writeFile(tmp, '', { flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
      throw new GhostscriptError('unwritable', `the fax TIFF could not be written (${e.code ?? 'error'})`);
    });
    let run;
    try {
      run = await runGhostscript(faxGhostscriptArgs(input, tmp, opts), {
        gsPath: opts.gsPath,
        timeoutMs: opts.timeoutMs,
        signal: opts.signal,
        redact: [input, tmp],
      });
    } catch (e) {
      if (e instanceof GhostscriptError && e.code === 'failed' && /No space left|Could not open the file/i.test(e.diagnostics)) {
        throw new GhostscriptError('unwritable', 'the fax TIFF could not be written (Ghostscript could not write its output)', e.exitCode, e.diagnostics);
      }
      if (e instanceof GhostscriptError && e.code === 'failed') {
        throw new GhostscriptError('unrenderable', `the document could not be rendered: ${failureReason(e.diagnostics)}`, e.exitCode, e.diagnostics);
      }
      throw e;
    }
    const printed = `${run.stdout}\n${run.stderr}`;
    const problem = renderProblem(printed);
    if (problem) {
      // gs 10 repairs what it can and carries on past the rest, still exiting 0: a missing page or a
      // half-drawn one must not be faxed as if it were the document.
      const diagnostics = printed.split(input).join('<file>').split(tmp).join('<file>').slice(-4000);
      throw new GhostscriptError('unrenderable', `the document could not be rendered: ${problem}`, 0, diagnostics);
    }

    const data = await readFile(tmp).catch(() => null);
    if (!data || data.length === 0) {
      throw new GhostscriptError('unrenderable', 'the document could not be rendered: Ghostscript produced no pages');
    }
    let pages: number;
    try {
      const info = readTiff(data, { maxPages: opts.maxPages + 1 });
      pages = info.pages.length;
      if (pages > opts.maxPages) {
        throw new GhostscriptError('too_many_pages', `the document has more than ${opts.maxPages} pages (the limit is ${opts.maxPages})`);
      }
      const lines = FAX_PAGE_LINES[opts.paperSize][opts.resolution];
      const problems = validateFaxTiff(info);
      for (const p of info.pages) if (p.length !== lines) problems.push(`page ${p.index + 1}: ${p.length} lines, expected ${lines}`);
      if (problems.length > 0) {
        throw new GhostscriptError('bad_output', `Ghostscript output is not a valid fax TIFF: ${problems[0]}`);
      }
    } catch (e) {
      if (e instanceof GhostscriptError) throw e;
      throw new GhostscriptError('bad_output', `Ghostscript output is not a readable TIFF: ${(e as Error).message}`);
    }

    // Make the bytes durable before the name appears: a job that says "TIFF ready" must find it after a crash.
    const fh = await open(tmp, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
    await syncDir(dirname(target));
    return { pages, bytes: data.length };
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Refuses input gs should not see: anything without a PDF header (gs would run it as PostScript) and
 * a PDF without its end-of-file marker, i.e. cut short (gs would rebuild it from whatever objects
 * survived and render fewer or emptier pages without an error).
 */
async function checkPdfFile(path: string): Promise<void> {
  let head: Buffer;
  let tail: Buffer;
  try {
    const fh = await open(path, 'r');
    try {
      const { size } = await fh.stat();
      head = Buffer.alloc(Math.min(1024, size));
      await fh.read(head, 0, head.length, 0);
      tail = Buffer.alloc(Math.min(TAIL_BYTES, size));
      await fh.read(tail, 0, tail.length, size - tail.length);
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new GhostscriptError('unreadable', `the document file could not be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  // Readers accept the header anywhere in the first 1024 bytes (some generators put junk first).
  if (!head.includes('%PDF-')) throw new GhostscriptError('unrenderable', 'the document could not be rendered: not a PDF');
  if (!tail.includes('%%EOF')) {
    throw new GhostscriptError('unrenderable', 'the document could not be rendered: the file is truncated (no end-of-file marker)');
  }
}

/** Every PDF revision ends with %%EOF; some writers add a little padding after it. */
const TAIL_BYTES = 2048;

/**
 * Errors in gs's end-of-run summary that mean content was lost rather than structure repaired
 * (a rebuilt xref, a stray Q, a bad annotation are repaired or ignored without losing the page).
 */
const CONTENT_LOST = [
  'error reading a stream',
  "couldn't repair PDF file",
  'error in Page dictionary',
  'error reading page dictionary',
  'request for unknown filter',
  'content stream lacks endstream',
  'out of memory',
];

/** Why gs's output means the render is not the document, or null when it is fine. */
function renderProblem(printed: string): string | null {
  if (/\*\*\*\* Error/.test(printed)) return failureReason(printed);
  const summary = /The following (?:errors|warnings) were encountered at least once[^\n]*\n((?:[ \t]+\S[^\n]*\n?)*)/g;
  for (const m of printed.matchAll(summary)) {
    const lost = (m[1] ?? '').split('\n').map((l) => l.trim()).find((l) => CONTENT_LOST.includes(l));
    // gs's own fixed wording, never document text.
    if (lost) return `parts of the document are damaged (${lost})`;
  }
  return null;
}

/** A short, content-free reason from what gs printed. */
function failureReason(printed: string): string {
  if (/password/i.test(printed)) return 'the PDF is encrypted (a password is required)';
  if (/Couldn't initialise file|Catalog dictionary not located|%%EOF|startxref|trailer/i.test(printed)) {
    return 'the file is damaged or not a PDF';
  }
  if (/page not found|Couldn't get page info|Page tree/i.test(printed)) return 'some pages are damaged or missing';
  if (/\*\*\*\* Error/.test(printed)) return 'Ghostscript reported errors in the file';
  return 'Ghostscript could not interpret the file';
}
