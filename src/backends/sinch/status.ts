// Sinch fax status → queued / in progress / final Outcome, with the failure class from errorType and errorCode.
import { clipMessage } from '../cloud/http.js';
import { classifyFaxError } from '../cloud/fax-errors.js';
import { pageCount, type CloudStatus } from '../cloud/status.js';
import type { SinchFax } from './types.js';

/**
 * QUEUED → queued; IN_PROGRESS → in progress; COMPLETED → SUCCESS with numberOfPages;
 * FAILURE → FAILED, classed by errorType (DOCUMENT_CONVERSION_ERROR, CALL_ERROR, LINE_ERROR, FAX_ERROR,
 * FATAL_ERROR, GENERAL_ERROR) and errorCode (Phaxio's ids), with pagesSentSuccessfully when given.
 * An unknown status keeps the job in progress.
 */
export function mapSinchFax(fax: SinchFax): CloudStatus {
  const s = fax.status.toUpperCase();
  if (s === 'QUEUED') return { state: 'queued', providerStatus: fax.status, pages: null };
  if (s === 'IN_PROGRESS') return { state: 'in_progress', providerStatus: fax.status, pages: pageCount(fax.pagesSentSuccessfully) };
  if (s === 'COMPLETED') {
    const pages = pageCount(fax.numberOfPages) ?? pageCount(fax.pagesSentSuccessfully);
    return { state: 'final', providerStatus: fax.status, outcome: { ok: true, pages, cause: 'COMPLETED' } };
  }
  if (s === 'FAILURE' || s === 'FAILED') {
    const message = clipMessage(fax.errorMessage ?? null);
    const code = fax.errorCode === null || fax.errorCode === undefined ? null : String(fax.errorCode);
    return {
      state: 'final',
      providerStatus: fax.status,
      outcome: {
        ok: false,
        failureClass: classifyFaxError(fax.errorType, fax.errorCode, message),
        error: message ? `Sinch: ${message}` : `Sinch reported ${fax.status}${fax.errorType ? ` (${fax.errorType})` : ''}`,
        cause: [fax.errorType, code, message].filter((x) => x).join(' ') || fax.status,
        pages: pageCount(fax.pagesSentSuccessfully),
        details: { provider_status: fax.status },
      },
    };
  }
  return { state: 'in_progress', providerStatus: fax.status, pages: null };
}
