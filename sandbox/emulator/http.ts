import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a handler answers; the server writes it (or replaces it, when a fault says so). */
export interface Reply {
  status: number;
  /** JSON-serialised unless it is a string or Buffer. Absent: an empty body. */
  body?: unknown;
  headers?: Record<string, string>;
}

export function json(status: number, body: unknown, headers?: Record<string, string>): Reply {
  return { status, body, headers };
}

export function empty(status: number, headers?: Record<string, string>): Reply {
  return { status, headers };
}

/** The Store's error envelope. */
export function envelope(code: string, message: string, target: string): Record<string, unknown> {
  return { code, data: [], details: [], message, source: 'Ingestion Api', target };
}

/** Thrown by handlers for any answer that is not a success; `reply` is what the client gets. */
export class HttpError extends Error {
  constructor(readonly reply: Reply) {
    super(`HTTP ${reply.status}`);
  }
}

export function apiError(status: number, code: string, message: string, target = 'submission'): HttpError {
  return new HttpError(json(status, envelope(code, message, target)));
}

/** The API answers an unknown resource with 404 and no body. */
export function notFound(): HttpError {
  return new HttpError(empty(404));
}

export function writeReply(res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  let payload: Buffer | undefined;
  const headers: Record<string, string> = { ...reply.headers };
  if (reply.body !== undefined) {
    if (Buffer.isBuffer(reply.body)) payload = reply.body;
    else if (typeof reply.body === 'string') payload = Buffer.from(reply.body, 'utf8');
    else {
      payload = Buffer.from(JSON.stringify(reply.body), 'utf8');
      headers['Content-Type'] ??= 'application/json; charset=utf-8';
    }
  }
  headers['Content-Length'] = String(payload?.length ?? 0);
  res.writeHead(reply.status, headers);
  res.end(payload);
}

/** Reads a small request body (JSON or form); refuses more than `limit` bytes without buffering them. */
export async function readSmallBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit)
    throw new HttpError(json(413, envelope('InvalidParameterValue', 'The request body is too large.', 'request')));
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit)
      throw new HttpError(json(413, envelope('InvalidParameterValue', 'The request body is too large.', 'request')));
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep copy of plain JSON data. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}
