// PDF → fax TIFF for a PBX attempt: a bounded number of Ghostscript runs at once, reuse of a finished file, and errors mapped to attempt outcomes.
import { readFile } from 'node:fs/promises';
import { GhostscriptError } from '../../documents/ghostscript.js';
import { FAX_PAGE_LINES, pdfToFaxTiff } from '../../documents/pdf-to-tiff.js';
import { readTiff } from '../../documents/tiff/reader.js';
import { validateFaxTiff } from '../../documents/tiff/validate.js';
import { AttemptFailedError, NotSentError } from '../types.js';
import type { FaxTiffFormat } from './config.js';

export interface ConvertedTiff {
  pages: number;
  bytes: number;
  /** True when a complete TIFF from an earlier run was found and kept. */
  reused: boolean;
}

/**
 * What a Ghostscript failure means for the attempt:
 * - the document cannot be faxed as it is (damaged, encrypted, not a PDF, over the page limit, the stored
 *   file unreadable) → AttemptFailedError('document'), never retried;
 * - gs is missing, or the run was aborted (shutdown) → NotSentError: the attempt is given back uncounted
 *   and the job waits (readiness names the missing gs);
 * - our side failed (time limit, spool not writable, output not a valid fax TIFF) → AttemptFailedError('transient'),
 *   retried by FAX_RETRY_TRANSIENT.
 */
export function conversionFailure(err: unknown): Error {
  if (!(err instanceof GhostscriptError)) return err instanceof Error ? err : new Error(String(err));
  switch (err.code) {
    case 'unreadable':
    case 'unrenderable':
    case 'too_many_pages':
    case 'failed':
      return new AttemptFailedError('document', err.message, `ghostscript ${err.code}`);
    case 'not_found':
      return new NotSentError(`${err.message}; install Ghostscript or set GHOSTSCRIPT_PATH`, 60_000);
    case 'aborted':
      return new NotSentError('the conversion was interrupted (the service is stopping)', 1000);
    case 'timeout':
      return new AttemptFailedError('transient', `could not convert the document in time: ${err.message} (FAX_CONVERT_TIMEOUT_SECONDS)`, 'ghostscript timeout');
    case 'unwritable':
    case 'bad_output':
      return new AttemptFailedError('transient', `could not prepare the fax file: ${err.message}`, `ghostscript ${err.code}`);
    default:
      return new AttemptFailedError('transient', `could not prepare the fax file: ${err.message}`);
  }
}

/** Converts PDFs into fax TIFFs, at most `format.concurrency` at a time, in the order asked. */
export class FaxConverter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly abort = new AbortController();

  /** Hears how long each Ghostscript conversion took (metrics). */
  onConverted: ((seconds: number) => void) | null = null;

  constructor(readonly format: FaxTiffFormat) {}

  /**
   * Makes `outPath` a complete fax TIFF of `pdfPath`. A valid TIFF already at `outPath` (an earlier run
   * for the same attempt finished before a crash) is kept; anything else there is replaced atomically.
   * Throws what conversionFailure() maps to.
   */
  async convert(pdfPath: string, outPath: string): Promise<ConvertedTiff> {
    const existing = await this.existing(outPath);
    if (existing) return existing;
    await this.slot();
    try {
      if (this.abort.signal.aborted) throw new GhostscriptError('aborted', 'Ghostscript run aborted');
      const t0 = performance.now();
      const r = await pdfToFaxTiff(pdfPath, outPath, { ...this.format, signal: this.abort.signal });
      this.onConverted?.((performance.now() - t0) / 1000);
      return { pages: r.pages, bytes: r.bytes, reused: false };
    } catch (err) {
      throw conversionFailure(err);
    } finally {
      this.release();
    }
  }

  /** Kills running conversions and refuses new ones (service shutdown). */
  stop(): void {
    this.abort.abort();
    for (const w of this.waiting.splice(0)) w();
  }

  /** Conversions waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Conversions running now. */
  get active(): number {
    return this.running;
  }

  private async existing(path: string): Promise<ConvertedTiff | null> {
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch {
      return null;
    }
    try {
      const info = readTiff(data, { maxPages: this.format.maxPages });
      const lines = FAX_PAGE_LINES[this.format.paperSize][this.format.resolution];
      if (info.pages.length === 0 || validateFaxTiff(info).length > 0) return null;
      if (info.pages.some((p) => p.length !== lines)) return null; // made with other settings
      return { pages: info.pages.length, bytes: data.length, reused: true };
    } catch {
      return null;
    }
  }

  private slot(): Promise<void> {
    if (this.running < this.format.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(() => {
      this.running++;
      resolve();
    }));
  }

  private release(): void {
    this.running--;
    const next = this.waiting.shift();
    if (next) next();
  }
}
