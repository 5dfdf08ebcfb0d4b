/**
 * The Functions app's HTTP API as the CLI uses it (README "The HTTP API"). The function key
 * travels in the `x-functions-key` header, never in a URL that could be printed.
 */
import { InputError, type InputProblem } from '../lib/errors';
import { isObject } from '../lib/json';
import type { StatusDocument, summaryOf } from '../lib/statusDocument';
import { RefusedError, ServiceError, UsageError } from './errors';

export type RunSummary = ReturnType<typeof summaryOf>;

/** A zip has a handful of runs: this many pages of them is a runaway listing, not a zip's history. */
const MAX_LIST_PAGES = 100;

/** An instance id no run can have: asking for it proves the API answers, without side effects. */
const PROBE_ID = 'zip-0000000000000000000000000000000000000000';

export class FunctionsClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly key?: string,
    private readonly requestTimeoutMs = 30_000,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  /** Where a run's status document is (no key in it). */
  statusUrl(instanceId: string): string {
    return `${this.baseUrl}/api/submissions/${encodeURIComponent(instanceId)}`;
  }

  /** Checks that the app answers and accepts the key, before anything is uploaded. */
  async probe(): Promise<void> {
    const res = await this.call('GET', `/api/submissions/${PROBE_ID}`);
    if (res.status === 404 && errorCode(res.body) === 'RunNotFound') return;
    if (res.status === 200) return;
    throw this.unexpected(res, 'the submissions API');
  }

  /** The status document, or undefined while no run has this id (yet). */
  async status(instanceId: string): Promise<StatusDocument | undefined> {
    const res = await this.call('GET', `/api/submissions/${encodeURIComponent(instanceId)}`);
    if (res.status === 404) return undefined;
    if (res.status === 200 && isObject(res.body) && typeof res.body.status === 'string')
      return res.body as unknown as StatusDocument;
    throw this.unexpected(res, `run ${instanceId}`);
  }

  /** Starts the run for a zip already in the container, or finds the one it has (idempotent). */
  async start(blob: string): Promise<{ instanceId: string; started: boolean }> {
    const res = await this.call('POST', '/api/submissions', { blob });
    if ((res.status === 202 || res.status === 200) && isObject(res.body) && typeof res.body.id === 'string') {
      return { instanceId: res.body.id, started: res.body.started !== false };
    }
    throw this.unexpected(res, `starting the run for ${blob}`);
  }

  /**
   * The runs of a zip in the API's default window, newest first: every page, following each
   * `next` (its path and query, on this client's base URL and with this client's key).
   */
  async runsFor(blob: string): Promise<RunSummary[]> {
    const runs: RunSummary[] = [];
    let path: string | undefined = `/api/submissions?blob=${encodeURIComponent(blob)}`;
    let page = 0;
    for (; path && page < MAX_LIST_PAGES; page++) {
      const res = await this.call('GET', path);
      if (!(res.status === 200 && isObject(res.body) && Array.isArray(res.body.runs)))
        throw this.unexpected(res, `the runs of ${blob}`);
      runs.push(...(res.body.runs as RunSummary[]));
      const next: unknown = res.body.next;
      path = typeof next === 'string' ? `${new URL(next).pathname}${new URL(next).search}` : undefined;
    }
    // Each page is newest first; pages come in the task hub's order, so several are merged by time.
    if (page === 1) return runs;
    return runs.sort((a, b) => (b.createdTime ?? '').localeCompare(a.createdTime ?? ''));
  }

  /** Approves or rejects a run waiting at the approval gate; the API's refusal (409 not waiting, 404) as RefusedError. */
  async decide(instanceId: string, approved: boolean, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const res = await this.call(
      'POST',
      `/api/submissions/${encodeURIComponent(instanceId)}/${approved ? 'approve' : 'reject'}`,
      body,
    );
    if (res.status === 202 && isObject(res.body)) return res.body;
    throw this.refusedOr(res, `${approved ? 'approving' : 'rejecting'} run ${instanceId}`);
  }

  /** Halts, pauses or resumes a running run's ramp; the API's refusal (409 no ramp in that state, 404) as RefusedError. */
  async rampControl(
    instanceId: string,
    action: string,
    body?: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const res = await this.call(
      'POST',
      `/api/submissions/${encodeURIComponent(instanceId)}/rollout/${encodeURIComponent(action)}`,
      body,
    );
    if (res.status === 202 && isObject(res.body)) return res.body;
    throw this.refusedOr(res, `the ramp of run ${instanceId}`);
  }

  /**
   * Reads (no change) or changes a product's package rollout; `path` is the product's part of
   * the route (`app/{id}` or `flight/{id}?applicationId=...`). The API's refusals (400, 404,
   * 409) come back as RefusedError with the API's code and words.
   */
  async rollout(path: string, change?: Record<string, unknown>): Promise<Record<string, unknown>> {
    const [product, query] = path.split('?');
    const route = `/api/products/${product}/rollout${query ? `?${query}` : ''}`;
    const res = change === undefined ? await this.call('GET', route) : await this.call('POST', route, change);
    if (res.status === 200 && isObject(res.body)) return res.body;
    throw this.refusedOr(res, `the rollout of ${product}`);
  }

  /**
   * What the zip would change against the Store (POST /api/preview, the zip as the body), the
   * Store only read. A zip the app refuses (400 with problems) is an InputError, as a local
   * refusal is; the Store's refusals (404 no such product, 502) come back as RefusedError.
   */
  async preview(zip: Buffer, label: string): Promise<Record<string, unknown>> {
    const res = await this.call('POST', '/api/preview', zip);
    if (res.status === 200 && isObject(res.body) && isObject(res.body.preview)) return res.body;
    const error = isObject(res.body) && isObject(res.body.error) ? res.body.error : undefined;
    if (res.status === 400 && error && Array.isArray(error.problems))
      throw new InputError(error.problems as InputProblem[], String(error.code));
    if ((res.status === 400 || res.status === 413) && error) throw new UsageError(String(error.message), '<zip>');
    throw this.refusedOr(res, `the preview of ${label}`);
  }

  /** An answer with the API's JSON error (a 4xx but 401/403, or the Store's refusal) as a RefusedError; else as unexpected. */
  private refusedOr(res: { status: number; body: unknown }, what: string): Error {
    const code = errorCode(res.body);
    if (code && res.status !== 401 && res.status !== 403 && (res.status < 500 || code === 'StoreRefused')) {
      const error = (res.body as { error: Record<string, unknown> }).error;
      return new RefusedError(String(error.message), code, res.status, error);
    }
    return this.unexpected(res, what);
  }

  /**
   * The last published submission of a product, as GET /api/products/{kind}/{id}/published
   * answers it (`product`, `submission`); `query` is `applicationId=...` for a flight. A product
   * the Store does not have, or that has nothing published, is the user's argument: UsageError.
   */
  async published(
    kind: string,
    id: string,
    query = '',
  ): Promise<{ product: Record<string, unknown>; submission: Record<string, unknown> }> {
    const route = `/api/products/${encodeURIComponent(kind)}/${encodeURIComponent(id)}/published${query ? `?${query}` : ''}`;
    const res = await this.call('GET', route);
    if (res.status === 200 && isObject(res.body) && isObject(res.body.submission) && isObject(res.body.product))
      return { product: res.body.product, submission: res.body.submission };
    const code = errorCode(res.body);
    if ((res.status === 400 || res.status === 404) && code && code !== 'RunNotFound')
      throw new UsageError(String((res.body as { error: { message?: unknown } }).error.message), '<id>');
    throw this.unexpected(res, `the published submission of ${kind} ${id}`);
  }

  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.key) headers['x-functions-key'] = this.key;
    const raw = Buffer.isBuffer(body);
    if (body !== undefined) headers['content-type'] = raw ? 'application/zip' : 'application/json';
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : raw ? new Uint8Array(body) : JSON.stringify(body),
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
    } catch (e) {
      throw new ServiceError(
        `cannot reach the Functions app at ${this.baseUrl}: ${networkReason(e)}`,
        'FunctionsUnreachable',
        true,
      );
    }
    const text = await res.text().catch(() => '');
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: kept as text for the error message
    }
    return { status: res.status, body: parsed };
  }

  private unexpected(res: { status: number; body: unknown }, what: string): ServiceError {
    if (res.status === 401 || res.status === 403) {
      return new ServiceError(
        `the Functions app at ${this.baseUrl} refused the request (HTTP ${res.status}): ${this.key ? 'the function key is wrong' : 'it needs a function key'}; pass --function-key or set STORE_SUBMITTER_FUNCTION_KEY`,
        'AccessDenied',
        false,
        res.status,
      );
    }
    const message = isObject(res.body) && isObject(res.body.error) ? String(res.body.error.message) : undefined;
    if (res.status >= 500 || res.status === 429) {
      return new ServiceError(
        `the Functions app at ${this.baseUrl} failed on ${what} (HTTP ${res.status})${message ? `: ${message}` : ''}`,
        'ServiceError',
        true,
        res.status,
      );
    }
    return new ServiceError(
      `the service at ${this.baseUrl} did not answer as the store-submitter Functions app on ${what} (HTTP ${res.status}${message ? `: ${message}` : ''}); check --functions-url`,
      'UnexpectedAnswer',
      false,
      res.status,
    );
  }
}

/** "connect ECONNREFUSED 127.0.0.1:7071" rather than fetch's bare "fetch failed". */
export function networkReason(e: unknown): string {
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return 'no answer in time';
  const cause = e instanceof Error ? (e as { cause?: unknown }).cause : undefined;
  if (cause instanceof Error) {
    const nested = (cause as { errors?: unknown[] }).errors;
    if (Array.isArray(nested) && nested[0] instanceof Error) return nested[0].message;
    return cause.message;
  }
  return e instanceof Error ? e.message : String(e);
}

function errorCode(body: unknown): string | undefined {
  return isObject(body) && isObject(body.error) && typeof body.error.code === 'string' ? body.error.code : undefined;
}
