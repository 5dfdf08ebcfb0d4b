/**
 * Turning Store answers into typed errors, and the small parsers that needs. Pure: no I/O,
 * so every rule here is unit-tested on its own.
 */
import { StoreRequestError, isRetriableStatus } from '../errors';
import { redact } from '../redact';

/** What an answer needs to offer; satisfied by a core-rest-pipeline PipelineResponse. */
export interface AnswerLike {
  status: number;
  headers: { get(name: string): string | undefined };
  bodyAsText?: string | null;
}

const CODE_BY_STATUS: Record<number, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  429: 'RateLimited',
};

/** The Store's messages are short; anything longer is an HTML error page or a stack trace. */
const MAX_MESSAGE = 600;

/** `MS-CorrelationId` (v1.0 API) or `X-Correlation-ID` (the MSI/EXE API): the id Microsoft support asks for. */
export function correlationIdOf(headers: AnswerLike['headers']): string | undefined {
  return headers.get('ms-correlationid') || headers.get('x-correlation-id') || undefined;
}

/**
 * How long the service asked us to wait, in ms: `retry-after-ms`, `x-ms-retry-after-ms`,
 * `Retry-After` (seconds or an HTTP date), else the 429 body's "Try again in N seconds".
 */
export function parseRetryAfter(
  headers: AnswerLike['headers'],
  message?: string,
  now: number = Date.now(),
): number | undefined {
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const raw = headers.get(name)?.trim();
    if (raw && /^\d+(\.\d+)?$/.test(raw)) return Math.ceil(Number(raw));
  }
  const raw = headers.get('retry-after')?.trim();
  if (raw) {
    if (/^\d+(\.\d+)?$/.test(raw)) return Math.ceil(Number(raw) * 1000);
    const at = Date.parse(raw);
    if (Number.isFinite(at)) return Math.max(0, at - now);
  }
  const said = message ? /try again in (\d+(?:\.\d+)?)\s*(second|sec|s\b|minute|min)/i.exec(message) : null;
  if (said?.[1] && said[2]) return Math.ceil(Number(said[1]) * (said[2].toLowerCase().startsWith('m') ? 60_000 : 1000));
  return undefined;
}

interface Envelope {
  code?: string;
  message?: string;
  details?: unknown;
}

function asEnvelope(text: string | null | undefined): Envelope | undefined {
  if (!text || !text.trim()) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_MESSAGE ? `${flat.slice(0, MAX_MESSAGE)}...` : flat;
}

/**
 * A non-2xx answer as a StoreRequestError. `call` names it as `POST applications/{id}/submissions`
 * (method and path relative to the API base, no query).
 */
export function storeErrorFromResponse(
  call: string,
  response: AnswerLike,
  now: number = Date.now(),
): StoreRequestError {
  const { status } = response;
  const body = asEnvelope(response.bodyAsText);
  const envelopeCode = typeof body?.code === 'string' && body.code.trim() ? body.code.trim() : undefined;
  const storeMessage = typeof body?.message === 'string' ? clip(body.message) : undefined;
  const code = envelopeCode ?? CODE_BY_STATUS[status] ?? `Http${status}`;
  const correlationId = correlationIdOf(response.headers);
  const retryAfterMs = parseRetryAfter(response.headers, storeMessage, now);

  const storeErrors: Array<{ code: string; details: string }> = [];
  if (envelopeCode) storeErrors.push({ code: envelopeCode, details: storeMessage ?? '' });
  if (Array.isArray(body?.details)) {
    for (const d of body.details as unknown[]) {
      if (d && typeof d === 'object') {
        const item = d as Record<string, unknown>;
        const dCode = typeof item.code === 'string' ? item.code : (envelopeCode ?? code);
        const text =
          typeof item.message === 'string' ? item.message : typeof item.details === 'string' ? item.details : '';
        storeErrors.push({ code: dCode, details: clip(text) });
      } else if (typeof d === 'string') {
        storeErrors.push({ code: envelopeCode ?? code, details: clip(d) });
      }
    }
  }

  const message =
    `${call} failed with ${status} ${code}` +
    (storeMessage ? `: ${storeMessage}` : '') +
    (correlationId ? ` (MS-CorrelationId ${correlationId})` : '');
  return new StoreRequestError(redact(message), {
    code,
    status,
    correlationId,
    retryAfterMs,
    retriable: isRetriableStatus(status),
    storeErrors: storeErrors.length
      ? storeErrors.map((e) => ({ code: e.code, details: redact(e.details) }))
      : undefined,
  });
}

/**
 * JSON.parse that cannot lose a big integer: the Store sends its 19-digit ids as strings, but
 * should a bare integer above 2^53 ever arrive it is kept as its exact digits (a string) instead
 * of being rounded to a different id.
 */
export function parseJsonLossless(text: string): unknown {
  return JSON.parse(quoteUnsafeIntegers(text));
}

function quoteUnsafeIntegers(text: string): string {
  if (!/\d{16}/.test(text)) return text;
  let out = '';
  let copied = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      continue;
    }
    const isDigit = c >= 0x30 && c <= 0x39;
    if (!isDigit && c !== 0x2d) continue;
    let end = i + (c === 0x2d ? 1 : 0);
    while (end < text.length && /\d/.test(text[end]!)) end++;
    let tail = end;
    while (tail < text.length && /[.eE+\-\d]/.test(text[tail]!)) tail++;
    const literal = text.slice(i, end);
    if (tail === end && !Number.isSafeInteger(Number(literal)) && /^-?\d+$/.test(literal)) {
      out += `${text.slice(copied, i)}"${literal}"`;
      copied = end;
    }
    i = tail - 1;
  }
  return out + text.slice(copied);
}
