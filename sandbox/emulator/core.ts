import { BlobServiceClient, type ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { type EmulatorConfig, mergeConfig } from './config';
import { Faults } from './faults';
import { type Reply, json } from './http';
import { Identity } from './identity';
import { Lifecycle } from './lifecycle';
import { SlidingWindow } from './rateLimit';
import { SasSigner } from './sas';
import { type SeedData, applySeed } from './seed';
import { Store, type Submission, type UploadTarget } from './state';
import { UploadProxy } from './uploadProxy';
import { Win32Emulator } from './win32';
import type { Win32Config } from './win32/config';
import type { Win32SeedOption } from './win32/seed';

export const INGEST_CONTAINER = 'ingestion';
const REQUEST_LOG_LIMIT = 5000;

export interface RequestLogEntry {
  /** Which listener: the Store API, the MSI/EXE API, the HTTPS token host, the upload proxy. */
  server: 'api' | 'win32' | 'token' | 'upload';
  method: string;
  /** Without the query: SAS signatures live there. */
  path: string;
  /** 0 while unanswered, and for good when no answer was sent (hang, drop, client gone). */
  status: number;
  correlationId: string;
  time: string;
  /** Set when a fault shaped the answer. */
  fault?: string;
}

/** Everything the listeners share: the store, the lifecycle, identity, faults, limits, the log. */
export class EmulatorCore {
  config: EmulatorConfig;
  readonly store = new Store();
  readonly identity: Identity;
  readonly faults: Faults;
  readonly lifecycle: Lifecycle;
  readonly signer: SasSigner;
  readonly proxy: UploadProxy;
  readonly ingest: ContainerClient;
  readonly requestLog: RequestLogEntry[] = [];
  /** The MSI/EXE submission API (sandbox/emulator/win32), on the same listener. */
  readonly win32: Win32Emulator;
  private readonly apiRate = new SlidingWindow();
  private readonly commitRate = new SlidingWindow();
  private readonly dailyRate = new SlidingWindow();
  /** http://127.0.0.1:PORT once listening; upload URLs point there. */
  httpUrl = '';

  constructor(
    ingestConnectionString: string,
    config: Partial<EmulatorConfig> | undefined,
    private seed: SeedData,
    base: EmulatorConfig,
    win32?: { seed?: Win32SeedOption; config?: Partial<Win32Config> },
  ) {
    this.config = mergeConfig(base, config);
    this.identity = new Identity(() => this.config.tokenLifetimeSeconds);
    this.faults = new Faults(() => this.lifecycle.resume());
    const service = BlobServiceClient.fromConnectionString(ingestConnectionString);
    if (!(service.credential instanceof StorageSharedKeyCredential))
      throw new Error('the ingest connection string must carry an account key');
    this.ingest = service.getContainerClient(INGEST_CONTAINER);
    this.signer = new SasSigner(service.accountName, INGEST_CONTAINER);
    this.proxy = new UploadProxy(this.signer, {
      endpoint: service.url.replace(/\/+$/, ''),
      credential: service.credential,
    });
    this.win32 = new Win32Emulator(
      {
        identity: this.identity,
        signer: this.signer,
        ingest: this.ingest,
        httpUrl: () => this.httpUrl,
        sasVersion: () => this.config.uploadSasVersion,
      },
      win32?.seed,
      win32?.config,
    );
    this.lifecycle = new Lifecycle({
      store: this.store,
      config: () => this.config,
      faults: this.faults,
      blob: (name) => this.ingest.getBlobClient(name),
    });
  }

  /** Creates the ingestion container and loads the seed. */
  async init(): Promise<void> {
    await this.ingest.createIfNotExists();
    this.loadSeed(this.seed);
  }

  mintUpload(): UploadTarget {
    return this.signer.mint(this.httpUrl, this.config.uploadSasVersion, this.config.uploadUrlLifetimeSeconds);
  }

  /** Back to seed data (the given one, or the one of the last reset/start): products, faults, log and rate windows. */
  reset(seed?: SeedData): void {
    if (seed) {
      // Validate first, so a bad seed leaves the running state alone.
      applySeed(new Store(), seed, () => ({ blobName: 'x', url: 'x', expiresOn: '' }));
      this.seed = seed;
    }
    this.lifecycle.cancelAll();
    this.store.clear();
    this.faults.clear();
    this.requestLog.length = 0;
    this.apiRate.clear();
    this.commitRate.clear();
    this.dailyRate.clear();
    this.loadSeed(this.seed);
    this.win32.reset();
  }

  configure(partial: unknown): EmulatorConfig {
    this.config = mergeConfig(this.config, partial);
    this.lifecycle.resume();
    return this.config;
  }

  /** Removes a submission and its upload, as the service drops an uncommitted one. */
  discardSubmission(sub: Submission): void {
    const product = this.store.productOf(sub);
    if (product?.pendingSubmissionId === sub.id) product.pendingSubmissionId = undefined;
    this.lifecycle.cancel(sub.id);
    this.store.submissions.delete(sub.id);
    if (sub.upload)
      void this.ingest
        .getBlobClient(sub.upload.blobName)
        .deleteIfExists()
        .catch(() => undefined);
  }

  /** 429 for the API rate limit of this tenant, or undefined when the call may go on. */
  takeApiAllowance(tenantId: string): Reply | undefined {
    if (!this.config.rateLimitEnabled) return undefined;
    if (this.config.dailyRateLimit > 0) {
      const day = this.dailyRate.peek(tenantId, this.config.dailyRateLimit, this.config.dailyRateWindowMs);
      if (!day.ok) return tooMany(day);
    }
    const minute = tooMany(this.apiRate.take(tenantId, this.config.rateLimitPerMinute, this.config.rateLimitWindowMs));
    if (minute) return minute;
    if (this.config.dailyRateLimit > 0)
      this.dailyRate.take(tenantId, this.config.dailyRateLimit, this.config.dailyRateWindowMs);
    return undefined;
  }

  takeCommitAllowance(tenantId: string): Reply | undefined {
    if (!this.config.rateLimitEnabled || this.config.commitRateLimitPerMinute <= 0) return undefined;
    return tooMany(this.commitRate.take(tenantId, this.config.commitRateLimitPerMinute, this.config.rateLimitWindowMs));
  }

  log(entry: RequestLogEntry): void {
    this.requestLog.push(entry);
    if (this.requestLog.length > REQUEST_LOG_LIMIT)
      this.requestLog.splice(0, this.requestLog.length - REQUEST_LOG_LIMIT);
  }

  /** Every secret handed out so far, in the forms a client may have written them down. */
  secrets(): { clientSecret: string; accessTokens: string[]; sasSignatures: string[]; all: string[] } {
    const sasSignatures = [...this.signer.minted, ...this.win32.secrets()];
    const accessTokens = this.identity.issuedTokens();
    const forms = sasSignatures.flatMap((sig) => [
      sig,
      encodeURIComponent(sig),
      encodeURIComponent(sig).replace(/%2B/g, '+'),
    ]);
    return {
      clientSecret: this.identity.clientSecret,
      accessTokens,
      sasSignatures,
      all: [...new Set([...this.identity.clientSecrets(), ...accessTokens, ...forms])],
    };
  }

  stop(): void {
    this.lifecycle.stop();
    this.win32.stop();
    this.proxy.close();
  }

  private loadSeed(seed: SeedData): void {
    applySeed(this.store, seed, () => this.mintUpload());
  }
}

/**
 * The Store's 429: `{"statusCode":429,"message":"Rate limit is exceeded. Try again in N seconds."}`
 * (msstore-cli#125). No Retry-After header: no report shows one, so a client must read the body.
 */
function tooMany(result: { ok: true } | { ok: false; retryAfterSeconds: number }): Reply | undefined {
  if (result.ok) return undefined;
  const seconds = result.retryAfterSeconds;
  return json(429, { statusCode: 429, message: `Rate limit is exceeded. Try again in ${seconds} seconds.` });
}
