/**
 * The HTTP pipeline both Store clients share (the v1.0 API's and the MSI/EXE API's): the Azure
 * SDK's default pipeline with the Store's own retry rules, pacing, bearer token, call log and
 * per-attempt timeout, in that order, the options and defaults both take, the sending of one JSON
 * call (StoreSender) and the mapping of a failure without an answer to a typed error. Only what
 * differs between the two APIs (extra headers, how answers read) is left to each client.
 */
import { rootCertificates } from 'node:tls';
import type { TokenCredential } from '@azure/identity';
import {
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineFromOptions,
  createPipelineRequest,
  isRestError,
  redirectPolicyName,
  retryPolicy,
  type HttpClient,
  type HttpMethods,
  type PipelinePolicy,
  type Pipeline,
  type PipelineRequest,
  type PipelineResponse,
} from '@azure/core-rest-pipeline';
import { StoreRequestError } from '../errors';
import { redact } from '../redact';
import { isCommitCall, pacingPolicy, type Pacer } from './pacing';
import {
  TIMEOUT_CODE,
  attemptTimeoutPolicy,
  callLogPolicy,
  failureCode,
  storeBearerPolicy,
  storeRetryStrategy,
  relativePath,
  type StoreCallLog,
} from './policies';

/** What both clients take for their pipeline. */
export interface StoreClientBaseOptions {
  /** The API's base URL (a trailing slash is added); plain HTTP only on loopback. */
  baseUrl: string;
  credential: TokenCredential;
  scope: string;
  /** Deadline for one attempt, body included. Default 60 s (the config's default). */
  timeoutMs?: number;
  /** Retries after the first attempt, for 429, 5xx and network errors. Default 3. */
  maxRetries?: number;
  /** Longest wait inside the client; a longer Retry-After is thrown (retriable, with retryAfterMs). Default 20 s. */
  maxRetryDelayMs?: number;
  /** First backoff step; doubles per retry, with jitter. Default 1 s. */
  retryDelayMs?: number;
  userAgent?: string;
  logger?: (line: StoreCallLog) => void;
  /** PEM of extra CAs to trust for the API host, on top of the public roots (a local emulator's CA). */
  caCertificates?: string;
  /** Replaces the default HTTP client. */
  httpClient?: HttpClient;
  /** Holds every attempt until the tenant's rate limit has room (lib/store/pacing.ts). None: no pacing. */
  pacer?: Pacer;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_RETRIES = 3;
const DEFAULT_MAX_RETRY_DELAY_MS = 20_000;
const DEFAULT_RETRY_DELAY_MS = 1_000;

/**
 * One client's way to the API: the base URL, the pipeline built with the defaults, and the
 * sending of one JSON call, which the retry policy repeats only when it is idempotent.
 */
export class StoreSender {
  /** With its trailing slash. */
  readonly baseUrl: string;
  private readonly pipeline: Pipeline;
  private readonly httpClient: HttpClient;
  private readonly notIdempotent = new WeakSet<PipelineRequest>();

  constructor(options: StoreClientBaseOptions & Pick<StorePipelineOptions, 'commitPacer' | 'extraPolicies'>) {
    this.baseUrl = options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`;
    new URL(this.baseUrl); // fail at construction on a malformed base URL, not at the first call
    this.pipeline = buildStorePipeline({
      baseUrl: this.baseUrl,
      credential: options.credential,
      scope: options.scope,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
      maxRetryDelayMs: options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS,
      retryDelayMs: options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
      userAgent: options.userAgent,
      logger: options.logger,
      caCertificates: options.caCertificates,
      pacer: options.pacer,
      commitPacer: options.commitPacer,
      isIdempotent: (request) => !this.notIdempotent.has(request),
      callName: (request) => this.callName(request),
      extraPolicies: options.extraPolicies,
    });
    this.httpClient = options.httpClient ?? createDefaultHttpClient();
  }

  /** `METHOD path`, the path relative to the base URL. */
  callName(request: Pick<PipelineRequest, 'method' | 'url'>): string {
    return `${request.method} ${relativePath(request.url, this.baseUrl)}`;
  }

  /** The answer, whatever its status; a failure without one as requestFailure's typed error, named `name`. */
  async send(
    method: HttpMethods,
    url: URL,
    options: { body?: unknown; idempotent: boolean; name?: string },
  ): Promise<PipelineResponse> {
    const request = createPipelineRequest({
      url: url.toString(),
      method,
      headers: createHttpHeaders({ 'Content-Type': 'application/json; charset=utf-8', Accept: 'application/json' }),
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      // The bearer policy refuses plain HTTP anywhere but loopback.
      allowInsecureConnection: url.protocol === 'http:',
    });
    if (!options.idempotent) this.notIdempotent.add(request);
    try {
      return await this.pipeline.sendRequest(this.httpClient, request);
    } catch (e) {
      throw requestFailure(options.name ?? this.callName(request), e);
    }
  }
}

export interface StorePipelineOptions {
  /** With its trailing slash. */
  baseUrl: string;
  credential: TokenCredential;
  scope: string;
  timeoutMs: number;
  maxRetries: number;
  maxRetryDelayMs: number;
  retryDelayMs: number;
  userAgent?: string;
  logger?: (line: StoreCallLog) => void;
  caCertificates?: string;
  pacer?: Pacer;
  /** Holds commits to the Store's commit limit, before they take a call slot. */
  commitPacer?: Pacer;
  /** False for a request that must not be repeated blindly. */
  isIdempotent: (request: PipelineRequest) => boolean;
  /** `METHOD path` for messages. */
  callName: (request: PipelineRequest) => string;
  /** Added in the Sign phase, before the token (headers every call of the API carries). */
  extraPolicies?: PipelinePolicy[];
}

export function buildStorePipeline(options: StorePipelineOptions): Pipeline {
  const pipeline = createPipelineFromOptions({
    userAgentOptions: { userAgentPrefix: options.userAgent ?? 'store-submitter' },
    tlsOptions: options.caCertificates ? { ca: [...rootCertificates, options.caCertificates] } : undefined,
  });
  pipeline.removePolicy({ phase: 'Retry' });
  // A token must never follow a redirect; the Store does not redirect, so a 3xx is an error.
  pipeline.removePolicy({ name: redirectPolicyName });
  pipeline.addPolicy(
    retryPolicy(
      [
        storeRetryStrategy({
          isIdempotent: options.isIdempotent,
          baseDelayMs: options.retryDelayMs,
          maxRetryDelayMs: options.maxRetryDelayMs,
          name: options.callName,
        }),
      ],
      { maxRetries: options.maxRetries },
    ),
    { phase: 'Retry' },
  );
  // Above the token policy: the token is taken after the wait for a slot, never left to expire
  // in the queue; and above the log and the timeout, so waiting is neither a call's time nor its deadline's.
  if (options.pacer) pipeline.addPolicy(pacingPolicy(options.pacer), { phase: 'Sign' });
  // Commits wait for a commit slot first, so a queue of commits never holds call slots while it waits.
  if (options.commitPacer) {
    pipeline.addPolicy(pacingPolicy(options.commitPacer, isCommitCall, 'storeCommitPacingPolicy'), {
      phase: 'Sign',
      beforePolicies: ['storePacingPolicy'],
    });
  }
  for (const policy of options.extraPolicies ?? []) pipeline.addPolicy(policy, { phase: 'Sign' });
  pipeline.addPolicy(
    storeBearerPolicy({
      credential: options.credential,
      scope: options.scope,
      baseUrl: options.baseUrl,
      tokenTimeoutMs: options.timeoutMs,
    }),
    { phase: 'Sign' },
  );
  // Below the token policy, so the resend after a refresh is logged as its own attempt.
  if (options.logger)
    pipeline.addPolicy(callLogPolicy({ logger: options.logger, baseUrl: options.baseUrl }), { afterPhase: 'Sign' });
  pipeline.addPolicy(attemptTimeoutPolicy(options.timeoutMs), { afterPhase: 'Sign' });
  return pipeline;
}

/** A failure without an answer (or a bug) as the typed error a caller acts on. */
export function requestFailure(name: string, e: unknown): StoreRequestError {
  if (e instanceof StoreRequestError) return e;
  const code = failureCode(e);
  if (code === TIMEOUT_CODE) {
    return new StoreRequestError(redact(`${name} timed out: ${(e as Error).message}.`), {
      code: 'Timeout',
      retriable: true,
    });
  }
  if (isRestError(e) || code === 'Aborted') {
    const detail = isRestError(e) && e.code ? `${e.code}: ${e.message}` : (e as Error).message;
    return new StoreRequestError(redact(`${name} failed without an answer (${detail}).`), {
      code: code === 'Aborted' ? 'Aborted' : 'NetworkError',
      retriable: true,
    });
  }
  return new StoreRequestError(redact(`${name} failed: ${(e as Error)?.message ?? String(e)}`), {
    code: 'ClientError',
    retriable: false,
  });
}
