// The connection to a PBX (ARI WebSocket, event socket) as the shared PBX layer sees it, and waiting for it to come up.

export interface PeerLink<S extends string> {
  readonly state: S;
  /** Why the link is not up, in words an admin can act on; never a credential. */
  readonly lastError: string | null;
  /** Resolves once connected; rejects after timeoutMs. */
  whenConnected(timeoutMs: number): Promise<void>;
}

/** What waitConnected needs: the current state and its `state` event. */
export interface StateSource<S extends string> {
  readonly state: S;
  on(event: 'state', listener: (s: S) => void): unknown;
  off(event: 'state', listener: (s: S) => void): unknown;
}

/**
 * Resolves once `link` reports 'connected' (at once if it is); rejects with `unavailable(why)` after
 * `timeoutMs`, or as soon as it reports 'stopped'.
 */
export function waitConnected<S extends string>(link: StateSource<S>, timeoutMs: number, unavailable: (why: 'timeout' | 'stopped') => Error): Promise<void> {
  if (link.state === 'connected') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onState = (s: S): void => {
      if (s === 'connected') finish();
      else if (s === 'stopped') finish(unavailable('stopped'));
    };
    const timer = setTimeout(() => finish(unavailable('timeout')), timeoutMs);
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      link.off('state', onState);
      if (err) reject(err);
      else resolve();
    };
    link.on('state', onState);
  });
}
