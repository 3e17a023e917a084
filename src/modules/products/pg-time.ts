// PostgreSQL's text for a UTC timestamptz of millisecond precision: `2026-11-26 15:51:29.561+00` (the fraction
// trimmed of trailing zeros, or absent).
const UTC_TEXT = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,3}))?\+00$/;

/**
 * The ISO 8601 form `Date.prototype.toISOString` gives, from a timestamptz as PostgreSQL writes it. A page of
 * products holds a hundred of them, and going through Date costs more than the rest of a row's handling.
 * Any other text (another session time zone, a year beyond 9999) goes through Date.
 */
export function isoFromPg(text: string): string {
  const match = UTC_TEXT.exec(text);
  if (!match) return new Date(text).toISOString();
  return `${match[1]}T${match[2]}.${(match[3] ?? '').padEnd(3, '0')}Z`;
}
