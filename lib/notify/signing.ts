/**
 * Webhook signatures: HMAC-SHA256 over `<timestamp>.<body>` with the shared secret, the scheme
 * Stripe (docs.stripe.com/webhooks#verify-manually) and Standard Webhooks
 * (github.com/standard-webhooks/standard-webhooks, spec/standard-webhooks.md) use. Signing the
 * timestamp with the body lets a receiver refuse a replayed request: an old delivery keeps its
 * old timestamp, and a new timestamp breaks the signature.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Unix seconds at which the request was signed. */
export const TIMESTAMP_HEADER = 'x-store-submitter-timestamp';
/** `v1=<hex of HMAC-SHA256(secret, "<timestamp>.<body>")>`. */
export const SIGNATURE_HEADER = 'x-store-submitter-signature';
/** The event's id: the same on every attempt, so a receiver can drop a repeat. */
export const EVENT_ID_HEADER = 'x-store-submitter-event-id';

/** How far a receiver should let a timestamp be from its own clock (5 minutes, as Stripe's libraries default to). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function signature(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The headers of one signed delivery. */
export function signedHeaders(secret: string, body: string, eventId: string, now: Date): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    'Content-Type': 'application/json',
    [TIMESTAMP_HEADER]: String(timestamp),
    [SIGNATURE_HEADER]: signature(secret, timestamp, body),
    [EVENT_ID_HEADER]: eventId,
  };
}

export type Verdict = { valid: true } | { valid: false; reason: string };

/**
 * What a receiver does with a delivery: recompute the signature over the timestamp and the raw
 * body, compare in constant time, and refuse a timestamp too far from its clock.
 */
export function verifySignature(
  secret: string,
  headers: { timestamp?: string | null; signature?: string | null },
  body: string,
  now: Date = new Date(),
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): Verdict {
  const timestamp = Number(headers.timestamp);
  if (!headers.timestamp || !Number.isInteger(timestamp)) return { valid: false, reason: 'no timestamp' };
  if (Math.abs(now.getTime() / 1000 - timestamp) > toleranceSeconds)
    return { valid: false, reason: 'timestamp outside the tolerance (a replay?)' };
  const expected = Buffer.from(signature(secret, timestamp, body));
  const given = Buffer.from(headers.signature ?? '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { valid: false, reason: 'signature does not match' };
  return { valid: true };
}
