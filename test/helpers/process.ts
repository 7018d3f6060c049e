// Runs the real service as a child process (node + tsx on src/main.ts), for crash and multi-process tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  output: string[];
  /** Resolves with the exit code or signal once the process is gone. */
  exited: Promise<number | NodeJS.Signals | null>;
}

const ROOT = resolve(import.meta.dirname, '..', '..');

/** Starts src/main.ts with `env` and resolves once it logs that it is listening. */
export async function startServiceProcess(env: Record<string, string>, timeoutMs = 30_000): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | NodeJS.Signals | null>((res) => child.once('exit', (code, sig) => res(sig ?? code)));
  const url = await new Promise<string>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`service did not start in ${timeoutMs} ms:\n${output.join('\n')}`)), timeoutMs);
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        output.push(line);
        if (line.includes('"faxbot listening"')) {
          try {
            const u = (JSON.parse(line) as { url: string }).url;
            clearTimeout(t);
            res(u);
          } catch {
            // keep waiting
          }
        }
      }
    };
    child.stdout!.on('data', onLine);
    child.stderr!.on('data', onLine);
    void exited.then((code) => {
      clearTimeout(t);
      rej(new Error(`service exited (${String(code)}) before listening:\n${output.join('\n')}`));
    });
  });
  return { child, url, output, exited };
}

export async function killHard(p: ServiceProcess): Promise<void> {
  p.child.kill('SIGKILL');
  await p.exited;
}
