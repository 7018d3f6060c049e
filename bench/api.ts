// API ingest benchmark: POST /fax (1 KB text, 1-page PDF) and GET /fax/{id} at concurrency 16 and 64,
// on SQLite and PostgreSQL, against the real service in its own process. GET /health is the baseline
// (same server, no database, no auth) measured in the same run.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { createPgDatabase } from '../test/helpers/db.js';
import { startServiceProcess } from '../test/helpers/process.js';
import { multipartBody, peakRssMiB, runLoad, type LoadRequest, type LoadResult } from './lib/load.js';
import { fmt, median, printTable } from './lib/stats.js';

const KEY = 'bench-admin-key';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

async function onePagePdf(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.addPage([612, 792]).drawText('Benchmark page', { x: 72, y: 700, size: 18, font });
  return Buffer.from(await doc.save());
}

function summarize(runs: LoadResult[]) {
  return {
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    non2xx: runs.reduce((a, r) => a + r.non2xx + r.errors, 0),
    requests: runs.reduce((a, r) => a + r.requests, 0),
  };
}

async function benchDialect(dialect: 'sqlite' | 'postgres', rows: (string | number)[][], label: string = dialect, extraEnv: Record<string, string> = {}): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'faxbot-bench-'));
  const pg = dialect === 'postgres' ? await createPgDatabase() : null;
  const proc = await startServiceProcess({
    FAX_DATA_DIR: dataDir,
    API_KEY: KEY,
    LOG_LEVEL: 'warn',
    SANDBOX_DELAY_SECONDS: '1',
    ...(pg ? { DATABASE_URL: pg.url, DB_POOL_MAX: '20' } : {}),
    ...extraEnv,
  });
  try {
    const text = multipartBody({ to: '+15551230001' }, { name: 'file', filename: 'a.txt', type: 'text/plain', data: Buffer.from('Lorem ipsum dolor sit amet. '.repeat(37).slice(0, 1024)) });
    const pdf = multipartBody({ to: '+15551230001' }, { name: 'file', filename: 'a.pdf', type: 'application/pdf', data: await onePagePdf() });
    // Ids to read back.
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const r = await fetch(`${proc.url}/fax`, { method: 'POST', headers: { 'X-API-Key': KEY, 'Content-Type': pdf.contentType }, body: pdf.body });
      ids.push(((await r.json()) as { id: string }).id);
    }
    let i = 0;
    const scenarios: [string, () => LoadRequest][] = [
      ['GET /health (baseline)', () => ({ method: 'GET', path: '/health' })],
      ['POST /fax, 1 KB text', () => ({ method: 'POST', path: '/fax', headers: { 'X-API-Key': KEY, 'Content-Type': text.contentType }, body: text.body })],
      ['POST /fax, 1-page PDF', () => ({ method: 'POST', path: '/fax', headers: { 'X-API-Key': KEY, 'Content-Type': pdf.contentType }, body: pdf.body })],
      ['GET /fax/{id}', () => ({ method: 'GET', path: `/fax/${ids[i++ % ids.length]}`, headers: { 'X-API-Key': KEY } })],
    ];
    for (const concurrency of [16, 64]) {
      const baseline: number[] = [];
      for (const [name, next] of scenarios) {
        const runs: LoadResult[] = [];
        for (let r = 0; r < RUNS; r++) runs.push(await runLoad(proc.url, concurrency, SECONDS, next));
        const s = summarize(runs);
        if (name.startsWith('GET /health')) baseline.push(s.rps);
        rows.push([label, concurrency, name, fmt(s.rps, 0), fmt(s.p50, 1), fmt(s.p99, 1), s.non2xx, fmt(s.rps / baseline[0]!, 2), s.requests]);
      }
    }
    rows.push([label, '-', `server peak RSS: ${fmt(await peakRssMiB(proc.child.pid!), 0)} MiB`, '', '', '', '', '', '']);
  } finally {
    proc.child.kill('SIGTERM');
    await proc.exited;
    await rm(dataDir, { recursive: true, force: true });
    await pg?.drop();
  }
}

export async function run(): Promise<void> {
  const rows: (string | number)[][] = [];
  await benchDialect('sqlite', rows, 'sqlite (FULL)');
  // The durability trade-off, measured: NORMAL keeps accepted jobs through a crash but not a power cut.
  await benchDialect('sqlite', rows, 'sqlite (NORMAL)', { SQLITE_SYNCHRONOUS: 'NORMAL' });
  await benchDialect('postgres', rows);
  console.log(`${RUNS} runs of ${SECONDS} s per row; medians of the runs; ratio = requests/s ÷ GET /health at the same concurrency\n`);
  printTable(['db', 'conc.', 'request', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'ratio vs /health', 'requests'], rows);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
