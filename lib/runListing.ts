/**
 * Listing runs by time window, one page at a time, instead of reading every instance of the task
 * hub. The Durable HTTP API lists instances by creation time (`createdTimeFrom`, `createdTimeTo`,
 * both inclusive), `top` at a time, and hands the next page's position back in the
 * `x-ms-continuation-token` header (azure-functions-durable-extension HttpApiHandler.cs,
 * HandleGetStatusWithQueryRequestAsync: PageSizeParameter = "top", the token read from and written
 * to that header). durable-functions' `getStatusBy` follows every token itself and takes no page
 * size, so a page is asked for here, over the same API.
 *
 * The hub holds more than runs (each run's follower, notifications, clean-up, waiters), so a page
 * of runs is gathered from one or more pages of instances. The cursor handed to the caller says
 * where in the hub's pages the next run is: the token of the instance page it is on, and the last
 * instance already consumed from that page. Everything here is pure; the HTTP call is injected.
 */
import type { DurableStatus } from './runClient';

/** How far back a listing looks when `since` is not given. */
export const DEFAULT_WINDOW_DAYS = 30;
export const DEFAULT_TOP = 50;
export const MAX_TOP = 100;
/** Instance pages read for one page of runs at most: a page of runs may come back short, with a `next`. */
export const MAX_INSTANCE_PAGES_PER_REQUEST = 10;
/** A cursor is small (a storage continuation token and an instance id); anything much longer is not one of ours. */
const MAX_CONTINUATION_LENGTH = 4096;

export interface ListWindow {
  since: Date;
  until: Date;
  top: number;
  cursor?: Cursor;
}

/** Where the next run is: on the instance page `token` opens (the first page without one), after instance `after`. */
export interface Cursor {
  token?: string;
  after?: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

function bad<T>(code: string, message: string): Parsed<T> {
  return { ok: false, code, message };
}

/** A point in time as the API takes it: ISO 8601 with a time zone (`2026-12-01T00:00:00Z`), or a date (`2026-12-01`, UTC midnight). */
export function parseInstant(value: string): Date | undefined {
  const text = value.trim();
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(text)) return undefined;
  const at = new Date(/T/.test(text) ? text : `${text}T00:00:00Z`);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/**
 * The window and page of `GET /api/submissions`: `since` and `until` (default: the last
 * DEFAULT_WINDOW_DAYS days up to now), `top` (1 to MAX_TOP, default DEFAULT_TOP) and the
 * `continuation` of an earlier answer's `next`, which belongs to the window it came with.
 */
export function parseListWindow(
  query: URLSearchParams,
  now: Date,
  windowDays = DEFAULT_WINDOW_DAYS,
): Parsed<ListWindow> {
  const untilText = query.get('until');
  const sinceText = query.get('since');
  const until = untilText === null ? now : parseInstant(untilText);
  if (!until)
    return bad(
      'InvalidUntil',
      `until must be a time in ISO 8601 with its zone (2026-12-01T12:00:00Z) or a date (2026-12-01), got "${shorten(untilText ?? '')}".`,
    );
  const since = sinceText === null ? new Date(until.getTime() - windowDays * 86_400_000) : parseInstant(sinceText);
  if (!since)
    return bad(
      'InvalidSince',
      `since must be a time in ISO 8601 with its zone (2026-12-01T00:00:00Z) or a date (2026-12-01), got "${shorten(sinceText ?? '')}".`,
    );
  if (since.getTime() > until.getTime())
    return bad('InvalidWindow', `since (${since.toISOString()}) is after until (${until.toISOString()}).`);
  const topText = query.get('top');
  let top = DEFAULT_TOP;
  if (topText !== null) {
    if (!/^\d{1,4}$/.test(topText.trim()) || Number(topText) < 1 || Number(topText) > MAX_TOP)
      return bad('InvalidTop', `top must be a whole number from 1 to ${MAX_TOP}, got "${shorten(topText)}".`);
    top = Number(topText);
  }
  const continuation = query.get('continuation');
  if (continuation === null) return { ok: true, value: { since, until, top } };
  if (sinceText === null || untilText === null)
    return bad(
      'InvalidContinuation',
      'continuation belongs to the window it came with: use the next URL as it was answered (it carries since and until).',
    );
  const cursor = decodeCursor(continuation);
  if (!cursor)
    return bad(
      'InvalidContinuation',
      'continuation is not one this API answered; use the next URL of the previous page as it was given.',
    );
  return { ok: true, value: { since, until, top, cursor } };
}

export function encodeCursor(cursor: Cursor): string {
  const compact: Record<string, string> = {};
  if (cursor.token) compact.t = cursor.token;
  if (cursor.after) compact.a = cursor.after;
  return Buffer.from(JSON.stringify(compact), 'utf8').toString('base64url');
}

export function decodeCursor(text: string): Cursor | undefined {
  if (text.length === 0 || text.length > MAX_CONTINUATION_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const { t, a, ...rest } = parsed as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return undefined;
  if ((t !== undefined && (typeof t !== 'string' || !t)) || (a !== undefined && (typeof a !== 'string' || !a)))
    return undefined;
  if (t === undefined && a === undefined) return undefined;
  return { token: t, after: a };
}

/**
 * The `next` URL: the caller's own path, with only the parameters this listing knows (the window
 * made explicit, so every page reads the same one) and the cursor. The caller's query is not
 * copied: a `code` key it sent must never come back in an answer.
 */
export function nextLink(
  requestUrl: string,
  window: Pick<ListWindow, 'since' | 'until' | 'top'>,
  cursor: Cursor,
  filters: { blob?: string; status?: string } = {},
): string {
  const url = new URL(requestUrl);
  const next = new URL(`${url.origin}${url.pathname}`);
  if (filters.blob !== undefined) next.searchParams.set('blob', filters.blob);
  if (filters.status !== undefined) next.searchParams.set('status', filters.status);
  next.searchParams.set('since', window.since.toISOString());
  next.searchParams.set('until', window.until.toISOString());
  next.searchParams.set('top', String(window.top));
  next.searchParams.set('continuation', encodeCursor(cursor));
  return next.toString();
}

/** One page of instances from the Durable HTTP API, and the token of the page after it. */
export interface InstancePage {
  instances: DurableStatus[];
  continuationToken?: string;
}

export type FetchInstancePage = (query: {
  createdTimeFrom: Date;
  createdTimeTo: Date;
  pageSize: number;
  continuationToken?: string;
}) => Promise<InstancePage>;

/** The instance page size for a page of `top` runs: the same for every page of a listing, so a cursor's page reads the same again. */
export function instancePageSize(top: number): number {
  return Math.min(MAX_TOP, Math.max(top * 4, 20));
}

/**
 * Gathers up to `top` instances that `keep` accepts, from the cursor on, reading at most
 * `maxPages` instance pages. Returns them in the hub's order and the cursor of the next page
 * (undefined when the window has no more). Each instance is consumed once across the pages
 * a caller follows, whatever the order the store lists them in.
 */
export async function gatherPage(
  fetchPage: FetchInstancePage,
  window: ListWindow,
  keep: (status: DurableStatus) => boolean,
  maxPages = MAX_INSTANCE_PAGES_PER_REQUEST,
): Promise<{ kept: DurableStatus[]; next?: Cursor }> {
  const kept: DurableStatus[] = [];
  const pageSize = instancePageSize(window.top);
  let token = window.cursor?.token;
  let after = window.cursor?.after;
  for (let read = 0; read < maxPages; read++) {
    const page = await fetchPage({
      createdTimeFrom: window.since,
      createdTimeTo: window.until,
      pageSize,
      continuationToken: token,
    });
    let start = 0;
    if (after !== undefined) {
      const at = page.instances.findIndex((s) => s.instanceId === after);
      // Gone since (purged): the instances the store lists after it by id, as Azure Storage orders them.
      start = at >= 0 ? at + 1 : page.instances.findIndex((s) => s.instanceId > after!);
      if (start < 0) start = page.instances.length;
      after = undefined;
    }
    for (let i = start; i < page.instances.length; i++) {
      const status = page.instances[i]!;
      if (!keep(status)) continue;
      kept.push(status);
      if (kept.length === window.top) {
        if (i < page.instances.length - 1) return { kept, next: { token, after: status.instanceId } };
        return { kept, next: page.continuationToken ? { token: page.continuationToken } : undefined };
      }
    }
    if (!page.continuationToken) return { kept };
    token = page.continuationToken;
  }
  return { kept, next: { token } };
}

function shorten(text: string, max = 80): string {
  const safe = text.replace(/[\x00-\x1f\x7f]/g, '?');
  return safe.length > max ? `${safe.slice(0, max)}...` : safe;
}

/** What the `durableClient` input binding hands the worker (the extension's client data): the parts a listing needs. */
export interface DurableClientData {
  rpcBaseUrl?: string;
  managementUrls?: { id?: string; statusQueryGetUri?: string };
}

/**
 * Pages of instances over the Durable HTTP API, where durable-functions itself sends its queries:
 * the extension's local RPC address when it gives one (`rpcBaseUrl`), else the instances webhook
 * of the management URLs. The webhook URL carries the extension's system key: it stays in this
 * request and out of every message.
 */
export function durableInstancePager(data: DurableClientData, fetchImpl: typeof fetch = fetch): FetchInstancePage {
  let base: URL;
  if (data.rpcBaseUrl) base = new URL('instances/', data.rpcBaseUrl);
  else if (data.managementUrls?.statusQueryGetUri && data.managementUrls.id)
    base = new URL(data.managementUrls.statusQueryGetUri.replace(data.managementUrls.id, ''));
  else
    throw new Error('The durable client binding gave no address for instance queries (rpcBaseUrl or managementUrls).');
  return async ({ createdTimeFrom, createdTimeTo, pageSize, continuationToken }) => {
    const url = new URL(base);
    url.searchParams.set('createdTimeFrom', createdTimeFrom.toISOString());
    url.searchParams.set('createdTimeTo', createdTimeTo.toISOString());
    url.searchParams.set('top', String(pageSize));
    url.searchParams.set('showInput', 'true');
    const response = await fetchImpl(url, {
      headers: continuationToken ? { 'x-ms-continuation-token': continuationToken } : undefined,
    });
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw new Error(`The Durable instance query answered ${response.status}.`);
    }
    const body: unknown = await response.json();
    if (!Array.isArray(body)) throw new Error('The Durable instance query answered something other than a list.');
    // The extension always sends the header; an empty value (or "null") means no more pages.
    const token = response.headers.get('x-ms-continuation-token')?.trim();
    return {
      instances: body as DurableStatus[],
      continuationToken: token && token !== 'null' ? token : undefined,
    };
  };
}
