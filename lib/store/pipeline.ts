/**
 * The HTTP pipeline both Store clients share (the v1.0 API's and the MSI/EXE API's): the Azure
 * SDK's default pipeline with the Store's own retry rules, pacing, bearer token, call log and
 * per-attempt timeout, in that order, and the mapping of a failure without an answer to a typed
 * error. Only what differs between the two APIs (extra headers, how answers read) is left to
 * each client.
 */
import { rootCertificates } from 'node:tls';
import type { TokenCredential } from '@azure/identity';
import {
  createPipelineFromOptions,
  isRestError,
  redirectPolicyName,
  retryPolicy,
  type PipelinePolicy,
  type Pipeline,
  type PipelineRequest,
} from '@azure/core-rest-pipeline';
import { StoreRequestError } from '../errors';
import { redact } from '../redact';
import { isCommitCall, pacingPolicy, type CallPacer } from './pacing';
import {
  TIMEOUT_CODE,
  attemptTimeoutPolicy,
  callLogPolicy,
  failureCode,
  storeBearerPolicy,
  storeRetryStrategy,
  type StoreCallLog,
} from './policies';

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
  pacer?: CallPacer;
  /** Holds commits to the Store's commit limit, before they take a call slot. */
  commitPacer?: CallPacer;
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
