/**
 * The typed client of the Store's submission API for MSI/EXE apps
 * (`https://api.store.microsoft.com/submission/v1/product/{productId}/...`, windows-dev-docs
 * hub/apps/publish/store-submission-api.md), on the same pipeline as the v1.0 client: retries,
 * pacing, token refresh, call log, per-attempt timeout. What differs is the seller header on
 * every call and the answers: a wrapper `{isSuccess, errors, responseData}` that can say
 * "refused" in a 200 (both Microsoft clients read `isSuccess` on every answer: msstore-cli
 * MSStore.API/StoreAPI.cs, microsoft/store-submission src/store_apis.ts), and gateway failures
 * (401, 429) as `{statusCode, message}`.
 */
import type { HttpMethods, PipelinePolicy } from '@azure/core-rest-pipeline';
import type { Config } from '../config';
import { ConfigurationError, StoreRequestError, isRetriableStatus } from '../errors';
import { redact, registerSecret } from '../redact';
import { storeCredential } from './credential';
import { correlationIdOf, parseJsonLossless, parseRetryAfter } from './errors';
import { segment } from './kinds';
import { pacersFor } from './budgetBlob';
import { StoreSender, type StoreClientBaseOptions } from './pipeline';
import type {
  Win32LanguageAssets,
  Win32Metadata,
  Win32MetadataUpdate,
  Win32ModuleStatus,
  Win32NewAsset,
  Win32Package,
  Win32ResponseError,
  Win32SubmissionStatus,
} from './win32Types';

export interface Win32Result<T> {
  value: T;
  /** The answer's `errors`: warnings on a success, package upload errors on a module status. */
  errors: Win32ResponseError[];
  /** `X-Correlation-ID` of the answer: what Microsoft support asks for. */
  correlationId: string;
}

export interface Win32ClientOptions extends StoreClientBaseOptions {
  /** `https://api.store.microsoft.com/` or an emulator's; plain HTTP only on loopback. */
  baseUrl: string;
  /** The Partner Center account's seller id, sent as `X-Seller-Account-Id`. */
  sellerId: string;
  /** `https://api.store.microsoft.com/.default`. */
  scope: string;
}

/**
 * The Store refused a change because a submission is in progress: it names that submission
 * (`responseData.ongoingSubmissionId`, documented on every update's answer).
 */
export class SubmissionInProgressError extends StoreRequestError {
  constructor(
    message: string,
    readonly ongoingSubmissionId: string,
    init: ConstructorParameters<typeof StoreRequestError>[1],
  ) {
    super(message, init);
  }
}

export const SUBMISSION_IN_PROGRESS = 'SubmissionInProgress';

interface Wrapper {
  isSuccess?: unknown;
  errors?: unknown;
  responseData?: unknown;
  statusCode?: unknown;
  message?: unknown;
}

interface CallOptions {
  query?: Record<string, string>;
  body?: unknown;
  idempotent: boolean;
  /** Answers whose `isSuccess` is false but whose `responseData` is the result (the module status). */
  errorsAreData?: boolean;
}

const MAX_MESSAGE = 600;

export class Win32StoreClient {
  private readonly sender: StoreSender;

  constructor(options: Win32ClientOptions) {
    if (!/^\d+$/.test(options.sellerId))
      throw new TypeError('sellerId must be the digits of a Partner Center seller id');
    const seller: PipelinePolicy = {
      name: 'storeSellerPolicy',
      sendRequest: (request, next) => {
        request.headers.set('X-Seller-Account-Id', options.sellerId);
        return next(request);
      },
    };
    this.sender = new StoreSender({ ...options, extraPolicies: [seller] });
  }

  // -- the draft ----------------------------------------------------------------

  /** Module readiness and the submission in progress; `errors` carries `packageuploaderror`s, never thrown. */
  async getModuleStatus(productId: string): Promise<Win32Result<Win32ModuleStatus>> {
    const answer = await this.send<{ isReady?: unknown; ongoingSubmissionId?: unknown }>(
      'GET',
      this.path(productId, 'status'),
      { idempotent: true, errorsAreData: true },
    );
    return {
      ...answer,
      value: {
        isReady: answer.value?.isReady === true,
        ongoingSubmissionId:
          typeof answer.value?.ongoingSubmissionId === 'string' ? answer.value.ongoingSubmissionId : '',
      },
    };
  }

  async getPackages(productId: string): Promise<Win32Result<Win32Package[]>> {
    const answer = await this.send<{ packages?: Win32Package[] }>('GET', this.path(productId, 'packages'), {
      idempotent: true,
    });
    const packages = Array.isArray(answer.value?.packages) ? answer.value.packages : [];
    return { ...answer, value: packages };
  }

  /** Replaces the draft's whole package set (the Store gives every package a new id). */
  async updatePackages(productId: string, packages: Win32Package[]): Promise<Win32Result<void>> {
    for (const p of packages) registerSecret(p.packageUrl);
    return this.void('PUT', this.path(productId, 'packages'), { body: { packages }, idempotent: true });
  }

  async patchPackage(productId: string, packageId: string, patch: Partial<Win32Package>): Promise<Win32Result<void>> {
    if (patch.packageUrl) registerSecret(patch.packageUrl);
    return this.void('PATCH', this.path(productId, 'packages', segment(packageId, 'packageId')), {
      body: patch,
      idempotent: true,
    });
  }

  /** Starts the Store's download of the new package set. Not retried blindly: read the module status instead. */
  async commitPackages(productId: string): Promise<Win32Result<void>> {
    return this.void('POST', this.path(productId, 'packages', 'commit'), { idempotent: false });
  }

  async getMetadata(
    productId: string,
    options: {
      module?: 'listings' | 'properties' | 'availability';
      languages?: string[];
      includeLanguageList?: boolean;
    } = {},
  ): Promise<Win32Result<Win32Metadata>> {
    const query: Record<string, string> = {};
    if (options.languages?.length) query.languages = options.languages.join(',');
    if (options.includeLanguageList) query.includelanguagelist = 'true';
    const path = options.module ? this.path(productId, 'metadata', options.module) : this.path(productId, 'metadata');
    const answer = await this.send<Win32Metadata>('GET', path, { idempotent: true, query });
    return { ...answer, value: answer.value ?? {} };
  }

  /** PATCH: only the fields given change (PUT would reset every field a module leaves out). */
  async patchMetadata(productId: string, update: Win32MetadataUpdate): Promise<Win32Result<void>> {
    return this.void('PATCH', this.path(productId, 'metadata'), { body: update, idempotent: true });
  }

  async getListingAssets(productId: string, languages: string[] = []): Promise<Win32Result<Win32LanguageAssets[]>> {
    const answer = await this.send<{ listingAssets?: Win32LanguageAssets[] }>(
      'GET',
      this.path(productId, 'listings', 'assets'),
      { idempotent: true, query: languages.length ? { languages: languages.join(',') } : undefined },
    );
    return { ...answer, value: Array.isArray(answer.value?.listingAssets) ? answer.value.listingAssets : [] };
  }

  /** New asset slots with their upload URLs (SAS: registered as secrets). Not retried blindly. */
  async createListingAssets(
    productId: string,
    language: string,
    counts: { screenshots: number; logos: number },
  ): Promise<Win32Result<{ storeLogos: Win32NewAsset[]; screenshots: Win32NewAsset[] }>> {
    const answer = await this.send<{
      listingAssets?: { storeLogos?: Win32NewAsset[]; screenshots?: Win32NewAsset[] };
    }>('POST', this.path(productId, 'listings', 'assets', 'create'), {
      body: { language, createAssetRequest: { Screenshot: counts.screenshots, Logo: counts.logos } },
      idempotent: false,
    });
    const assets = answer.value?.listingAssets ?? {};
    const storeLogos = Array.isArray(assets.storeLogos) ? assets.storeLogos : [];
    const screenshots = Array.isArray(assets.screenshots) ? assets.screenshots : [];
    for (const a of [...storeLogos, ...screenshots]) {
      registerSecret(a.primaryAssetUploadUrl);
      registerSecret(a.secondaryAssetUploadUrl);
    }
    return { ...answer, value: { storeLogos, screenshots } };
  }

  async commitListingAssets(
    productId: string,
    assets: {
      language: string;
      storeLogos?: Array<{ id: string; assetUrl: string }>;
      screenshots?: Array<{ id: string; assetUrl: string }>;
    },
  ): Promise<Win32Result<void>> {
    return this.void('PUT', this.path(productId, 'listings', 'assets', 'commit'), {
      body: { listingAssets: assets },
      idempotent: true,
    });
  }

  // -- submissions ---------------------------------------------------------------

  /**
   * Creates a submission from the draft. Not retried blindly: after an ambiguous failure, read the
   * module status, whose `ongoingSubmissionId` names the submission if it was made.
   */
  async submit(productId: string): Promise<Win32Result<{ submissionId: string }>> {
    const answer = await this.send<{ submissionId?: unknown; ongoingSubmissionId?: unknown }>(
      'POST',
      this.path(productId, 'submit'),
      { idempotent: false },
    );
    const submissionId = typeof answer.value?.submissionId === 'string' ? answer.value.submissionId : '';
    const ongoing = typeof answer.value?.ongoingSubmissionId === 'string' ? answer.value.ongoingSubmissionId : '';
    if (!submissionId) {
      // msstore-cli and the store-submission action take an ongoingSubmissionId here for "the"
      // submission; it may be someone else's, so it is a refusal, never ours.
      const name = `POST ${this.path(productId, 'submit')}`;
      if (ongoing) throw this.inProgress(name, 200, ongoing, answer.errors, answer.correlationId);
      throw new StoreRequestError(`${name} answered success without a submission id.`, {
        code: 'InvalidResponse',
        status: 200,
        correlationId: answer.correlationId || undefined,
        retriable: false,
        storeErrors: toStoreErrors(answer.errors),
      });
    }
    return { ...answer, value: { submissionId } };
  }

  async getSubmissionStatus(productId: string, submissionId: string): Promise<Win32Result<Win32SubmissionStatus>> {
    const answer = await this.send<{ publishingStatus?: unknown; hasFailed?: unknown }>(
      'GET',
      this.path(productId, 'submission', segment(submissionId, 'submissionId'), 'status'),
      { idempotent: true },
    );
    const status = answer.value?.publishingStatus;
    return {
      ...answer,
      value: {
        publishingStatus: status === 'INPROGRESS' || status === 'PUBLISHED' || status === 'FAILED' ? status : 'UNKNOWN',
        hasFailed: answer.value?.hasFailed === true,
      },
    };
  }

  // -- plumbing -------------------------------------------------------------------

  private path(productId: string, ...rest: string[]): string {
    return ['submission/v1/product', segment(productId, 'productId'), ...rest].join('/');
  }

  private async void(method: HttpMethods, path: string, options: CallOptions): Promise<Win32Result<void>> {
    const answer = await this.send<unknown>(method, path, options);
    return { ...answer, value: undefined };
  }

  private async send<T>(method: HttpMethods, path: string, options: CallOptions): Promise<Win32Result<T | undefined>> {
    const url = new URL(path, this.sender.baseUrl);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
    const name = `${method} ${path}`;
    const response = await this.sender.send(method, url, { body: options.body, idempotent: options.idempotent, name });
    const correlationId = correlationIdOf(response.headers) ?? '';
    const text = response.bodyAsText ?? '';
    let body: Wrapper | undefined;
    if (text.trim()) {
      try {
        const parsed = parseJsonLossless(text);
        body = parsed && typeof parsed === 'object' ? parsed : undefined;
      } catch {
        body = undefined;
      }
    }
    registerUrls(body?.responseData);
    const errors = errorsOf(body);
    const ok = response.status >= 200 && response.status < 300;
    if (!ok) throw this.refused(name, response.status, body, errors, correlationId, response.headers);
    if (!body) {
      throw new StoreRequestError(`${name} answered ${response.status} with a body that is not the API's JSON.`, {
        code: 'InvalidResponse',
        status: response.status,
        correlationId: correlationId || undefined,
        retriable: true,
      });
    }
    if (body.isSuccess !== true && !(options.errorsAreData && body.responseData)) {
      throw this.refused(name, response.status, body, errors, correlationId, response.headers);
    }
    return { value: body.responseData as T | undefined, errors, correlationId };
  }

  private refused(
    name: string,
    status: number,
    body: Wrapper | undefined,
    errors: Win32ResponseError[],
    correlationId: string,
    headers: { get(name: string): string | undefined },
  ): StoreRequestError {
    const data = body?.responseData as { ongoingSubmissionId?: unknown } | null | undefined;
    const ongoing = typeof data?.ongoingSubmissionId === 'string' ? data.ongoingSubmissionId : '';
    if (ongoing) return this.inProgress(name, status, ongoing, errors, correlationId);
    const gatewayMessage = typeof body?.message === 'string' ? body.message : undefined;
    const first = errors[0];
    const code =
      first?.code ||
      (status === 401
        ? 'Unauthorized'
        : status === 403
          ? 'Forbidden'
          : status === 404
            ? 'NotFound'
            : status === 429
              ? 'RateLimited'
              : `Http${status}`);
    const said = first ? errors.map(describeError).join('; ') : gatewayMessage;
    const hint =
      status === 401
        ? ' (check STORE_SELLER_ID, and that the Azure AD app is in Partner Center with the Manager role)'
        : status === 404
          ? ' (no such product for this seller: check target.productId, the Partner Center id of the MSI/EXE app)'
          : '';
    const message = `${name} failed with ${status}${said ? `: ${clip(said)}` : ''}${hint}${correlationId ? ` (X-Correlation-ID ${correlationId})` : ''}`;
    return new StoreRequestError(redact(message), {
      code,
      status,
      correlationId: correlationId || undefined,
      retryAfterMs: parseRetryAfter(headers, gatewayMessage),
      // A refusal in a 200 says the request was wrong now; one the draft's state explains is the caller's to judge.
      retriable: status >= 200 && status < 300 ? false : isRetriableStatus(status),
      storeErrors: toStoreErrors(errors),
    });
  }

  private inProgress(
    name: string,
    status: number,
    ongoing: string,
    errors: Win32ResponseError[],
    correlationId: string,
  ): SubmissionInProgressError {
    const message = `${name} was refused: submission ${ongoing} is in progress, and the draft cannot change until it is published or has failed${correlationId ? ` (X-Correlation-ID ${correlationId})` : ''}.`;
    return new SubmissionInProgressError(redact(message), ongoing, {
      code: SUBMISSION_IN_PROGRESS,
      status,
      correlationId: correlationId || undefined,
      retriable: false,
      storeErrors: toStoreErrors(errors),
    });
  }
}

function errorsOf(body: Wrapper | undefined): Win32ResponseError[] {
  if (!Array.isArray(body?.errors)) return [];
  return (body.errors as unknown[])
    .filter((e): e is Record<string, unknown> => !!e && typeof e === 'object')
    .map((e) => ({
      code: typeof e.code === 'string' ? e.code : '',
      message: typeof e.message === 'string' ? redact(clip(e.message)) : '',
      target: typeof e.target === 'string' ? e.target : '',
    }));
}

function describeError(e: Win32ResponseError): string {
  return `${e.code}${e.target ? ` (${e.target})` : ''}: ${e.message}`;
}

function toStoreErrors(errors: Win32ResponseError[]): Array<{ code: string; details: string }> | undefined {
  if (!errors.length) return undefined;
  return errors.map((e) => ({ code: e.code, details: redact(e.target ? `${e.target}: ${e.message}` : e.message) }));
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_MESSAGE ? `${flat.slice(0, MAX_MESSAGE)}...` : flat;
}

/** Package URLs carry the SAS of their installer, upload URLs the Store's: once seen, no log line may carry them. */
function registerUrls(value: unknown): void {
  if (Array.isArray(value)) return value.forEach(registerUrls);
  if (!value || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) {
    if (
      (k === 'packageUrl' || k === 'primaryAssetUploadUrl' || k === 'secondaryAssetUploadUrl') &&
      typeof v === 'string'
    )
      registerSecret(v);
    else if (v && typeof v === 'object') registerUrls(v);
  }
}

/** A client wired from the app settings; a ConfigurationError without a seller id. */
export function win32ClientFor(
  c: Pick<Config, 'store' | 'win32'>,
  extra: Partial<Win32ClientOptions> = {},
): Win32StoreClient {
  if (!c.win32.sellerId)
    throw new ConfigurationError(
      'STORE_SELLER_ID is not set: submissions of MSI/EXE apps (target.kind "win32") need the seller id of the Partner Center account (Account settings, Legal info).',
      ['STORE_SELLER_ID is not set'],
    );
  return new Win32StoreClient({
    baseUrl: c.win32.apiBaseUrl,
    sellerId: c.win32.sellerId,
    credential: storeCredential(c.store),
    scope: c.win32.tokenScope,
    timeoutMs: c.store.requestTimeoutMs,
    // One budget per tenant and API: this API's calls share theirs across instances, or across the process's runs.
    pacer: pacersFor({
      key: `${c.win32.apiBaseUrl}|${c.store.tenantId}`,
      limit: c.store.maxRequestsPerMinute,
      windowMs: c.store.rateWindowMs ?? 60_000,
      budget: c.store.budget,
    }).pacer,
    ...extra,
  });
}
