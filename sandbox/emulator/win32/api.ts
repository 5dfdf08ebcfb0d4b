/**
 * The emulated Microsoft Store submission API for MSI or EXE apps
 * (`https://api.store.microsoft.com/submission/v1/product/{productId}/...`), mounted on the
 * emulator's HTTP listener under `/submission/v1/`. What each behaviour models, and from which
 * source, is in this folder's README.
 */
import type { IncomingMessage } from 'node:http';
import type { ContainerClient } from '@azure/storage-blob';
import { type Reply, HttpError, empty, json, readSmallBody } from '../http';
import { type Identity, WIN32_RESOURCE } from '../identity';
import { blankPng } from '../png';
import { SlidingWindow } from '../rateLimit';
import type { SasSigner } from '../sas';
import { type Win32Config, DEFAULT_WIN32_CONFIG, mergeWin32Config } from './config';
import { type DownloadResult, download, urlKey } from './downloads';
import { Win32Faults } from './faults';
import { gateway, oneError, refusal } from './http';
import { renderAssets, renderListing, renderPackage } from './render';
import { routeProductCall } from './routes';
import {
  type PublishingStatus,
  type ResponseError,
  type Win32Product,
  type Win32Submission,
  Win32Store,
  copyContent,
} from './state';
import { type Win32Seed, type Win32SeedOption, WIN32_SELLER_ID, applyWin32Seed, resolveWin32Seed } from './seed';

/** What the MSI/EXE API needs of the emulator it is mounted in. */
export interface Win32Host {
  identity: Identity;
  /** Mints the SAS URLs of listing asset uploads; the emulator's upload proxy checks them. */
  signer: SasSigner;
  /** The ingestion container behind those URLs. */
  ingest: ContainerClient;
  /** http://127.0.0.1:PORT, once listening. */
  httpUrl(): string;
  /** `sv` of minted SAS URLs. */
  sasVersion(): string;
}

export const WIN32_PREFIX = /^\/submission\/v1\//i;
const JSON_BODY_LIMIT = 10 * 1024 * 1024;
const DOWNLOAD_LOG_LIMIT = 2000;
/** Packages downloaded at once per commit. */
const DOWNLOAD_CONCURRENCY = 4;

export class Win32Emulator {
  config: Win32Config;
  readonly store = new Win32Store();
  readonly faults: Win32Faults;
  readonly sellerId = WIN32_SELLER_ID;
  /**
   * Package URLs (scheme, host, path) the Store holds a copy of, with the copy's hash: a package
   * set that keeps one of them is not downloaded again ("The Store will retain copies of your most
   * recent app packages", hub/apps/publish/publish-your-app/msi/upload-app-packages.md).
   */
  readonly retained = new Map<string, { sha256?: string; bytes?: number }>();
  readonly downloads: DownloadResult[] = [];
  /** Signatures of package URLs clients sent: secrets, for the leak check. */
  private readonly packageSignatures = new Set<string>();
  /** Blob behind each committed asset uploaded through the API. */
  readonly assetBlobs = new Map<string, string>();
  /** Assets of the seed: their image is a blank PNG of their size. */
  private readonly seededAssets = new Map<string, { width: number; height: number }>();
  /** Partner Center submissions that stay in progress until the admin API completes them. */
  private readonly heldSubmissions = new Set<string>();
  private readonly rate = new SlidingWindow();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Bumped by every reset, so work started before it (a download) does not touch the new state. */
  private generation = 0;
  private stopped = false;

  constructor(
    readonly host: Win32Host,
    private seed: Win32SeedOption = 'default',
    config?: Partial<Win32Config>,
  ) {
    this.config = mergeWin32Config(DEFAULT_WIN32_CONFIG, config);
    this.faults = new Win32Faults(() => this.resume());
    this.loadSeed(resolveWin32Seed(seed));
  }

  // ---- the API -------------------------------------------------------------

  /** One API request; `path` is the whole path without the leading slash (`submission/v1/product/...`). */
  async handle(req: IncomingMessage, method: string, path: string, url: URL): Promise<Reply> {
    const auth = this.host.identity.check(req.headers.authorization, Date.now(), WIN32_RESOURCE);
    if (!auth.ok) {
      return gateway(401, 'Unauthorized. Access token is missing or invalid.', {
        'WWW-Authenticate': 'Bearer error="invalid_token"',
      });
    }
    // The same Partner Center association as the v1.0 API: an Azure AD application never added
    // to Partner Center is refused (msstore-cli#131, whose CLI calls this API), and one added
    // without the Manager role may not submit (windows-dev-center-vsts-extension#63).
    if (auth.role === 'none') {
      return gateway(401, 'Unauthorized. Access token is missing or invalid.', {
        'WWW-Authenticate': 'Bearer error="invalid_token"',
      });
    }
    if (auth.role !== 'Manager') return gateway(403, 'Forbidden. The caller does not have the Manager role.');
    if (this.config.rateLimitEnabled) {
      const taken = this.rate.take(auth.tenantId, this.config.rateLimitPerMinute, this.config.rateLimitWindowMs);
      if (!taken.ok) {
        const s = taken.retryAfterSeconds;
        return gateway(429, `Rate limit is exceeded. Try again in ${s} seconds.`, { 'Retry-After': String(s) });
      }
    }
    const seller = req.headers['x-seller-account-id'];
    if (seller !== this.sellerId) {
      return gateway(
        401,
        seller === undefined
          ? 'Unauthorized. The X-Seller-Account-Id header is missing.'
          : 'Unauthorized. The caller has no access to the seller account in X-Seller-Account-Id.',
      );
    }
    const parts = path.split('/').filter(Boolean);
    // submission / v1 / product / {productId} / ...
    if (parts.length < 5 || parts[2]?.toLowerCase() !== 'product') return empty(404);
    let productId: string;
    try {
      productId = decodeURIComponent(parts[3]!);
    } catch {
      return empty(404);
    }
    const product = this.store.product(productId);
    if (!product) return empty(404);
    const rest = parts.slice(4);
    const portal = this.faults.portalSubmissionFor(product.productId, method, rest.join('/'));
    if (portal && !product.ongoingSubmissionId) this.startSubmission(product, 'PartnerCenter', { held: portal.held });
    try {
      return await routeProductCall(this, {
        product,
        method,
        rest,
        query: url.searchParams,
        body: () => jsonBody(req),
      });
    } catch (e) {
      if (e instanceof HttpError) return e.reply;
      return refusal(500, [
        oneError('internalservererror', `An unexpected error occurred: ${(e as Error).message}`, ''),
      ]);
    }
  }

  // ---- the draft's readiness ---------------------------------------------------

  /**
   * "Module Status Polling API: check the module readiness before submission can be created. Also
   * validates the package upload status." Not ready while a package upload runs, after a failed
   * one (its `packageuploaderror` stays until the next commit), with package changes not yet
   * committed, and for a while after every metadata or asset update.
   */
  moduleStatus(product: Win32Product, now = Date.now()): { isReady: boolean; errors: ResponseError[] } {
    const m = product.modules;
    const errors = [...m.packageErrors];
    if (m.stagedPackages && !m.packageUpload && m.packageErrors.length === 0) {
      errors.push(
        oneError('warning', 'The package changes of the draft are not committed: call packages/commit.', 'packages'),
      );
    }
    const isReady = !m.packageUpload && !m.stagedPackages && m.packageErrors.length === 0 && now >= m.busyUntil;
    return { isReady, errors };
  }

  /**
   * The refusal of a change while the product has a submission in progress ("For Active Submission.
   * If Exists, Fail with Error Message": Update Current Draft Submission Metadata API; the same for
   * Create Submission), or while its modules are not ready ("If all modules are in ready status to
   * allow Save Draft operation"). Neither the HTTP status nor the code is documented: the emulator
   * answers 200 with `isSuccess: false`, so only a client that reads `isSuccess` (both Microsoft
   * clients do) notices, and names the ongoing submission in `responseData` as documented.
   */
  refuseChange(product: Win32Product): Reply | undefined {
    const ongoing = product.ongoingSubmissionId;
    if (ongoing) {
      return refusal(
        200,
        [
          oneError(
            'submissioninprogress',
            `Submission ${ongoing} is in progress; the draft cannot be changed or submitted until it is published or has failed.`,
            'submission',
          ),
        ],
        { pollingUrl: this.submissionPollingUrl(product, ongoing), ongoingSubmissionId: ongoing },
      );
    }
    const status = this.moduleStatus(product);
    if (!status.isReady) {
      const why = product.modules.packageUpload
        ? 'the package upload is still running'
        : product.modules.packageErrors.length
          ? 'the last package upload failed'
          : product.modules.stagedPackages
            ? 'package changes are not committed'
            : 'a previous update is still being processed';
      return refusal(
        200,
        [
          oneError(
            'modulesnotready',
            `The draft's modules are not ready (${why}); poll ${this.statusUrl(product)} until isReady is true.`,
            'submission',
          ),
        ],
        { pollingUrl: this.statusUrl(product), ongoingSubmissionId: '' },
      );
    }
    return undefined;
  }

  markBusy(product: Win32Product): void {
    product.modules.busyUntil = Date.now() + this.config.moduleProcessingMs;
  }

  statusUrl(product: Win32Product): string {
    return `/submission/v1/product/${product.productId}/status`;
  }

  submissionPollingUrl(product: Win32Product, submissionId: string): string {
    return `/submission/v1/product/${product.productId}/submission/${submissionId}/status`;
  }

  assetUrl(id: string): string {
    return `${this.host.httpUrl()}/_emulator/win32/assets/${id}`;
  }

  /** Remembers the signature of a package URL a client sent (a secret the product must never leak). */
  notePackageUrl(packageUrl: string): void {
    const sig = /[?&]sig=([^&#]*)/i.exec(packageUrl)?.[1];
    if (!sig) return;
    try {
      this.packageSignatures.add(decodeURIComponent(sig));
    } catch {
      this.packageSignatures.add(sig);
    }
  }

  // ---- package upload ----------------------------------------------------------

  /** POST packages/commit: downloads every URL of the staged set the Store holds no copy of, then settles. */
  commitPackages(product: Win32Product): void {
    const staged = product.modules.stagedPackages;
    if (!staged) return;
    const generation = this.generation;
    const fresh = [...new Set(staged.map((p) => p.packageUrl))];
    product.modules.packageErrors = [];
    product.modules.packageUpload = { startedAt: Date.now(), urls: fresh.map(urlKey) };
    const refused = this.faults.packageUrlRefused(product.productId);
    void this.downloadAll(fresh, refused).then((results) => {
      if (generation !== this.generation || this.stopped) return;
      const errors: ResponseError[] = [];
      for (const r of results) {
        if (r.ok) continue;
        const pkg = staged.find((p) => urlKey(p.packageUrl) === r.url);
        errors.push(
          oneError(
            'packageuploaderror',
            `Package ${pkg?.packageId ?? ''} (${r.url}) could not be downloaded: ${r.error}.`,
            'packages',
          ),
        );
      }
      if (errors.length) {
        product.modules.packageUpload = undefined;
        product.modules.packageErrors = errors;
        return;
      }
      for (const r of results) this.retained.set(r.url, { sha256: r.sha256, bytes: r.bytes });
      const settle = setTimeout(() => {
        this.timers.delete(`packages:${product.productId}`);
        if (generation !== this.generation) return;
        product.draft.packages = staged;
        product.modules.stagedPackages = undefined;
        product.modules.packageUpload = undefined;
      }, this.config.packageProcessingMs);
      settle.unref();
      this.timers.set(`packages:${product.productId}`, settle);
    });
  }

  private async downloadAll(urls: string[], refused = false): Promise<DownloadResult[]> {
    const out: DownloadResult[] = [];
    const queue = urls.filter((u) => !this.retained.has(urlKey(u)));
    const worker = async (): Promise<void> => {
      for (let url = queue.shift(); url !== undefined; url = queue.shift()) {
        const sent = refused
          ? url.replace(/([?&]sig=)[^&#]*/i, '$1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D')
          : url;
        const result = await download(sent, this.config.packageDownloadTimeoutMs);
        this.downloads.push(result);
        if (this.downloads.length > DOWNLOAD_LOG_LIMIT)
          this.downloads.splice(0, this.downloads.length - DOWNLOAD_LOG_LIMIT);
        out.push(result);
      }
    };
    await Promise.all(Array.from({ length: DOWNLOAD_CONCURRENCY }, worker));
    return out;
  }

  // ---- submissions -------------------------------------------------------------

  startSubmission(
    product: Win32Product,
    createdIn: 'API' | 'PartnerCenter',
    options: { submissionId?: string; status?: PublishingStatus; held?: boolean } = {},
  ): Win32Submission {
    const now = new Date().toISOString();
    const status = options.status ?? 'UNKNOWN';
    // A new submission is a copy of the draft as it stands: later draft changes are not in it.
    const sub: Win32Submission = {
      submissionId: options.submissionId ?? this.store.ids.nextId(),
      productId: product.productId,
      createdIn,
      status,
      hasFailed: false,
      errors: [],
      statusHistory: [{ status, at: now }],
      content: copyContent(product.draft),
      createdAt: now,
    };
    this.store.submissions.set(sub.submissionId, sub);
    product.ongoingSubmissionId = sub.submissionId;
    if (options.held) this.heldSubmissions.add(sub.submissionId);
    else this.schedule(sub);
    return sub;
  }

  /** Ends a submission as the Store would: PUBLISHED (its content becomes the product's), or FAILED. */
  complete(sub: Win32Submission, status: 'PUBLISHED' | 'FAILED', errors: ResponseError[] = []): void {
    clearTimeout(this.timers.get(sub.submissionId));
    this.timers.delete(sub.submissionId);
    this.enter(sub, status);
    sub.hasFailed = status === 'FAILED';
    sub.errors = errors;
    const product = this.store.product(sub.productId);
    if (!product) return;
    if (product.ongoingSubmissionId === sub.submissionId) product.ongoingSubmissionId = undefined;
    if (status === 'PUBLISHED') product.lastPublishedSubmissionId = sub.submissionId;
  }

  private enter(sub: Win32Submission, status: PublishingStatus): void {
    sub.status = status;
    sub.statusHistory.push({ status, at: new Date().toISOString() });
  }

  /** UNKNOWN → INPROGRESS after `submissionStartMs`, INPROGRESS → PUBLISHED (or FAILED) after `certificationMs`. */
  private schedule(sub: Win32Submission): void {
    clearTimeout(this.timers.get(sub.submissionId));
    this.timers.delete(sub.submissionId);
    if (this.stopped || (sub.status !== 'UNKNOWN' && sub.status !== 'INPROGRESS')) return;
    if (this.faults.isStuck(sub.productId, sub.submissionId, sub.status)) return;
    const delay = sub.status === 'UNKNOWN' ? this.config.submissionStartMs : this.config.certificationMs;
    const timer = setTimeout(() => {
      this.timers.delete(sub.submissionId);
      if (sub.status === 'UNKNOWN') {
        this.enter(sub, 'INPROGRESS');
        this.schedule(sub);
        return;
      }
      const failure = this.faults.certificationFailure(sub.productId);
      if (failure) {
        this.complete(sub, 'FAILED', [
          oneError(
            failure.code ?? 'certificationfailed',
            failure.message ?? 'The submission failed certification; see the certification report in Partner Center.',
            'submission',
          ),
        ]);
      } else this.complete(sub, 'PUBLISHED');
    }, delay);
    timer.unref();
    this.timers.set(sub.submissionId, timer);
  }

  /** Re-arms submissions that wait without a timer (a stuck fault was removed, timings changed); held ones stay. */
  resume(): void {
    for (const sub of this.store.submissions.values()) {
      if (this.heldSubmissions.has(sub.submissionId) || this.timers.has(sub.submissionId)) continue;
      if (sub.status === 'UNKNOWN' || sub.status === 'INPROGRESS') this.schedule(sub);
    }
  }

  // ---- admin -------------------------------------------------------------------

  configure(partial: unknown): Win32Config {
    this.config = mergeWin32Config(this.config, partial);
    this.resume();
    return this.config;
  }

  reset(seed?: Win32SeedOption): void {
    const next = seed === undefined ? this.seed : seed;
    const resolved = resolveWin32Seed(next);
    // Validate first, so a bad seed leaves the running state alone.
    applyWin32Seed(
      new Win32Store(),
      resolved,
      () => '',
      () => undefined,
    );
    this.seed = next;
    this.generation++;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.heldSubmissions.clear();
    this.seededAssets.clear();
    this.assetBlobs.clear();
    this.store.clear();
    this.retained.clear();
    this.downloads.length = 0;
    this.rate.clear();
    this.faults.clear();
    this.loadSeed(resolved);
  }

  /** Signatures of every package URL received: searched for by the leak check. */
  secrets(): string[] {
    return [...this.packageSignatures];
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  state(): Record<string, unknown> {
    return {
      sellerId: this.sellerId,
      products: [...this.store.products.values()].map((p) => ({
        productId: p.productId,
        name: p.name,
        ongoingSubmissionId: p.ongoingSubmissionId ?? null,
        lastPublishedSubmissionId: p.lastPublishedSubmissionId ?? null,
        moduleStatus: this.moduleStatus(p),
        // Package URLs without their query: a SAS there is a secret.
        packages: p.draft.packages.map((x) => ({ ...renderPackage(x), packageUrl: urlKey(x.packageUrl) })),
        stagedPackages:
          p.modules.stagedPackages?.map((x) => ({ ...renderPackage(x), packageUrl: urlKey(x.packageUrl) })) ?? null,
        packageUpload: p.modules.packageUpload ?? null,
        listings: [...p.draft.listings.values()].map(renderListing),
        assets: [...p.draft.assets.entries()].map(([lang, a]) => renderAssets(lang, a)),
        properties: structuredClone(p.draft.properties),
        availability: structuredClone(p.draft.availability),
      })),
      submissions: [...this.store.submissions.values()].map((s) => ({
        submissionId: s.submissionId,
        productId: s.productId,
        createdIn: s.createdIn,
        status: s.status,
        hasFailed: s.hasFailed,
        errors: s.errors,
        statusHistory: s.statusHistory,
        packages: s.content.packages.map((x) => ({ ...renderPackage(x), packageUrl: urlKey(x.packageUrl) })),
        listings: [...s.content.listings.values()].map(renderListing),
        assets: [...s.content.assets.entries()].map(([lang, a]) => renderAssets(lang, a)),
        createdAt: s.createdAt,
      })),
      downloads: this.downloads.map((d) => ({ ...d })),
      pendingAssets: this.store.pendingAssets.size,
      faults: this.faults.list(),
      config: { ...this.config },
    };
  }

  /** The admin API under /_emulator/win32/ (`path` is below it). */
  async admin(method: string, path: string, body: () => Promise<unknown>): Promise<Reply> {
    const [first, second, third] = path.split('/').filter(Boolean);
    try {
      if (first === 'state' && method === 'GET') return json(200, this.state());
      if (first === 'reset' && method === 'POST') {
        const seed = await body();
        this.reset(seed === undefined || seed === null ? undefined : seed);
        return json(200, { ok: true });
      }
      if (first === 'config' && method === 'GET') return json(200, this.config);
      if (first === 'config' && method === 'PUT') return json(200, this.configure(await body()));
      if (first === 'faults' && !second) {
        if (method === 'GET') return json(200, this.faults.list());
        if (method === 'POST') return json(201, this.faults.add(await body()));
        if (method === 'DELETE') {
          this.faults.clear();
          return empty(204);
        }
      }
      if (first === 'faults' && second && method === 'DELETE')
        return this.faults.remove(second) ? empty(204) : empty(404);
      if (first === 'submissions' && second && third === 'complete' && method === 'POST') {
        const sub = this.store.submissions.get(second);
        if (!sub) return empty(404);
        if (sub.status !== 'INPROGRESS' && sub.status !== 'UNKNOWN')
          return json(409, { error: `submission is ${sub.status} already` });
        const spec = (await body()) as { status?: string; message?: string } | undefined;
        const status = spec?.status === 'FAILED' ? 'FAILED' : 'PUBLISHED';
        this.heldSubmissions.delete(sub.submissionId);
        this.complete(
          sub,
          status,
          status === 'FAILED'
            ? [oneError('certificationfailed', spec?.message ?? 'The submission failed.', 'submission')]
            : [],
        );
        return json(200, { status: sub.status });
      }
      if (first === 'products' && second && third === 'portalSubmission' && method === 'POST') {
        const product = this.store.product(second);
        if (!product) return empty(404);
        if (product.ongoingSubmissionId)
          return json(409, { error: `submission ${product.ongoingSubmissionId} is in progress` });
        const spec = (await body()) as { held?: boolean } | undefined;
        const held = spec?.held !== false;
        const sub = this.startSubmission(product, 'PartnerCenter', { status: 'INPROGRESS', held });
        return json(201, { submissionId: sub.submissionId });
      }
      if (first === 'assets' && second && method === 'GET') return await this.assetImage(second);
    } catch (e) {
      return json(400, { error: (e as Error).message });
    }
    return empty(404);
  }

  /** The image of a committed asset, as its `assetUrl` serves it (the Store's CDN does, publicly). */
  private async assetImage(id: string): Promise<Reply> {
    const seeded = this.seededAssets.get(id);
    if (seeded)
      // Made when asked for: a seeded asset has no file of its own.
      return { status: 200, body: blankPng(seeded.width, seeded.height), headers: { 'Content-Type': 'image/png' } };
    const blob = this.assetBlobs.get(id);
    if (!blob) return empty(404);
    const data = await this.host.ingest
      .getBlobClient(blob)
      .downloadToBuffer()
      .catch(() => undefined);
    return data ? { status: 200, body: data, headers: { 'Content-Type': 'image/png' } } : empty(404);
  }

  private loadSeed(seed: Win32Seed): void {
    const ongoing = applyWin32Seed(
      this.store,
      seed,
      (id) => this.assetUrl(id),
      (url) => this.retained.set(urlKey(url), {}),
    );
    for (const product of this.store.products.values())
      for (const a of product.draft.assets.values())
        for (const x of [...a.storeLogos, ...a.screenshots]) this.seededAssets.set(x.id, x.imageSize);
    for (const o of ongoing) {
      const product = this.store.product(o.productId)!;
      this.startSubmission(product, 'PartnerCenter', { submissionId: o.submissionId, status: o.status, held: true });
    }
  }
}

/** The JSON body, or undefined when empty; 400 in the API's wrapper when it is not JSON. */
async function jsonBody(req: IncomingMessage): Promise<unknown> {
  const raw = await readSmallBody(req, JSON_BODY_LIMIT);
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new HttpError(refusal(400, [oneError('badrequest', 'The request body is not valid JSON.', 'request')]));
  }
}
