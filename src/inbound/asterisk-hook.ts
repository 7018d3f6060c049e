// The Asterisk hook's rules: path checks, the duplicate answer, and "no TIFF" as a failed reception rather than an error.
import { ApiError } from '../errors.js';
import type { InboundIngest } from './ingest.js';
import type { PbxFaxReport } from './reports.js';
import type { PathRefusal, SpoolPaths } from './spool-paths.js';
import type { InboundStore } from './store.js';
import type { IngestResult } from './types.js';

export interface AsteriskHookDeps {
  ingest: InboundIngest;
  store: InboundStore;
  paths: SpoolPaths;
  onRefused: (code: PathRefusal, source: string, uid: string, via: 'hook') => Promise<void>;
}

/**
 * Handles one hook call (body already validated). The same uniqueid twice gives the first record
 * (created=false). Refusals throw ApiError 400 with the path code; each is audited.
 */
export async function handleAsteriskHook(d: AsteriskHookDeps, r: PbxFaxReport): Promise<IngestResult> {
  const tiffPath = r.tiffPath ?? '';
  const lex = d.paths.lexical(tiffPath);
  const refuse = async (code: PathRefusal, reason: string): Promise<never> => {
    await d.onRefused(code, 'asterisk', r.uid, 'hook');
    throw new ApiError(code === 'no_spool_configured' ? 503 : 400, code, reason);
  };
  if (!lex.ok) return refuse(lex.code, lex.reason);

  const meta = {
    source: 'asterisk',
    sourceUid: r.uid,
    via: 'hook' as const,
    toNumber: r.toNumber,
    fromNumber: r.fromNumber,
    success: r.success,
    pages: r.pages,
    error: r.error,
  };
  const existing = await d.store.bySource('asterisk', r.uid);
  if (existing && existing.ingest_state === 'done') {
    // A retry, or the watcher was first: add what this report knows, answer with the record.
    return d.ingest.ingest(meta);
  }
  const checked = await d.paths.resolve(tiffPath);
  if (checked.ok) return d.ingest.ingest({ ...meta, document: { kind: 'tiff', path: checked.path } });
  if (checked.code !== 'tiff_missing') return refuse(checked.code, checked.reason);
  // No file. After a failure (or before ReceiveFAX ran) that is the PBX's normal answer to "no page arrived".
  if (r.success === true && !existing) {
    return refuse('tiff_missing', `faxstatus is SUCCESS but the TIFF does not exist here (check INBOUND_SPOOL_MAP and the spool volume)`);
  }
  // The lexical path is passed on: the ingest also finds the TIFF in the archive if a reporter already moved it.
  return d.ingest.ingest({ ...meta, document: { kind: 'tiff', path: lex.ok ? lex.path : tiffPath } });
}
