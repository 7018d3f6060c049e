// FreeSWITCH inbound: a received fax as the ESL side parsed it (spandsp::rxfaxresult or the rx leg's hangup) → the ingest.
import type { EslConnection } from '../backends/freeswitch/esl-connection.js';
import type { EslEvent } from '../backends/freeswitch/esl-event.js';
import { parseInboundFax, type InboundFax } from '../backends/freeswitch/inbound.js';
import { maskNumber, type Logger } from '../log.js';
import type { PathRefusal, SpoolPaths } from './spool-paths.js';
import type { InboundIngest } from './ingest.js';
import type { InboundDocument, IngestResult } from './types.js';

/**
 * The part of the ESL parser's `InboundFax` (src/backends/freeswitch/inbound.ts `parseInboundFax`) that the
 * ingest reads, so a parsed fax can be passed as it is; `resultCode` may be left out.
 */
export type FreeswitchRxResult = Pick<InboundFax, 'uuid' | 'filename' | 'toNumber' | 'fromNumber' | 'success' | 'pages' | 'resultText' | 'remoteStationId'>
  & Partial<Pick<InboundFax, 'resultCode'>>;

export interface FreeswitchInboundDeps {
  ingest: InboundIngest;
  paths: SpoolPaths;
  onRefused: (code: PathRefusal, source: string, uid: string, via: 'event') => Promise<void>;
}

/**
 * Feeds one ESL result into the ingest. The path is mapped (INBOUND_SPOOL_MAP) and must resolve inside
 * a spool directory; a path that does not is refused (audited) and the record is kept without a document.
 * A missing file is passed on: the ingest records "no page arrived" for a failure, and finds the TIFF in
 * the archive if another reporter already took it.
 */
export async function ingestFreeswitchResult(d: FreeswitchInboundDeps, r: FreeswitchRxResult): Promise<IngestResult> {
  let document: InboundDocument | undefined;
  if (r.filename) {
    const checked = await d.paths.resolve(r.filename);
    if (checked.ok) document = { kind: 'tiff', path: checked.path };
    else if (checked.code === 'tiff_missing') {
      const lex = d.paths.lexical(r.filename);
      document = lex.ok ? { kind: 'tiff', path: lex.path } : { kind: 'none' };
    } else {
      await d.onRefused(checked.code, 'freeswitch', r.uuid, 'event');
      document = undefined;
    }
  } else if (!r.success) {
    document = { kind: 'none' };
  }
  const text = r.resultText?.trim() || (r.resultCode !== undefined && r.resultCode !== null ? `fax result code ${r.resultCode}` : null);
  return d.ingest.ingest({
    source: 'freeswitch',
    sourceUid: r.uuid,
    via: 'event',
    toNumber: r.toNumber,
    fromNumber: r.fromNumber,
    success: r.success,
    pages: r.pages,
    error: r.success ? null : text,
    remoteStationId: r.remoteStationId,
    document,
  });
}

/**
 * Feeds every received fax the ESL connection reports (spandsp::rxfaxresult, and the rx leg's
 * CHANNEL_HANGUP_COMPLETE for a result event that was missed) into `sink`, normally
 * `InboundService.fromFreeswitch`. Both events of one fax carry the same uuid: one record.
 * Returns a function that detaches the listener.
 */
export function attachFreeswitchInbound(conn: Pick<EslConnection, 'on' | 'off'>, sink: (r: FreeswitchRxResult) => Promise<unknown>, log: Logger): () => void {
  const onEvent = (ev: EslEvent): void => {
    const fax = parseInboundFax(ev);
    if (!fax) return;
    sink(fax).catch((err: unknown) =>
      log.error({ uuid: fax.uuid, to: maskNumber(fax.toNumber), err: String(err) }, 'FreeSWITCH inbound fax could not be ingested now; the spool watcher and sidecar still have it'),
    );
  };
  conn.on('event', onEvent);
  return () => {
    conn.off('event', onEvent);
  };
}
