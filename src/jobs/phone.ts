// Destination numbers: "+" (optional) and 6–20 digits once spaces, dashes, dots and parentheses are removed.

export type NumberCheck = { ok: true; number: string } | { ok: false; reason: string };

export function normalizeNumber(input: string): NumberCheck {
  const stripped = input.trim().replace(/[\s\-.()]/g, '');
  if (stripped === '') return { ok: false, reason: 'the destination number is empty' };
  if (!/^\+?\d{6,20}$/.test(stripped)) {
    return {
      ok: false,
      reason: 'the destination number must be digits with an optional leading +, 6 to 20 digits long (E.164, e.g. +15551234567)',
    };
  }
  return { ok: true, number: stripped };
}
