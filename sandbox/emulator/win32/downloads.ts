/**
 * The Store's side of "packages given by URL": after a packages commit it downloads each new
 * installer from its URL (windows-dev-docs hub/apps/publish/store-submission-api.md, "Commit
 * Packages API ... returns a Polling URL to track the Package Upload"), really, over HTTP, so a
 * URL whose SAS has expired, is signed wrong or lacks read permission fails here as it fails for
 * the Store. Downloads are streamed and hashed, never held in memory.
 */
import { createHash } from 'node:crypto';

export interface DownloadResult {
  /** Scheme, host and path: never the query, which carries the URL's signature. */
  url: string;
  ok: boolean;
  status?: number;
  bytes: number;
  sha256?: string;
  /** First bytes of the file (for the record; the Store does not check them against packageType). */
  head?: string;
  error?: string;
  at: string;
  durationMs: number;
}

/** Scheme, host and path of a URL, for messages and for the Store's "same URL" comparisons. */
export function urlKey(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.origin}${u.pathname}`;
  } catch {
    return raw.split('?')[0] ?? '';
  }
}

/** The storage error code of a refused blob request (x-ms-error-code), for the package upload error. */
function storageCode(headers: Headers): string | undefined {
  return headers.get('x-ms-error-code') ?? undefined;
}

export async function download(url: string, timeoutMs: number): Promise<DownloadResult> {
  const started = performance.now();
  const at = new Date().toISOString();
  const key = urlKey(url);
  const done = (r: Omit<DownloadResult, 'url' | 'at' | 'durationMs'>): DownloadResult => ({
    url: key,
    at,
    durationMs: Math.round(performance.now() - started),
    ...r,
  });
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), Math.max(1, timeoutMs));
  timer.unref();
  try {
    const response = await fetch(url, { signal: controller.signal, redirect: 'follow' });
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      const code = storageCode(response.headers);
      return done({
        ok: false,
        status: response.status,
        bytes: 0,
        error: `HTTP ${response.status}${code ? ` ${code}` : ''}`,
      });
    }
    const hash = createHash('sha256');
    let bytes = 0;
    let head = Buffer.alloc(0);
    for await (const chunk of response.body ?? []) {
      const piece = Buffer.from(chunk as Uint8Array);
      if (head.length < 8) head = Buffer.concat([head, piece.subarray(0, 8 - head.length)]);
      hash.update(piece);
      bytes += piece.length;
    }
    if (bytes === 0) return done({ ok: false, status: 200, bytes, error: 'the URL answered with an empty file' });
    return done({ ok: true, status: 200, bytes, sha256: hash.digest('hex'), head: head.toString('hex') });
  } catch (e) {
    const reason = controller.signal.aborted
      ? `no complete answer within ${timeoutMs} ms`
      : ((e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message);
    return done({ ok: false, bytes: 0, error: `the download failed: ${reason}` });
  } finally {
    clearTimeout(timer);
  }
}
