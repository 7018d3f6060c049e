// The fax-call benchmark shared by the PBX backends: N faxes through the real service (its own process, POST /fax over
// HTTP) against a PBX simulator, up to M calls in flight; completions, event-to-database latency, peak RSS, wall time.
//
// Event-to-database latency is measured without polling: the simulator stamps the event that decides each call as it
// sends it, and the service's dispatcher logs "fax sent"/"fax failed" right after the settle transaction committed,
// with pino's millisecond timestamp. Both clocks are this machine's wall clock.
//
// This measures call orchestration. By default GHOSTSCRIPT_PATH points at a stub that copies a TIFF real gs made
// once, because 1,000 real conversions (≈0.1-0.3 s each, one per core) would cap the calls in flight far below
// 200 on a small machine; conversion has its own figures (bench/pdf-to-tiff.ts). BENCH_REAL_GS=1 uses real gs.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { pdfToFaxTiff } from '../../src/documents/pdf-to-tiff.js';
import { createPgDatabase } from '../../test/helpers/db.js';
import { startServiceProcess } from '../../test/helpers/process.js';
import { multipartBody, peakRssMiB } from './load.js';
import { fmt, percentile, printTable } from './stats.js';

export type BenchDialect = 'sqlite' | 'postgres';

/** BENCH_CALLS, BENCH_CHANNELS, BENCH_CALL_SECONDS, BENCH_DIALECTS, BENCH_REAL_GS. */
export const PBX_BENCH = {
  calls: Number(process.env.BENCH_CALLS ?? 1000),
  channels: Number(process.env.BENCH_CHANNELS ?? 200),
  /** Real seconds one call lasts (the simulator's clock is scaled to fit). */
  callSeconds: Number(process.env.BENCH_CALL_SECONDS ?? 10),
  dialects: (process.env.BENCH_DIALECTS ?? 'sqlite,postgres').split(',').map((d) => d.trim()) as BenchDialect[],
  realGs: process.env.BENCH_REAL_GS === '1',
};

const KEY = 'bench-admin-key';
const POST_CONCURRENCY = 16;

/** A `gs` that answers --version and writes a prepared TIFF to -sOutputFile=: the conversion without its cost. */
async function stubGhostscript(dir: string, pdf: Buffer): Promise<string> {
  const pdfPath = join(dir, 'template.pdf');
  const tif = join(dir, 'template.tif');
  await writeFile(pdfPath, pdf);
  await pdfToFaxTiff(pdfPath, tif, { resolution: 'fine', compression: 'g3', paperSize: 'letter', timeoutMs: 60_000, maxPages: 10 });
  const script = join(dir, 'gs-stub.sh');
  await writeFile(script, [
    '#!/bin/sh',
    'out=""',
    'for a in "$@"; do',
    '  case "$a" in',
    '    --version) echo "10.00.0"; exit 0 ;;',
    '    -sOutputFile=*) out="${a#-sOutputFile=}" ;;',
    '  esac',
    'done',
    `exec cp '${tif}' "$out"`,
    '',
  ].join('\n'));
  await chmod(script, 0o755);
  return script;
}

async function onePagePdf(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const page = doc.addPage([612, 792]);
  page.drawText('Benchmark fax', { x: 72, y: 700, size: 18, font });
  for (let i = 0; i < 30; i++) page.drawText(`${i}: the quick brown fox jumps over the lazy dog`, { x: 72, y: 670 - i * 16, size: 11, font });
  return Buffer.from(await doc.save());
}

interface LogLine {
  time?: string;
  msg?: string;
  jobId?: string;
  attempt?: number;
}

export interface PbxBenchTarget {
  /** The backend's settings for the service (FAX_BACKEND, where the simulator listens, max channels). */
  env: Record<string, string>;
  /** When the simulator sent the event that decided this attempt's call (ms since the epoch). */
  decidedAt(jobId: string, attemptNo: number): number | undefined;
  /** The most calls the simulator had up at once. */
  peakCalls(): number;
}

interface PbxBenchResult {
  dialect: BenchDialect;
  succeeded: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
  peakCalls: number;
  rssMiB: number;
  wallS: number;
}

/** A simulator started for one run, and how to read it. */
export interface PbxSimRun {
  target: PbxBenchTarget;
  close(): Promise<void>;
}

/** Runs the benchmark on each of BENCH_DIALECTS against a fresh simulator from `start`, then prints one table. */
export async function benchPbxCalls(what: string, latency: string, start: () => Promise<PbxSimRun>): Promise<void> {
  const results: PbxBenchResult[] = [];
  for (const dialect of PBX_BENCH.dialects) {
    const sim = await start();
    try {
      results.push(await runPbxCalls(dialect, sim.target));
    } finally {
      await sim.close();
    }
  }
  printPbxCalls(what, latency, results);
}

/** One run: the service on `dialect` against the simulator `target` describes; every fax one page. */
async function runPbxCalls(dialect: BenchDialect, target: PbxBenchTarget): Promise<PbxBenchResult> {
  const { calls } = PBX_BENCH;
  const dataDir = await mkdtemp(join(tmpdir(), 'faxbot-bench-pbx-'));
  const pdf = await onePagePdf();
  const gsPath = PBX_BENCH.realGs ? 'gs' : await stubGhostscript(dataDir, pdf);
  const pg = dialect === 'postgres' ? await createPgDatabase() : null;
  const proc = await startServiceProcess({
    FAX_DATA_DIR: dataDir,
    API_KEY: KEY,
    LOG_LEVEL: 'info',
    FAX_JOB_DEADLINE_MINUTES: '600',
    GHOSTSCRIPT_PATH: gsPath,
    ...target.env,
    ...(pg ? { DATABASE_URL: pg.url, DB_POOL_MAX: '20' } : {}),
  });
  try {
    const t0 = Date.now();
    // Distinct numbers: the dispatcher never runs two calls to one number at once.
    let next = 0;
    const ids: string[] = [];
    const poster = async (): Promise<void> => {
      for (let i = next++; i < calls; i = next++) {
        const to = `+1555${String(7_000_000 + i).padStart(7, '0')}`;
        const form = multipartBody({ to }, { name: 'file', filename: 'a.pdf', type: 'application/pdf', data: pdf });
        const r = await fetch(`${proc.url}/fax`, { method: 'POST', headers: { 'X-API-Key': KEY, 'Content-Type': form.contentType }, body: form.body });
        if (r.status !== 202) throw new Error(`POST /fax answered ${r.status}: ${await r.text()}`);
        ids.push(((await r.json()) as { id: string }).id);
      }
    };
    await Promise.all(Array.from({ length: POST_CONCURRENCY }, poster));

    // Done when the service has logged a final outcome for every job.
    const finals = new Map<string, LogLine>();
    let scanned = 0;
    const deadline = Date.now() + Math.max(600_000, calls * 1000);
    while (finals.size < calls) {
      for (; scanned < proc.output.length; scanned++) {
        const line = proc.output[scanned]!;
        if (!line.startsWith('{')) continue;
        const l = JSON.parse(line) as LogLine;
        if ((l.msg === 'fax sent' || l.msg === 'fax failed') && l.jobId) finals.set(l.jobId, l);
      }
      if (Date.now() > deadline) throw new Error(`only ${finals.size} of ${calls} jobs finished`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const wallS = (Date.now() - t0) / 1000;
    const rssMiB = await peakRssMiB(proc.child.pid!);

    const latencies: number[] = [];
    let succeeded = 0;
    for (const id of ids) {
      const f = finals.get(id)!;
      if (f.msg === 'fax sent') succeeded++;
      const decided = target.decidedAt(id, f.attempt ?? 1);
      if (decided !== undefined && f.time) latencies.push(Date.parse(f.time) - decided);
    }
    latencies.sort((a, b) => a - b);
    return {
      dialect,
      succeeded,
      failed: calls - succeeded,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? NaN,
      peakCalls: target.peakCalls(),
      rssMiB,
      wallS,
    };
  } finally {
    proc.child.kill('SIGTERM');
    await proc.exited;
    await rm(dataDir, { recursive: true, force: true });
    await pg?.drop();
  }
}

/** Prints the runs as one table under a line saying what was measured. */
function printPbxCalls(what: string, latency: string, results: readonly PbxBenchResult[]): void {
  const { calls, callSeconds, realGs } = PBX_BENCH;
  console.log(`${calls} faxes via POST /fax → ${what}, each call ≈${callSeconds} s, 1-page PDF; ` +
    (realGs ? 'real gs per job' : 'gs stubbed (copies a TIFF real gs made; BENCH_REAL_GS=1 for real conversions)'));
  console.log(`latency: ${latency} → service has committed the final job row (its log line after the commit)`);
  printTable(
    ['database', 'completed', 'failed', 'peak calls up', 'latency p50 ms', 'p99 ms', 'max ms', 'peak RSS MiB', 'wall s', 'faxes/s'],
    results.map((r) => [r.dialect, `${r.succeeded}/${calls}`, r.failed, r.peakCalls, fmt(r.p50, 0), fmt(r.p99, 0), fmt(r.max, 0), fmt(r.rssMiB, 0), fmt(r.wallS, 1), fmt(calls / r.wallS, 1)]),
  );
}
