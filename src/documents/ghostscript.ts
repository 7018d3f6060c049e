// Runs the Ghostscript binary under a time limit (killed and reaped on timeout) and reports its version for readiness.
import { spawn } from 'node:child_process';

/**
 * - `not_found`: the gs binary could not be started
 * - `timeout`: killed after the time limit
 * - `aborted`: the caller's AbortSignal fired (e.g. shutdown)
 * - `failed`: gs exited with an error
 * - `unreadable`: the input file could not be read
 * - `unwritable`: the output could not be written (missing directory, permissions, disk full)
 * - `unrenderable`: the document is damaged, encrypted or not a PDF
 * - `too_many_pages`: over the caller's page limit
 * - `bad_output`: gs produced something that is not the expected fax TIFF (a bug, not the user's fault)
 */
export type GhostscriptErrorCode =
  | 'not_found'
  | 'timeout'
  | 'aborted'
  | 'failed'
  | 'unreadable'
  | 'unwritable'
  | 'unrenderable'
  | 'too_many_pages'
  | 'bad_output';

/**
 * A Ghostscript failure. `message` is short and safe to store on a job and show to an API client (no
 * paths, no document content). `diagnostics` is the tail of gs's own output with the file paths of
 * the run removed, for an operator's debug log; gs may quote fragments of the document in it.
 */
export class GhostscriptError extends Error {
  constructor(
    readonly code: GhostscriptErrorCode,
    message: string,
    readonly exitCode: number | null = null,
    readonly diagnostics = '',
  ) {
    super(message);
    this.name = 'GhostscriptError';
  }
}

export interface RunGhostscriptOptions {
  /** The gs binary (GHOSTSCRIPT_PATH); default `gs` from PATH. */
  gsPath?: string;
  /** Wall-clock limit; the process is SIGKILLed when it passes. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Paths to blank out of `diagnostics` (the input and output files). */
  redact?: readonly string[];
  /** Called with the child's pid once it is running (tests use it to prove the child was reaped). */
  onSpawn?: (pid: number) => void;
}

export interface GhostscriptRun {
  stdout: string;
  stderr: string;
}

/** Output kept per stream: enough for error lines, bounded whatever gs prints. */
const MAX_CAPTURE = 64 * 1024;

/**
 * Runs `gs` with `args` and resolves with its output when it exits 0. Everything else is a
 * `GhostscriptError`; by the time the promise settles the child has exited and been reaped.
 */
export function runGhostscript(args: readonly string[], opts: RunGhostscriptOptions): Promise<GhostscriptRun> {
  const gsPath = opts.gsPath ?? 'gs';
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new GhostscriptError('aborted', 'Ghostscript run aborted'));
      return;
    }
    // GS_OPTIONS is prepended to every command line by gs itself; it could silently turn -dSAFER off.
    const env = { ...process.env };
    delete env.GS_OPTIONS;
    const child = spawn(gsPath, [...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    const out = new Capture();
    const err = new Capture();
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));

    let reason: 'timeout' | 'aborted' | null = null;
    let spawnError: NodeJS.ErrnoException | null = null;
    const kill = (why: 'timeout' | 'aborted') => {
      if (reason || child.exitCode !== null || child.signalCode !== null) return;
      reason = why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill('timeout'), opts.timeoutMs);
    const onAbort = () => kill('aborted');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);

    child.on('error', (e: NodeJS.ErrnoException) => {
      // Spawn failures emit 'error' and then 'close'; a kill failure after exit is harmless.
      spawnError ??= e;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const diagnostics = redact(`${out.text()}\n${err.text()}`.trim(), opts.redact ?? []);
      if (spawnError && child.pid === undefined) {
        reject(new GhostscriptError('not_found', `Ghostscript could not be started (${gsPath}: ${spawnError.code ?? 'error'})`));
      } else if (reason === 'timeout') {
        reject(new GhostscriptError('timeout', `Ghostscript timed out after ${opts.timeoutMs} ms`, null, diagnostics));
      } else if (reason === 'aborted') {
        reject(new GhostscriptError('aborted', 'Ghostscript run aborted', null, diagnostics));
      } else if (code !== 0) {
        reject(new GhostscriptError('failed', `Ghostscript failed (exit code ${code ?? 'none'})`, code, diagnostics));
      } else {
        resolve({ stdout: out.text(), stderr: err.text() });
      }
    });
  });
}

class Capture {
  private chunks: Buffer[] = [];
  private size = 0;
  push(c: Buffer): void {
    this.chunks.push(c);
    this.size += c.length;
    // Keep the tail: gs prints its error summary last.
    while (this.size > MAX_CAPTURE && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - MAX_CAPTURE)).toString('utf8');
  }
}

function redact(text: string, paths: readonly string[]): string {
  let t = text;
  for (const p of paths) if (p) t = t.split(p).join('<file>');
  return t.length > 4000 ? t.slice(-4000) : t;
}

const versions = new Map<string, Promise<string | null>>();

/**
 * The version `gs --version` prints (e.g. "10.00.0"), or null when gs cannot be run. Successful
 * answers are cached per binary; a failure is retried on the next call so installing gs fixes
 * readiness without a restart.
 */
export function ghostscriptVersion(gsPath = 'gs'): Promise<string | null> {
  const cached = versions.get(gsPath);
  if (cached) return cached;
  const p = runGhostscript(['--version'], { gsPath, timeoutMs: 10_000 })
    .then((r) => {
      const v = r.stdout.trim().split(/\s+/)[0] ?? '';
      return /^\d+(\.\d+)*$/.test(v) ? v : null;
    })
    .catch(() => null);
  versions.set(gsPath, p);
  void p.then((v) => {
    if (v === null) versions.delete(gsPath);
  });
  return p;
}
