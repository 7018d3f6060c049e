// The process logger (pino) and the masking helpers that keep phone numbers and secrets out of it.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { svc: 'faxbot' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['*.apiKey', '*.token', '*.password', '*.secret', 'req.headers["x-api-key"]', 'req.headers.authorization'],
        censor: '[redacted]',
      },
    },
    destination as pino.DestinationStream | undefined,
  );
}

/** "+15551234567" → "+*******4567": enough to tell faxes apart in a log, not enough to identify anyone. */
export function maskNumber(n: string | null | undefined): string {
  if (!n) return '';
  const plus = n.startsWith('+') ? '+' : '';
  const digits = n.replace(/\D/g, '');
  if (digits.length <= 4) return `${plus}${'*'.repeat(digits.length)}`;
  return `${plus}${'*'.repeat(digits.length - 4)}${digits.slice(-4)}`;
}
