// Phaxio fax status → queued / in progress / final Outcome, with the failure class from error_type and error_id.
import { clipMessage } from '../cloud/http.js';
import { classifyFaxError } from '../cloud/fax-errors.js';
import { pageCount, type CloudStatus } from '../cloud/status.js';
import type { PhaxioFax } from './types.js';

/**
 * queued, pendingbatch → queued; inprogress (and recipient-level ringing/callactive/willretry) → in progress;
 * success → SUCCESS with num_pages; failure, partialsuccess → FAILED (one recipient per job, so a partial
 * success cannot happen for us; if it does, the failed recipient's error is what we report).
 * An unknown status keeps the job in progress: a later callback or the deadline settles it.
 */
export function mapPhaxioFax(fax: PhaxioFax): CloudStatus {
  const s = fax.status.toLowerCase();
  if (s === 'queued' || s === 'pendingbatch') return { state: 'queued', providerStatus: fax.status, pages: null };
  if (s === 'success') {
    return { state: 'final', providerStatus: fax.status, outcome: { ok: true, pages: pageCount(fax.num_pages), cause: 'success' } };
  }
  if (s === 'failure' || s === 'partialsuccess') {
    const failed = fax.recipients?.find((r) => r.status && r.status.toLowerCase() !== 'success');
    const type = fax.error_type ?? failed?.error_type ?? null;
    const id = fax.error_id ?? failed?.error_id ?? null;
    const message = clipMessage(fax.error_message ?? failed?.error_message ?? null);
    const failureClass = classifyFaxError(type, id, message);
    return {
      state: 'final',
      providerStatus: fax.status,
      outcome: {
        ok: false,
        failureClass,
        error: message ? `Phaxio: ${message}` : `Phaxio reported ${fax.status}${type ? ` (${type})` : ''}`,
        cause: [type, id === null || id === undefined ? null : String(id), message].filter((x) => x).join(' ') || fax.status,
        details: { provider_status: fax.status },
      },
    };
  }
  return { state: 'in_progress', providerStatus: fax.status, pages: null };
}
