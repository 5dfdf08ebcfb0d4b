/**
 * The pipeline policies of the Store client, in the shape of the Azure SDK's own
 * (bearerTokenAuthenticationPolicy, throttlingRetryPolicy, exponentialRetryPolicy) but with
 * the Store's rules: no blind retry of a call that is not idempotent, a cap on how long a
 * 429 may hold an activity, a token refresh on any 401, and a per-attempt timeout that really
 * aborts a hung request.
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import {
  type PipelinePolicy,
  type PipelineRequest,
  type PipelineResponse,
  type RetryStrategy,
} from '@azure/core-rest-pipeline';
import { TIMEOUT_CODE, withAttemptDeadline } from '../deadline';
import { StoreRequestError } from '../errors';
import { redact, registerSecret } from '../redact';
import { correlationIdOf, parseRetryAfter, storeErrorFromResponse } from './errors';

/** One line per HTTP attempt. */
export interface StoreCallLog {
  method: string;
  /** Relative to the API base, without the query. */
  path: string;
  status?: number;
  /** Set when no answer came: `Timeout`, `NetworkError`, ... */
  error?: string;
  durationMs: number;
  correlationId?: string;
  /** 1 for the first try; retries and the resend after a token refresh count up. */
  attempt: number;
}

/** Names a call the way messages and logs do: `POST applications/9NBLGGH4R315/submissions`. */
export type CallNamer = (request: PipelineRequest) => string;

export function relativePath(url: string, baseUrl: string): string {
  const u = new URL(url);
  const base = new URL(baseUrl);
  const path =
    u.origin === base.origin && u.pathname.startsWith(base.pathname)
      ? u.pathname.slice(base.pathname.length)
      : u.pathname;
  return redact(decodeURIComponentSafe(path));
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

// ---------------------------------------------------------------------------
// Retry

export interface RetryRules {
  /** False for POST create / commit / flight / add-on: a 5xx or a timeout may hide a success. */
  isIdempotent(request: PipelineRequest): boolean;
  baseDelayMs: number;
  /** A Retry-After above this is not waited out here: the error goes up with retryAfterMs. */
  maxRetryDelayMs: number;
  name: CallNamer;
}

/** Errors raised before a single byte reached the service: safe to retry even for a create. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

/** Exponential backoff with jitter: half fixed, half random, capped. */
export function backoffDelay(
  retryCount: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(maxDelayMs, baseDelayMs * 2 ** retryCount);
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

export function storeRetryStrategy(rules: RetryRules): RetryStrategy {
  return {
    name: 'storeRetryStrategy',
    retry({ retryCount, response, responseError }) {
      if (!response) {
        // No answer: network error or our timeout. Anything else (a bug, a refused token) is not ours to retry.
        const request = responseError?.request;
        if (!responseError || !request) return { skipStrategy: true };
        if (!rules.isIdempotent(request) && !NOT_SENT_CODES.has(responseError.code ?? ''))
          return { skipStrategy: true };
        return { retryAfterInMs: backoffDelay(retryCount, rules.baseDelayMs, rules.maxRetryDelayMs) };
      }
      const { status, request } = response;
      const throttled = status === 429;
      const transient = status === 408 || status >= 500;
      if (!throttled && !transient) return { skipStrategy: true };
      // The service turned a 429 away before doing anything; a 5xx may have done the work.
      if (transient && !rules.isIdempotent(request)) return { skipStrategy: true };
      const asked = parseRetryAfter(response.headers, throttled ? messageOf(response) : undefined);
      if (asked !== undefined && asked > rules.maxRetryDelayMs) {
        // The retry policy throws whatever error it is given; the client passes a StoreRequestError on as it is.
        return { errorToThrow: storeErrorFromResponse(rules.name(request), response) };
      }
      return { retryAfterInMs: asked ?? backoffDelay(retryCount, rules.baseDelayMs, rules.maxRetryDelayMs) };
    },
  };
}

function messageOf(response: PipelineResponse): string | undefined {
  try {
    const body = response.bodyAsText ? (JSON.parse(response.bodyAsText) as { message?: unknown }) : undefined;
    return typeof body?.message === 'string' ? body.message : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// Timeout

export { TIMEOUT_CODE };

/** A deadline for each attempt of a Store call (see lib/deadline.ts). */
export function attemptTimeoutPolicy(timeoutMs: number): PipelinePolicy {
  return {
    name: 'storeAttemptTimeoutPolicy',
    sendRequest: (request, next) => withAttemptDeadline(request, timeoutMs, () => next(request)),
  };
}

// ---------------------------------------------------------------------------
// Bearer token

/** A credential that can be made to fetch a new token even while its cached one looks valid. */
export interface RefreshableCredential extends TokenCredential {
  refreshToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null>;
}

function isRefreshable(credential: TokenCredential): credential is RefreshableCredential {
  return typeof (credential as Partial<RefreshableCredential>).refreshToken === 'function';
}

/** Refresh this long before expiry, like the SDK's token cycler. */
const REFRESH_WINDOW_MS = 2 * 60_000;

/**
 * Tokens per credential and scope, shared by every client in the process (activities create a
 * client per invocation; they should not fetch a token each).
 */
class TokenCache {
  private token?: AccessToken;
  private pending?: Promise<AccessToken>;

  constructor(
    private readonly credential: TokenCredential,
    private readonly scope: string,
  ) {}

  async get(timeoutMs?: number): Promise<AccessToken> {
    const t = this.token;
    const now = Date.now();
    if (
      t &&
      now < t.expiresOnTimestamp - REFRESH_WINDOW_MS &&
      (!t.refreshAfterTimestamp || now < t.refreshAfterTimestamp)
    )
      return t;
    return this.fetch(false, timeoutMs);
  }

  /** After a 401: a new token unless another call has already replaced the one that failed. */
  async refresh(failed: string, timeoutMs?: number): Promise<AccessToken> {
    if (this.token && this.token.token !== failed) return this.token;
    return this.fetch(true, timeoutMs);
  }

  private fetch(force: boolean, timeoutMs: number | undefined): Promise<AccessToken> {
    this.pending ??= (async () => {
      try {
        const token = await withTokenDeadline(
          force && isRefreshable(this.credential)
            ? this.credential.refreshToken(this.scope)
            : this.credential.getToken(this.scope),
          timeoutMs,
        );
        if (!token)
          throw new StoreRequestError('The credential returned no token for the Store API.', {
            code: 'AuthenticationFailed',
            retriable: false,
          });
        registerSecret(token.token);
        this.token = token;
        return token;
      } catch (e) {
        throw tokenError(e);
      } finally {
        this.pending = undefined;
      }
    })();
    return this.pending;
  }
}

/**
 * The token endpoint gets the same deadline as a Store call. @azure/identity honours neither an
 * abort signal nor a timeout on its token request, so a hung authority would otherwise hold the
 * run's activity (and every call waiting on the shared token) forever.
 */
export function withTokenDeadline<T>(pending: Promise<T>, timeoutMs: number | undefined): Promise<T> {
  if (!timeoutMs) return pending;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new StoreRequestError(`Could not get a token for the Store API: no answer within ${timeoutMs} ms.`, {
            code: 'Timeout',
            retriable: true,
          }),
        ),
      timeoutMs,
    );
  });
  return Promise.race([pending, deadline]).finally(() => clearTimeout(timer));
}

/** Answers of the token endpoint that say the registration or its secret is wrong: retrying cannot help. */
const REFUSED_BY_AUTHORITY =
  /\b(invalid_client|unauthorized_client|invalid_request|invalid_grant|invalid_scope|invalid_resource|invalid_tenant)\b|AADSTS(7000215|7000222|700016|700027|90002|500011|50034)\b/;

/** Failing to get a token: a refused secret is the user's to fix, an unreachable authority is worth a retry. */
export function tokenError(e: unknown): StoreRequestError {
  if (e instanceof StoreRequestError) return e;
  const err = e as { name?: string; message?: string; statusCode?: number };
  const status = typeof err.statusCode === 'number' ? err.statusCode : undefined;
  const message = String(err.message ?? e);
  // Not the error's name: @azure/identity wraps every MSAL failure, an unreachable or overloaded
  // authority included (network_error, temporarily_unavailable), in AuthenticationRequiredError.
  const refused =
    (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) ||
    REFUSED_BY_AUTHORITY.test(message);
  const unavailable = err.name === 'CredentialUnavailableError';
  const firstLine = message.split('\n')[0] ?? '';
  return new StoreRequestError(redact(`Could not get a token for the Store API: ${firstLine}`), {
    code: unavailable ? 'CredentialUnavailable' : 'AuthenticationFailed',
    status,
    retriable: !(refused || unavailable),
  });
}

const caches = new WeakMap<TokenCredential, Map<string, TokenCache>>();

function cacheFor(credential: TokenCredential, scope: string): TokenCache {
  let byScope = caches.get(credential);
  if (!byScope) caches.set(credential, (byScope = new Map<string, TokenCache>()));
  let cache = byScope.get(scope);
  if (!cache) byScope.set(scope, (cache = new TokenCache(credential, scope)));
  return cache;
}

function isLoopback(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

/** True when a bearer token may travel to this URL: same origin as the API, and TLS unless on loopback. */
export function mayCarryToken(url: string, baseUrl: string): boolean {
  const u = new URL(url);
  const base = new URL(baseUrl);
  if (u.origin !== base.origin) return false;
  return u.protocol === 'https:' || (u.protocol === 'http:' && isLoopback(u.hostname));
}

/**
 * Adds the token and, on a 401, gets a new one and resends once: tokens last about an hour and
 * a run polls for days, and the Store's 401 carries no challenge the SDK's policy would act on.
 */
export function storeBearerPolicy(options: {
  credential: TokenCredential;
  scope: string;
  baseUrl: string;
  /** Deadline for getting a token (the client's per-attempt timeout). */
  tokenTimeoutMs?: number;
}): PipelinePolicy {
  const cache = cacheFor(options.credential, options.scope);
  return {
    name: 'storeBearerPolicy',
    async sendRequest(request, next) {
      if (!mayCarryToken(request.url, options.baseUrl)) {
        throw new StoreRequestError(
          'Refusing to send the Store token outside the configured API base URL (or over plain HTTP).',
          {
            code: 'InsecureUrl',
            retriable: false,
          },
        );
      }
      const token = await cache.get(options.tokenTimeoutMs);
      request.headers.set('Authorization', `Bearer ${token.token}`);
      const response = await next(request);
      if (response.status !== 401) return response;
      const fresh = await cache.refresh(token.token, options.tokenTimeoutMs);
      request.headers.set('Authorization', `Bearer ${fresh.token}`);
      return next(request);
    },
  };
}

// ---------------------------------------------------------------------------
// Logging

export function callLogPolicy(options: { logger: (line: StoreCallLog) => void; baseUrl: string }): PipelinePolicy {
  const attempts = new WeakMap<PipelineRequest, number>();
  const emit = (line: StoreCallLog): void => {
    try {
      options.logger(line);
    } catch {
      // A failing logger must not fail the call it describes.
    }
  };
  return {
    name: 'storeCallLogPolicy',
    async sendRequest(request, next) {
      const attempt = (attempts.get(request) ?? 0) + 1;
      attempts.set(request, attempt);
      const started = performance.now();
      const base = { method: request.method, path: relativePath(request.url, options.baseUrl), attempt };
      try {
        const response = await next(request);
        emit({
          ...base,
          status: response.status,
          durationMs: Math.round(performance.now() - started),
          correlationId: correlationIdOf(response.headers),
        });
        return response;
      } catch (e) {
        emit({ ...base, error: failureCode(e), durationMs: Math.round(performance.now() - started) });
        throw e;
      }
    },
  };
}

/** The code a failure without an answer is reported under. */
export function failureCode(e: unknown): string {
  const err = e as { name?: string; code?: unknown };
  if (err?.code === TIMEOUT_CODE) return TIMEOUT_CODE;
  if (err?.name === 'AbortError') return 'Aborted';
  if (err?.name === 'RestError') return 'NetworkError';
  if (e instanceof StoreRequestError) return e.code;
  return 'Error';
}
