// Test helpers for the FreeSWITCH backend: a captured logger, waiting for conditions, an ESL client on the simulator.
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { EslConnection, type EslConnectionOptions } from '../../../src/backends/freeswitch/esl-connection.js';
import type { EslSim } from '../../sim/esl/index.js';

export interface CapturedLog {
  logger: Logger;
  lines: () => { level: number; msg: string; [k: string]: unknown }[];
  text: () => string;
}

/** A pino logger writing JSON lines into memory (trace level, so esl's own chatter is included). */
export function captureLog(level = 'trace'): CapturedLog {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  const logger = pino({ level }, stream);
  const text = () => chunks.join('');
  return {
    logger,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { level: number; msg: string }),
  };
}

const open = new Set<EslConnection>();

/** Stops every connection made with connect() (so a failed assertion cannot leave one reconnecting). */
export async function stopAll(): Promise<void> {
  await Promise.all([...open].map((c) => c.stop()));
  open.clear();
}

export function connect(sim: EslSim, over: Partial<EslConnectionOptions> = {}): EslConnection {
  const conn = new EslConnection({
    host: '127.0.0.1',
    port: sim.port,
    password: 'pw',
    logger: pino({ level: 'silent' }),
    reconnectInitialMs: 20,
    reconnectMaxMs: 200,
    authRetryMs: 60_000,
    subscribeTimeoutMs: 1000,
    apiTimeoutMs: 1000,
    ...over,
  });
  open.add(conn);
  return conn;
}

export async function waitFor(cond: () => boolean, what = 'condition', ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
