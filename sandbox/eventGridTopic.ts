/**
 * A sandbox Event Grid system topic on an Azurite container, with one webhook subscription: what
 * Azure's storage account topic and the subscription in infra/eventgrid.bicep do for the blob
 * trigger (`source: 'EventGrid'`), since Azurite emits no events.
 *
 * - It watches the container (a listing every `pollIntervalMs`) and emits `Microsoft.Storage.BlobCreated`
 *   for each new blob version after the subscription exists (blobs already there are not events), in the
 *   Event Grid schema (a JSON array, `aeg-event-type: Notification`) or the CloudEvents 1.0 schema (one
 *   `application/cloudevents+json` object), with the blob's ETag, size and URL in `data` as storage sends them.
 * - First the validation handshake: Event Grid schema, a `SubscriptionValidationEvent` the endpoint must answer
 *   with its `validationResponse`; CloudEvents, an `OPTIONS` request whose `WebHook-Allowed-Origin` must be
 *   echoed. A subscription whose handshake fails is not created (start rejects), as in Azure.
 * - Delivery is at least once: an answer other than 200-204 is retried after the next delay of `retryDelaysMs`
 *   (Event Grid's schedule is 10 s, 30 s, 1 min, 5 min, ...; 30 attempts), 400 and 413 are not retried
 *   (dead-lettered), and a delivery whose answer was lost is sent again: receivers must dedupe.
 * Sources: learn.microsoft.com Event Grid "Delivery and retry", "Webhook event delivery" (endpoint validation),
 * "Azure Blob Storage as an Event Grid source" (the event's shape).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';

export type DeliverySchema = 'EventGridSchema' | 'CloudEventSchemaV1_0';

export interface TopicOptions {
  container: ContainerClient;
  /** The subscription's endpoint, e.g. `<host>/runtime/webhooks/blobs?functionName=Host.Functions.<name>`. */
  endpoint: string;
  schema?: DeliverySchema;
  /** Only subjects ending so (`.zip`, as the bicep's filter). */
  subjectEndsWith?: string;
  pollIntervalMs?: number;
  /** Waits before each retry of a delivery; its length + 1 is the number of attempts. */
  retryDelaysMs?: number[];
  log?: (line: string) => void;
}

export interface Delivery {
  subject: string;
  etag: string;
  attempts: number;
  /** 'pending' while attempts go on; 'delivered', or 'deadLettered' after a 400/413 or the last attempt. */
  result: 'pending' | 'delivered' | 'deadLettered';
  statuses: number[];
}

export interface RunningTopic {
  deliveries: Delivery[];
  schema: DeliverySchema;
  /** Resolves once every version seen so far has been delivered or dead-lettered. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const DEFAULT_RETRIES = [200, 500, 1000, 2000, 5000, 10_000];

export async function startEventGridTopic(o: TopicOptions): Promise<RunningTopic> {
  const schema = o.schema ?? 'EventGridSchema';
  const log = o.log ?? (() => undefined);
  const account = o.container.accountName;
  const topic = `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/sandbox/providers/Microsoft.Storage/storageAccounts/${account}`;
  await handshake(o.endpoint, schema, topic);
  log(`Event Grid subscription validated (${schema}) for ${o.container.containerName}`);

  const seen = new Set<string>();
  for await (const b of o.container.listBlobsFlat()) seen.add(`${b.name}\n${b.properties.etag ?? ''}`);
  const deliveries: Delivery[] = [];
  let pending = Promise.resolve();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const scan = async (): Promise<void> => {
    for await (const b of o.container.listBlobsFlat()) {
      const etag = b.properties.etag ?? '';
      const key = `${b.name}\n${etag}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const subject = `/blobServices/default/containers/${o.container.containerName}/blobs/${b.name}`;
      if (o.subjectEndsWith && !subject.endsWith(o.subjectEndsWith)) continue;
      const data = {
        api: 'PutBlockList',
        clientRequestId: randomUUID(),
        requestId: randomUUID(),
        eTag: etag,
        contentType: b.properties.contentType ?? 'application/octet-stream',
        contentLength: b.properties.contentLength ?? 0,
        blobType: 'BlockBlob',
        url: o.container.getBlobClient(b.name).url,
        sequencer: randomBytes(16).toString('hex'),
        storageDiagnostics: { batchId: randomUUID() },
      };
      const id = randomUUID();
      const time = new Date().toISOString();
      const body =
        schema === 'EventGridSchema'
          ? [
              {
                topic,
                subject,
                eventType: 'Microsoft.Storage.BlobCreated',
                id,
                data,
                dataVersion: '',
                metadataVersion: '1',
                eventTime: time,
              },
            ]
          : { specversion: '1.0', type: 'Microsoft.Storage.BlobCreated', source: topic, id, time, subject, data };
      pending = pending.then(() => deliver(subject, etag, body));
    }
  };

  const deliver = async (subject: string, etag: string, body: unknown): Promise<void> => {
    const record: Delivery = { subject, etag, attempts: 0, result: 'pending', statuses: [] };
    deliveries.push(record);
    const delays = o.retryDelaysMs ?? DEFAULT_RETRIES;
    for (let attempt = 0; attempt <= delays.length && !stopped; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, delays[attempt - 1]));
      record.attempts++;
      let status = 0;
      try {
        const res = await fetch(o.endpoint, {
          method: 'POST',
          headers: {
            'content-type': schema === 'EventGridSchema' ? 'application/json' : 'application/cloudevents+json',
            'aeg-event-type': 'Notification',
            'aeg-delivery-count': String(attempt),
          },
          body: JSON.stringify(body),
        });
        status = res.status;
        await res.arrayBuffer();
      } catch {
        status = 0;
      }
      record.statuses.push(status);
      if (status >= 200 && status <= 204) {
        record.result = 'delivered';
        log(`delivered BlobCreated ${subject} (attempt ${record.attempts})`);
        return;
      }
      if (status === 400 || status === 413) break;
      log(`delivery of BlobCreated ${subject} answered ${status || 'nothing'}; retrying`);
    }
    record.result = 'deadLettered';
    log(`dead-lettered BlobCreated ${subject} after ${record.attempts} attempt(s)`);
  };

  let scanning: Promise<void> = Promise.resolve();
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      scanning = scan()
        .catch((e: Error) => log(`topic scan failed: ${e.message}`))
        .finally(schedule);
    }, o.pollIntervalMs ?? 250);
  };
  schedule();

  return {
    deliveries,
    schema,
    async idle() {
      await scanning;
      await scan();
      await pending;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await scanning.catch(() => undefined);
      await pending.catch(() => undefined);
    },
  };
}

async function handshake(endpoint: string, schema: DeliverySchema, topic: string): Promise<void> {
  if (schema === 'CloudEventSchemaV1_0') {
    const origin = 'eventgrid.azure.net';
    const res = await fetch(endpoint, { method: 'OPTIONS', headers: { 'WebHook-Request-Origin': origin } });
    const allowed = res.headers.get('webhook-allowed-origin');
    await res.arrayBuffer();
    if (res.status !== 200 || (allowed !== origin && allowed !== '*'))
      throw new Error(`Webhook validation handshake failed for ${redact(endpoint)}: OPTIONS answered ${res.status}`);
    return;
  }
  const validationCode = randomUUID();
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'aeg-event-type': 'SubscriptionValidation' },
    body: JSON.stringify([
      {
        id: randomUUID(),
        topic,
        subject: '',
        data: { validationCode, validationUrl: 'https://127.0.0.1/validate' },
        eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
        eventTime: new Date().toISOString(),
        metadataVersion: '1',
        dataVersion: '2',
      },
    ]),
  });
  const text = await res.text();
  let answer: { validationResponse?: string } = {};
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    // not JSON: refused below
  }
  if (res.status !== 200 || answer.validationResponse !== validationCode)
    throw new Error(`Webhook validation handshake failed for ${redact(endpoint)}: answered ${res.status}`);
}

function redact(url: string): string {
  return url.replace(/([?&]code=)[^&]*/gi, '$1REDACTED');
}
