import { randomUUID } from 'node:crypto';
import { BlobItem, ContainerClient, RestError } from '@azure/storage-blob';
import type { QueueServiceClient } from '@azure/storage-queue';
import type { ParameterBinding, RegisteredFunction, RpcTypedData, Worker } from './core';
import type { Logger } from './log';
import { text } from './bindings';
import { blobService, connectionString, resolveSettingExpressions } from './storage';

const CATEGORY = 'Host.Triggers.Blob';
export const RECEIPTS_CONTAINER = 'azure-webjobs-hosts';
export const POISON_QUEUE = 'webjobs-blobtrigger-poison';
/** The Functions blob trigger gives up after this many tries and sends the blob to the poison queue. */
export const MAX_TRIES = 5;

interface BlobFunction {
  fn: RegisteredFunction;
  functionId: string;
  connectionName: string;
  containerName: string;
  container: ContainerClient;
  pattern: RegExp;
  params: string[];
  sdkBinding: boolean;
  dataType: string;
  /** `source: 'EventGrid'`: no scan; versions arrive through the webhook (`deliver`). */
  eventGrid: boolean;
  /** `name\netag` of versions whose receipt says they are done. */
  done: Set<string>;
  /** Versions queued or running in this process. */
  inFlight: Set<string>;
  /** Versions with a receipt left incomplete by an earlier host: fired again (at least once). */
  stale: Set<string>;
}

/** Compiles the part of a blob path after the container (`{name}.zip`) into a matcher. */
export function compileBlobPattern(pattern: string): { regex: RegExp; params: string[] } {
  const params: string[] = [];
  let re = '';
  let last = 0;
  const token = /\{([^{}]+)\}/g;
  let m: RegExpExecArray | null;
  while ((m = token.exec(pattern))) {
    re += pattern.slice(last, m.index).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    params.push(m[1] as string);
    re += '(.+)';
    last = m.index + m[0].length;
  }
  re += pattern.slice(last).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return { regex: new RegExp(`^${re || '.+'}$`), params };
}

function quoteEtag(etag: string | undefined): string | undefined {
  if (!etag) return undefined;
  return etag.startsWith('"') ? etag : `"${etag}"`;
}

export interface BlobTriggerOptions {
  worker: Worker;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  hostId: string;
  pollIntervalMs: number;
  maxParallel: number;
  /** Where receipts (container azure-webjobs-hosts) and the poison queue live: the host's own storage. */
  hostStorage: { receipts: ContainerClient; queues: QueueServiceClient };
  extraInputs: (fn: RegisteredFunction) => ParameterBinding[];
}

/**
 * The polling blob trigger: scans each watched container, fires once per blob version
 * (name, ETag) using blob receipts so a restarted host does not fire old blobs again.
 * Receipts are written when a version is queued, so delivery is at least once.
 */
export class BlobTriggerListener {
  private readonly watched: BlobFunction[] = [];
  private readonly queue: Array<() => Promise<void>> = [];
  private active = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private scanning: Promise<void> | undefined;

  constructor(private readonly o: BlobTriggerOptions) {
    for (const fn of o.worker.functions.values()) {
      if ((fn.trigger.type ?? '').toLowerCase() !== 'blobtrigger') continue;
      const what = `blob trigger of function '${fn.name}'`;
      const path = resolveSettingExpressions(text(fn.trigger.path), o.env, what);
      const slash = path.indexOf('/');
      const containerName = slash < 0 ? path : path.slice(0, slash);
      if (!containerName) throw new Error(`${what}: path '${text(fn.trigger.path)}' names no container`);
      const { regex, params } = compileBlobPattern(slash < 0 ? '' : path.slice(slash + 1));
      const connectionName =
        typeof fn.trigger.connection === 'string' && fn.trigger.connection
          ? fn.trigger.connection
          : 'AzureWebJobsStorage';
      const service = blobService(connectionString(connectionName, o.env, what));
      this.watched.push({
        fn,
        functionId: `Host.Functions.${fn.name}`,
        connectionName,
        containerName,
        container: service.getContainerClient(containerName),
        pattern: regex,
        params,
        sdkBinding: fn.trigger.properties?.supportsDeferredBinding === 'true',
        dataType: text(fn.trigger.dataType).toLowerCase(),
        eventGrid: text(fn.trigger.source).toLowerCase() === 'eventgrid',
        done: new Set(),
        inFlight: new Set(),
        stale: new Set(),
      });
    }
  }

  get functionCount(): number {
    return this.watched.length;
  }

  private receiptName(bf: BlobFunction, blobName: string, etag: string): string {
    return `blobreceipts/${this.o.hostId}/${bf.functionId}/${etag}/${bf.containerName}/${blobName}`;
  }

  async start(): Promise<void> {
    if (this.watched.length === 0) return;
    await this.o.hostStorage.receipts.createIfNotExists();
    for (const bf of this.watched) {
      const prefix = `blobreceipts/${this.o.hostId}/${bf.functionId}/`;
      for await (const item of this.o.hostStorage.receipts.listBlobsFlat({ prefix, includeMetadata: true })) {
        const rest = item.name.slice(prefix.length);
        const etagEnd = rest.indexOf('/');
        const etag = rest.slice(0, etagEnd);
        const afterEtag = rest.slice(etagEnd + 1);
        if (!afterEtag.startsWith(`${bf.containerName}/`)) continue;
        const key = `${afterEtag.slice(bf.containerName.length + 1)}\n${etag}`;
        if (item.metadata?.iscompleted === 'true') bf.done.add(key);
        else bf.stale.add(key);
      }
      this.o.logger.info(
        CATEGORY,
        bf.eventGrid
          ? `Function '${bf.fn.name}' takes container '${bf.containerName}' from Event Grid at /runtime/webhooks/blobs?functionName=${bf.functionId} (${bf.done.size} blob versions already receipted)`
          : `Watching container '${bf.containerName}' for function '${bf.fn.name}' (${bf.done.size} blob versions already receipted)`,
      );
    }
    await this.scan();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.scanning = this.scan().finally(() => this.schedule());
    }, this.o.pollIntervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.queue.length = 0;
    await this.scanning?.catch(() => undefined);
  }

  /** The functions whose source is Event Grid, by the id the webhook names them with (`Host.Functions.<name>`). */
  eventGridFunctionIds(): string[] {
    return this.watched.filter((bf) => bf.eventGrid).map((bf) => bf.functionId);
  }

  /**
   * A `BlobCreated` event for an Event Grid function, as the extension handles what its webhook
   * queued: the same receipts as the polling path (one firing per blob version, whatever the
   * number of deliveries), the same tries and poison queue. Returns what was done with it.
   */
  async deliver(
    functionId: string,
    blob: { container: string; name: string; etag?: string },
  ): Promise<'queued' | 'duplicate' | 'ignored'> {
    const bf = this.watched.find((w) => w.eventGrid && w.functionId.toLowerCase() === functionId.toLowerCase());
    if (!bf || this.stopped) return 'ignored';
    const m = blob.container === bf.containerName ? bf.pattern.exec(blob.name) : null;
    if (!m) return 'ignored';
    let etag = quoteEtag(blob.etag);
    if (!etag) {
      try {
        etag = quoteEtag((await bf.container.getBlobClient(blob.name).getProperties()).etag);
      } catch {
        return 'ignored';
      }
    }
    if (!etag) return 'ignored';
    const key = `${blob.name}\n${etag}`;
    const duplicate = (): 'duplicate' => {
      this.o.logger.info(
        CATEGORY,
        `Event for ${bf.containerName}/${blob.name} (ETag ${etag}) already received for '${bf.fn.name}'; not fired again`,
      );
      return 'duplicate';
    };
    if (bf.done.has(key) || bf.inFlight.has(key)) return duplicate();
    if (!(await this.claim(bf, blob.name, etag, bf.stale.has(key)))) return duplicate();
    bf.stale.delete(key);
    bf.inFlight.add(key);
    const bound: Record<string, string> = {};
    bf.params.forEach((p, i) => (bound[p] = m[i + 1] as string));
    this.enqueue(() => this.process(bf, { name: blob.name } as BlobItem, etag, bound));
    return 'queued';
  }

  private async scan(): Promise<void> {
    for (const bf of this.watched) {
      if (this.stopped) return;
      if (bf.eventGrid) continue;
      try {
        for await (const item of bf.container.listBlobsFlat({ includeMetadata: true })) {
          const m = bf.pattern.exec(item.name);
          // Listings give the ETag bare, headers quoted; the quoted form is the one used everywhere.
          const etag = quoteEtag(item.properties.etag);
          if (!m || !etag) continue;
          const key = `${item.name}\n${etag}`;
          if (bf.done.has(key) || bf.inFlight.has(key)) continue;
          if (!(await this.claim(bf, item.name, etag, bf.stale.has(key)))) continue;
          bf.stale.delete(key);
          bf.inFlight.add(key);
          const bound: Record<string, string> = {};
          bf.params.forEach((p, i) => (bound[p] = m[i + 1] as string));
          this.enqueue(() => this.process(bf, item, etag, bound));
        }
      } catch (e) {
        if (e instanceof RestError && e.statusCode === 404) continue; // container not created yet, as with the real trigger
        this.o.logger.error(
          CATEGORY,
          `Scan of container '${bf.containerName}' for '${bf.fn.name}' failed: ${(e as Error).message}`,
        );
      }
    }
  }

  /** Writes the receipt before queuing the version; a version someone else receipted is skipped. */
  private async claim(
    bf: BlobFunction,
    blobName: string,
    etag: string,
    staleFromEarlierHost: boolean,
  ): Promise<boolean> {
    const receipt = this.o.hostStorage.receipts.getBlockBlobClient(this.receiptName(bf, blobName, etag));
    if (staleFromEarlierHost) return true;
    try {
      await receipt.upload('', 0, {
        conditions: { ifNoneMatch: '*' },
        metadata: { functionid: bf.functionId, etag, iscompleted: 'false', queuedat: new Date().toISOString() },
      });
      return true;
    } catch (e) {
      if (!(e instanceof RestError && (e.statusCode === 409 || e.statusCode === 412))) throw e;
      const props = await receipt.getProperties();
      if (props.metadata?.iscompleted === 'true') bf.done.add(`${blobName}\n${etag}`);
      return false;
    }
  }

  private enqueue(job: () => Promise<void>): void {
    this.queue.push(job);
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.active < this.o.maxParallel && this.queue.length > 0) {
      const job = this.queue.shift() as () => Promise<void>;
      this.active++;
      void job()
        .catch((e: Error) => this.o.logger.error(CATEGORY, `blob trigger bookkeeping failed: ${e.message}`))
        .finally(() => {
          this.active--;
          this.pump();
        });
    }
  }

  private async process(bf: BlobFunction, item: BlobItem, etag: string, bound: Record<string, string>): Promise<void> {
    const key = `${item.name}\n${etag}`;
    const blob = bf.container.getBlobClient(item.name);
    let lastError = '';
    for (let attempt = 1; attempt <= MAX_TRIES && !this.stopped; attempt++) {
      let props;
      try {
        props = await blob.getProperties();
      } catch (e) {
        if (e instanceof RestError && e.statusCode === 404)
          return this.finish(bf, item.name, etag, 'the blob was deleted before it could be processed');
        throw e;
      }
      // The trigger names one version; a newer one fires on its own.
      if (props.etag !== etag) return this.finish(bf, item.name, etag, 'the blob changed before it could be processed');
      let data: RpcTypedData;
      if (bf.sdkBinding) {
        data = {
          modelBindingData: {
            version: '1.0',
            source: 'AzureStorageBlobs',
            contentType: 'application/json',
            content: Buffer.from(
              JSON.stringify({ Connection: bf.connectionName, ContainerName: bf.containerName, BlobName: item.name }),
            ),
          },
        };
      } else {
        let content: Buffer;
        try {
          content = await blob.downloadToBuffer(0, undefined, { conditions: { ifMatch: etag } });
        } catch (e) {
          if (e instanceof RestError && (e.statusCode === 412 || e.statusCode === 404))
            return this.finish(bf, item.name, etag, 'the blob changed before it could be read');
          throw e;
        }
        data = bf.dataType === 'string' ? { string: content.toString('utf8') } : { bytes: content };
      }
      const properties = {
        BlobType: props.blobType ?? 'BlockBlob',
        ContentLength: props.contentLength,
        ContentType: props.contentType,
        ContentEncoding: props.contentEncoding,
        ContentLanguage: props.contentLanguage,
        ContentDisposition: props.contentDisposition,
        CacheControl: props.cacheControl,
        ContentHash: props.contentMD5 ? Buffer.from(props.contentMD5).toString('base64') : undefined,
        ETag: props.etag,
        LastModified: props.lastModified?.toISOString(),
        CreatedOn: props.createdOn?.toISOString(),
        LeaseState: props.leaseState,
        LeaseStatus: props.leaseStatus,
        AccessTier: props.accessTier,
      };
      const triggerMetadata: Record<string, RpcTypedData> = {
        BlobTrigger: { string: `${bf.containerName}/${item.name}` },
        Uri: { string: blob.url },
        Properties: { json: JSON.stringify(properties) },
        Metadata: { json: JSON.stringify(props.metadata ?? {}) },
        sys: {
          json: JSON.stringify({ MethodName: bf.fn.name, UtcNow: new Date().toISOString(), RandGuid: randomUUID() }),
        },
      };
      for (const [name, value] of Object.entries(bound)) triggerMetadata[name] = { string: value };
      try {
        await this.o.worker.invoke(bf.fn.name, {
          inputData: [{ name: bf.fn.triggerBindingName, data }, ...this.o.extraInputs(bf.fn)],
          triggerMetadata,
          reason: `New blob detected(${bf.eventGrid ? 'EventGrid' : 'LogsAndContainerScan'}): ${bf.containerName}/${item.name}`,
        });
        return this.finish(bf, item.name, etag);
      } catch (e) {
        lastError = e instanceof Error ? e.message : String(e);
        this.o.logger.warn(
          CATEGORY,
          `'${bf.fn.name}' failed on ${bf.containerName}/${item.name} (try ${attempt} of ${MAX_TRIES})`,
        );
      }
    }
    if (this.stopped) {
      bf.inFlight.delete(key);
      return;
    }
    await this.poison(bf, item.name, etag, lastError);
  }

  private async finish(
    bf: BlobFunction,
    blobName: string,
    etag: string,
    skipped?: string,
    poisoned = false,
  ): Promise<void> {
    const key = `${blobName}\n${etag}`;
    if (skipped)
      this.o.logger.info(CATEGORY, `Skipped ${bf.containerName}/${blobName} for '${bf.fn.name}': ${skipped}`);
    const receipt = this.o.hostStorage.receipts.getBlockBlobClient(this.receiptName(bf, blobName, etag));
    await receipt.setMetadata({
      functionid: bf.functionId,
      etag,
      iscompleted: 'true',
      completedat: new Date().toISOString(),
      ...(poisoned ? { poisoned: 'true' } : {}),
    });
    bf.inFlight.delete(key);
    bf.done.add(key);
  }

  private async poison(bf: BlobFunction, blobName: string, etag: string, lastError: string): Promise<void> {
    const queue = this.o.hostStorage.queues.getQueueClient(POISON_QUEUE);
    await queue.createIfNotExists();
    const message = JSON.stringify({
      Type: 'BlobTrigger',
      FunctionId: bf.functionId,
      BlobType: 'BlockBlob',
      ContainerName: bf.containerName,
      BlobName: blobName,
      ETag: etag,
    });
    // Like the Functions host, queue messages are base64-encoded.
    await queue.sendMessage(Buffer.from(message).toString('base64'));
    this.o.logger.error(
      CATEGORY,
      `'${bf.fn.name}' failed ${MAX_TRIES} times on ${bf.containerName}/${blobName}; moved to queue '${POISON_QUEUE}'. Last error: ${lastError.split('\n')[0]}`,
    );
    await this.finish(bf, blobName, etag, undefined, true);
  }
}
