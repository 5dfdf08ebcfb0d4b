/**
 * The typed Microsoft Store submission API client: one pipeline, one code path for apps,
 * flights and add-ons (the kinds table supplies paths and field names).
 */
import type { HttpMethods } from '@azure/core-rest-pipeline';
import type { Config } from '../config';
import { isStoreRequestError, StoreRequestError } from '../errors';
import { registerSecret } from '../redact';
import { storeCredential } from './credential';
import { correlationIdOf, parseJsonLossless, storeErrorFromResponse } from './errors';
import { productPath, segment, submissionPath, type ProductRef } from './kinds';
import { pacersFor } from './budgetBlob';
import type { Pacer } from './pacing';
import { StoreSender, type StoreClientBaseOptions } from './pipeline';
import type {
  Flight,
  InAppProduct,
  NewFlight,
  NewInAppProduct,
  PackageRollout,
  Product,
  StatusDetails,
  Submission,
  SubmissionStatus,
  SubmissionStatusResult,
} from './types';

export type { StoreCallLog } from './policies';

export interface StoreResult<T> {
  value: T;
  /** `MS-CorrelationId` of the answer (of the first page, for lists): what Microsoft support asks for. */
  correlationId: string;
}

export interface StoreClientOptions extends StoreClientBaseOptions {
  /** `https://manage.devcenter.microsoft.com/v1.0/my/` or an emulator's; plain HTTP only on loopback. */
  baseUrl: string;
  /** `top` of list calls; lists follow every page whatever it is. Default 100. */
  pageSize?: number;
  /** Holds commits until the tenant's commit limit has room, before they take a call slot. */
  commitPacer?: Pacer;
}

const PAGE_SIZE = 100;
const MAX_PAGES = 1000;

interface CallOptions {
  query?: Record<string, string | number | boolean>;
  body?: unknown;
  /** False for calls that must not be repeated blindly (POST create, commit, ...). */
  idempotent: boolean;
}

interface Answer<T> {
  value: T;
  correlationId: string;
}

export class StoreClient {
  private readonly sender: StoreSender;
  private readonly baseUrl: string;
  private readonly pageSize: number;

  constructor(options: StoreClientOptions) {
    this.sender = new StoreSender(options);
    this.baseUrl = this.sender.baseUrl;
    this.pageSize = Math.max(1, Math.floor(options.pageSize ?? PAGE_SIZE));
  }

  // -- products -------------------------------------------------------------

  async getProduct(ref: ProductRef): Promise<StoreResult<Product>> {
    return this.send<Product>('GET', productPath(ref), { idempotent: true });
  }

  /** Every flight of an application, following the pages; none when the Store answers 404 ("No package flights were found"). */
  async listFlights(applicationId: string): Promise<StoreResult<Flight[]>> {
    return this.listAll<Flight>(`applications/${segment(applicationId, 'applicationId')}/listflights`);
  }

  /** Not idempotent: after an ambiguous failure, list the flights to see whether it was made. */
  async createFlight(applicationId: string, body: NewFlight): Promise<StoreResult<Flight>> {
    return this.send<Flight>('POST', `applications/${segment(applicationId, 'applicationId')}/flights`, {
      body,
      idempotent: false,
    });
  }

  /** Every add-on of the account (`GET inappproducts`), following the pages; none when the Store answers 404 ("No add-ons were found"). */
  async listInAppProducts(): Promise<StoreResult<InAppProduct[]>> {
    return this.listAll<InAppProduct>('inappproducts');
  }

  /** Not idempotent: after an ambiguous failure, list the add-ons to see whether it was made. */
  async createInAppProduct(body: NewInAppProduct): Promise<StoreResult<InAppProduct>> {
    return this.send<InAppProduct>('POST', 'inappproducts', { body, idempotent: false });
  }

  // -- submissions ----------------------------------------------------------

  /**
   * Creates the pending submission (a clone of the last published one). Never retried here on
   * a 5xx or timeout: the Store has answered 503 after creating one. With `minimal`, the answer
   * is sparse (avoids the Store's 500s on big clones); GET the submission for the full one.
   */
  async createSubmission(ref: ProductRef, options: { minimal?: boolean } = {}): Promise<StoreResult<Submission>> {
    return this.send<Submission>('POST', submissionPath(ref), {
      idempotent: false,
      query: options.minimal ? { isMinimalResponse: true } : undefined,
    });
  }

  async getSubmission(ref: ProductRef, submissionId: string): Promise<StoreResult<Submission>> {
    return this.send<Submission>('GET', submissionPath(ref, submissionId), { idempotent: true });
  }

  /** PUT takes the whole submission; the answer is the submission as the Store now has it. */
  async updateSubmission(
    ref: ProductRef,
    submissionId: string,
    body: Submission | Record<string, unknown>,
  ): Promise<StoreResult<Submission>> {
    return this.send<Submission>('PUT', submissionPath(ref, submissionId), { body, idempotent: true });
  }

  async deleteSubmission(ref: ProductRef, submissionId: string): Promise<StoreResult<void>> {
    const answer = await this.send<unknown>('DELETE', submissionPath(ref, submissionId), { idempotent: true });
    return { value: undefined, correlationId: answer.correlationId };
  }

  /** Not idempotent: after an ambiguous failure, read the status to see whether the commit started. */
  async commitSubmission(ref: ProductRef, submissionId: string): Promise<StoreResult<{ status: string }>> {
    const answer = await this.send<{ status?: unknown } | undefined>(
      'POST',
      submissionPath(ref, submissionId, 'commit'),
      { idempotent: false },
    );
    const status = typeof answer.value?.status === 'string' ? answer.value.status : 'CommitStarted';
    return { value: { status }, correlationId: answer.correlationId };
  }

  async getSubmissionStatus(ref: ProductRef, submissionId: string): Promise<StoreResult<SubmissionStatusResult>> {
    const answer = await this.send<{ status?: unknown; statusDetails?: Partial<StatusDetails> | null }>(
      'GET',
      submissionPath(ref, submissionId, 'status'),
      { idempotent: true },
    );
    const details = answer.value?.statusDetails ?? {};
    return {
      value: {
        status: (typeof answer.value?.status === 'string' ? answer.value.status : 'None') as SubmissionStatus,
        statusDetails: {
          errors: Array.isArray(details.errors) ? details.errors : [],
          warnings: Array.isArray(details.warnings) ? details.warnings : [],
          certificationReports: Array.isArray(details.certificationReports) ? details.certificationReports : [],
        },
      },
      correlationId: answer.correlationId,
    };
  }

  // -- package rollout (only on a published submission with a rollout in progress, else 409) --

  async getPackageRollout(ref: ProductRef, submissionId: string): Promise<StoreResult<PackageRollout>> {
    return this.send<PackageRollout>('GET', submissionPath(ref, submissionId, 'packagerollout'), { idempotent: true });
  }

  async updatePackageRolloutPercentage(
    ref: ProductRef,
    submissionId: string,
    percentage: number,
  ): Promise<StoreResult<PackageRollout>> {
    return this.send<PackageRollout>('POST', submissionPath(ref, submissionId, 'updatepackagerolloutpercentage'), {
      query: { percentage },
      idempotent: false,
    });
  }

  /** POSTs are not retried on 5xx here: a second halt after a first that took answers 409. */
  async haltPackageRollout(ref: ProductRef, submissionId: string): Promise<StoreResult<PackageRollout>> {
    return this.send<PackageRollout>('POST', submissionPath(ref, submissionId, 'haltpackagerollout'), {
      idempotent: false,
    });
  }

  async finalizePackageRollout(ref: ProductRef, submissionId: string): Promise<StoreResult<PackageRollout>> {
    return this.send<PackageRollout>('POST', submissionPath(ref, submissionId, 'finalizepackagerollout'), {
      idempotent: false,
    });
  }

  // -- plumbing -------------------------------------------------------------

  private async send<T>(method: HttpMethods, path: string, options: CallOptions): Promise<Answer<T>> {
    const url = new URL(path, this.baseUrl);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, String(v));
    return this.sendUrl<T>(method, url, options);
  }

  private async sendUrl<T>(method: HttpMethods, url: URL, options: CallOptions): Promise<Answer<T>> {
    const name = this.sender.callName({ method, url: url.toString() });
    const response = await this.sender.send(method, url, { body: options.body, idempotent: options.idempotent, name });
    const correlationId = correlationIdOf(response.headers) ?? '';
    if (response.status < 200 || response.status >= 300) throw storeErrorFromResponse(name, response);

    let value: unknown;
    const text = response.bodyAsText;
    if (text && text.trim()) {
      try {
        value = parseJsonLossless(text);
      } catch {
        throw new StoreRequestError(`${name} answered ${response.status} with a body that is not JSON.`, {
          code: 'InvalidResponse',
          status: response.status,
          correlationId: correlationId || undefined,
          retriable: true,
        });
      }
    }
    registerUploadUrls(value);
    return { value: value as T, correlationId };
  }

  /**
   * Follows `@nextLink` (relative to the API base) until the last page; when a page says there
   * are more (`totalCount`) but gives no link, asks for the next slice with `skip`.
   */
  private async listAll<T>(path: string): Promise<StoreResult<T[]>> {
    const items: T[] = [];
    const seen = new Set<string>();
    let url: URL | undefined = new URL(path, this.baseUrl);
    url.searchParams.set('top', String(this.pageSize));
    let firstCorrelationId: string | undefined;
    for (let page = 0; url && page < MAX_PAGES; page++) {
      const key = url.toString();
      if (seen.has(key)) break;
      seen.add(key);
      let answer: Answer<{ value?: T[]; totalCount?: number; '@nextLink'?: string } | undefined>;
      try {
        answer = await this.sendUrl('GET', url, { idempotent: true });
      } catch (e) {
        // The list calls answer 404 when there is nothing to list (get-flights-for-an-app.md,
        // get-all-add-ons.md): the first flight of an app, the first add-on of an account.
        if (page === 0 && isStoreRequestError(e) && e.status === 404) {
          return { value: [], correlationId: e.correlationId ?? '' };
        }
        throw e;
      }
      firstCorrelationId ??= answer.correlationId;
      const pageItems = Array.isArray(answer.value?.value) ? answer.value.value : [];
      items.push(...pageItems);
      const next = answer.value?.['@nextLink'];
      const total = answer.value?.totalCount;
      if (typeof next === 'string' && next) {
        url = this.resolveNextLink(next);
      } else if (typeof total === 'number' && items.length < total && pageItems.length > 0) {
        url = new URL(path, this.baseUrl);
        url.searchParams.set('top', String(this.pageSize));
        url.searchParams.set('skip', String(items.length));
      } else {
        url = undefined;
      }
    }
    return { value: items, correlationId: firstCorrelationId ?? '' };
  }

  private resolveNextLink(link: string): URL {
    const base = new URL(this.baseUrl);
    // Links are relative to /v1.0/my/; some services echo the path from the root instead.
    const resolved = link.startsWith('/') ? new URL(link, base.origin) : new URL(link, this.baseUrl);
    if (resolved.origin !== base.origin) {
      throw new StoreRequestError('The Store answered with a next-page link to another host; refusing to follow it.', {
        code: 'InvalidResponse',
        retriable: false,
      });
    }
    return resolved;
  }
}

/** Upload URLs are SAS secrets: once seen, no later log line may carry them. */
function registerUploadUrls(value: unknown): void {
  if (!value || typeof value !== 'object') return;
  const url = (value as { fileUploadUrl?: unknown }).fileUploadUrl;
  if (typeof url === 'string') registerSecret(url);
}

/** A client wired from the app settings (`config().store`). */
export function storeClientFor(store: Config['store'], extra: Partial<StoreClientOptions> = {}): StoreClient {
  return new StoreClient({
    baseUrl: store.apiBaseUrl,
    credential: storeCredential(store),
    scope: store.tokenScope,
    timeoutMs: store.requestTimeoutMs,
    // One budget per tenant and API: shared by every instance with STORE_BUDGET_CONTAINER, else by the process's runs.
    ...pacersFor({
      key: `${store.apiBaseUrl}|${store.tenantId}`,
      limit: store.maxRequestsPerMinute,
      windowMs: store.rateWindowMs ?? 60_000,
      commitLimit: store.maxCommitsPerMinute ?? 5,
      budget: store.budget,
    }),
    ...extra,
  });
}
