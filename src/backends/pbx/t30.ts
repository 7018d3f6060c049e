// T.30 completion codes (spandsp T30_ERR_*): FreeSWITCH reports the number, Asterisk the text; both → a class.
import type { FailureClass } from '../types.js';

/** spandsp's texts, indexed by code (t30_completion_code_to_str). */
const TEXTS: readonly string[] = [
  'OK',
  'The CED tone exceeded 5s',
  'Timed out waiting for initial communication',
  'Timed out waiting for the first message',
  'Timed out waiting for procedural interrupt',
  'The HDLC carrier did not stop in a timely manner',
  'Failed to train with any of the compatible modems',
  'Operator intervention failed',
  'Far end is not compatible',
  'Far end is not able to receive',
  'Far end is not able to transmit',
  'Far end cannot receive at the resolution of the image',
  'Far end cannot receive at the size of image',
  'Unexpected message received',
  'Received bad response to DCS or training',
  'Received a DCN from remote after sending a page',
  'Invalid ECM response received from receiver',
  'Received a DCN while waiting for a DIS',
  'Invalid response after sending a page',
  'Received other than DIS while waiting for DIS',
  'Received no response to DCS or TCF',
  'No response after sending a page',
  'Timed out waiting for receiver ready (ECM mode)',
  'Invalid ECM response received from transmitter',
  'DCS received while waiting for DTC',
  'Unexpected command after page received',
  'Carrier lost during fax receive',
  'Timed out while waiting for EOL (end Of line)',
  'Timed out while waiting for first line',
  'Timer T2 expired while waiting for DCN',
  'Timer T2 expired while waiting for phase D',
  'Timer T2 expired while waiting for fax page',
  'Timer T2 expired while waiting for next fax page',
  'Timer T2 expired while waiting for RR command',
  'Timer T2 expired while waiting for NSS, DCS or MCF',
  'Unexpected DCN while waiting for DCS or DIS',
  'Unexpected DCN while waiting for image data',
  'Unexpected DCN while waiting for EOM, EOP or MPS',
  'Unexpected DCN after EOM or MPS sequence',
  'Unexpected DCN after RR/RNR sequence',
  'Unexpected DCN after requested retransmission',
  'TIFF/F file cannot be opened',
  'TIFF/F page not found',
  'TIFF/F format is not compatible',
  'TIFF/F page number tag missing',
  'Incorrect values for TIFF/F tags',
  'Bad TIFF/F header - incorrect values in fields',
  'Cannot allocate memory for more pages',
  'Disconnected after permitted retries',
  'The call dropped prematurely',
  'Poll not accepted',
  'Ident not accepted',
  'Sub-address not accepted',
  'Selective polling address not accepted',
  'Polled sub-address not accepted',
  'Sender identification not accepted',
  'Password not accepted',
  'Transmitting subscriber internet address not accepted',
  'Internet routing address not accepted',
  'Calling subscriber internet address not accepted',
  'Internet selective polling address not accepted',
  'Called subscriber internet address not accepted',
];

const codeByText = new Map(TEXTS.map((t, i) => [t.toLowerCase(), i]));

export const T30_OK = 0;
export const T30_CALLDROPPED = 49;

/** The class of a T.30 completion code, following the protocol brief's suggested policy. */
export function t30Class(code: number): FailureClass {
  if (code === 2 || code === 3) return 'no_answer'; // answered, but no fax machine (voice, silence)
  if (code === 9 || code === 10) return 'permanent';
  if (code === 11 || code === 12) return 'document';
  if (code >= 41 && code <= 47) return 'document';
  if (code >= 50 && code <= 61) return 'permanent';
  return 'protocol';
}

export function t30Text(code: number): string {
  return TEXTS[code] ?? `T.30 error ${code}`;
}

/** The code for one of spandsp's texts (as Asterisk's FAXERROR / FAXSTATUSSTRING carry it), if it is one. */
export function t30CodeFromText(text: string): number | undefined {
  return codeByText.get(text.trim().toLowerCase());
}

/** A readable error for a failed fax session. */
export function t30Error(code: number, pagesSent: number | null, totalPages: number | null): string {
  const base = code === 2 || code === 3 ? 'answered, but no fax machine responded' : `fax failed: ${t30Text(code)}`;
  if (pagesSent !== null && pagesSent > 0) {
    return `${base} (${pagesSent}${totalPages ? ` of ${totalPages}` : ''} pages sent)`;
  }
  return base;
}
