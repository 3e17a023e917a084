import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidSignature } from './provider.js';

const TOLERANCE_SECONDS = 5 * 60;

/** "t=<unix seconds>,v1=<hex HMAC-SHA256 of `${t}.${body}`>", the scheme Stripe uses, for our own webhooks. */
export function signPayload(body: string, secret: string, at = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac('sha256', secret).update(`${at}.${body}`).digest('hex');
  return `t=${at},v1=${mac}`;
}

export function verifySignature(body: string, header: string | string[] | undefined, secret: string): void {
  if (typeof header !== 'string') throw new InvalidSignature('the signature header is missing');
  const parts = new Map<string, string[]>();
  for (const piece of header.split(',')) {
    const [key, value] = piece.split('=', 2);
    if (key && value) parts.set(key.trim(), [...(parts.get(key.trim()) ?? []), value.trim()]);
  }
  const at = Number(parts.get('t')?.[0]);
  if (!Number.isInteger(at)) throw new InvalidSignature('the signature has no timestamp');
  if (Math.abs(Date.now() / 1000 - at) > TOLERANCE_SECONDS) {
    throw new InvalidSignature('the signature timestamp is more than 5 minutes away from now');
  }
  const expected = Buffer.from(createHmac('sha256', secret).update(`${at}.${body}`).digest('hex'), 'hex');
  const matches = (parts.get('v1') ?? []).some((candidate) => {
    const given = Buffer.from(candidate, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw new InvalidSignature('the signature does not match the body');
}
