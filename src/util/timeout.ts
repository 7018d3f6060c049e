// Bounding a check that may hang (a database or PBX that stopped answering): reject after `ms` naming what hung.
export async function withTimeout<T>(p: Promise<T>, what: string, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error(`${what} did not answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(t);
  }
}
