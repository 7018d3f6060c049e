// Inbound ingest benchmark: POST /_internal/asterisk/inbound → TIFF converted, PDF stored, TIFF archived, row written
// (the hook answers only then), per fax, against the real service process on SQLite and PostgreSQL. The TIFF → PDF
// conversion alone on the same file, in this process, is measured in the same run as the baseline.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { tiffToPdf } from '../src/documents/tiff-to-pdf.js';
import { createPgDatabase } from '../test/helpers/db.js';
import { startServiceProcess } from '../test/helpers/process.js';
import { fmt, median, percentile, printTable, timeMs } from './lib/stats.js';

const execFileP = promisify(execFile);
const SECRET = 'bench-secret';
const FIXTURE = join(import.meta.dirname, '..', 'test', 'fixtures', 'tiff', 'received.tif');

async function benchDialect(dialect: 'sqlite' | 'postgres', files: { label: string; path: string; runs: number }[], rows: (string | number)[][]): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'faxbot-bench-inbound-'));
  const spool = join(root, 'spool');
  await mkdir(spool);
  const pg = dialect === 'postgres' ? await createPgDatabase() : null;
  const proc = await startServiceProcess({
    FAX_DATA_DIR: join(root, 'data'),
    API_KEY: 'bench-admin-key',
    LOG_LEVEL: 'warn',
    INBOUND_ENABLED: 'true',
    ASTERISK_INBOUND_SECRET: SECRET,
    INBOUND_SPOOL_DIRS: spool,
    // Only the hook: the watcher would race it for the same files.
    INBOUND_WATCH: 'false',
    ...(pg ? { DATABASE_URL: pg.url } : {}),
  });
  try {
    let n = 0;
    for (const f of files) {
      const tiff = await readFile(f.path);
      const hook: number[] = [];
      const convert: number[] = [];
      for (let i = -2; i < f.runs; i++) {
        const uid = `${1795000000 + n}.${n}`;
        n++;
        const path = join(spool, `${uid}.tif`);
        await copyFile(f.path, path);
        const body = JSON.stringify({ tiff_path: path, to_number: '1000', from_number: '+15550000001', faxstatus: 'SUCCESS', faxpages: '2', uniqueid: uid });
        const t = await timeMs(async () => {
          const r = await fetch(`${proc.url}/_internal/asterisk/inbound`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Internal-Secret': SECRET }, body });
          if (r.status !== 201) throw new Error(`hook answered ${r.status}: ${await r.text()}`);
          await r.arrayBuffer();
        });
        const c = await timeMs(() => tiffToPdf(tiff));
        // Two warm-up faxes are not counted.
        if (i >= 0) {
          hook.push(t);
          convert.push(c);
        }
      }
      const sorted = [...hook].sort((a, b) => a - b);
      rows.push([dialect, f.label, f.runs, fmt(median(hook)), fmt(percentile(sorted, 90)), fmt(median(convert)), fmt(median(hook) / median(convert), 2)]);
    }
  } finally {
    proc.child.kill('SIGTERM');
    await proc.exited;
    await pg?.drop();
    await rm(root, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'faxbot-bench-inbound-files-'));
  try {
    // 20 pages as Asterisk writes them: the recorded 2-page G3 2-D TIFF, ten times over.
    const twenty = join(dir, 'received-20.tif');
    await execFileP('tiffcp', [...Array<string>(10).fill(FIXTURE), twenty]);
    const files = [
      { label: '2-page G3 (received.tif)', path: FIXTURE, runs: 25 },
      { label: '20-page G3', path: twenty, runs: 11 },
    ];
    const rows: (string | number)[][] = [];
    await benchDialect('sqlite', files, rows);
    try {
      await benchDialect('postgres', files, rows);
    } catch (err) {
      console.log(`(PostgreSQL skipped: ${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
    }
    console.log('Inbound hook → PDF stored, per fax, ms (hook: HTTP round trip until 201; conversion: tiffToPdf alone, same file, same run)');
    printTable(['database', 'fax', 'faxes', 'hook median', 'hook p90', 'conversion median', 'hook / conversion'], rows);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
