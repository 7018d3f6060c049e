// Small statistics and formatting helpers shared by the benchmarks (medians of runs, percentiles, tables).

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Runs `fn` `runs` times (after `warmup` unrecorded runs) and returns each run's result. */
export async function repeat<T>(runs: number, warmup: number, fn: () => Promise<T>): Promise<T[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: T[] = [];
  for (let i = 0; i < runs; i++) out.push(await fn());
  return out;
}

/** Wall time of `fn` in milliseconds. */
export async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export function fmt(n: number, digits = 1): string {
  if (!Number.isFinite(n)) return '-';
  return n.toFixed(digits);
}

/** Prints a Markdown table (so figures paste straight into a closing note). */
export function printTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): void {
  const line = (cells: readonly (string | number)[]) => `| ${cells.map(String).join(' | ')} |`;
  console.log(line(headers));
  console.log(line(headers.map(() => '---')));
  for (const r of rows) console.log(line(r));
}

/**
 * Times `a` and `b` `runs` times each, interleaved and alternating which goes first, so both share the
 * machine's noise; returns the median of each, in ms.
 */
export async function interleavedMedians(runs: number, a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<{ a: number; b: number }> {
  const aMs: number[] = [];
  const bMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      aMs.push(await timeMs(a));
      bMs.push(await timeMs(b));
    } else {
      bMs.push(await timeMs(b));
      aMs.push(await timeMs(a));
    }
  }
  return { a: median(aMs), b: median(bMs) };
}
