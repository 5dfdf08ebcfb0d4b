/**
 * The blob extension's Event Grid webhook, `POST /runtime/webhooks/blobs?functionName=Host.Functions.<name>`
 * (the URL infra/eventgrid.bicep subscribes; shared/reference/host-fidelity.md), as the Storage
 * Blobs extension's HTTP request processor answers it (azure-sdk-for-net
 * `Microsoft.Azure.WebJobs.Extensions.Storage.Blobs`, `HttpRequestProcessor`; its WebJobs SDK
 * forerunner `EventGridHttpRequestProcessor`):
 * - header `aeg-event-type: SubscriptionValidation`: 200 `{"validationResponse": <data.validationCode>}`;
 * - `aeg-event-type: Notification`: a JSON array (Event Grid schema) or one object (CloudEvents
 *   schema), each event handed to the trigger, then 202; `Unsubscribe`: 202; anything else: 400;
 * - `OPTIONS` with `WebHook-Request-Origin` (the CloudEvents abuse-protection handshake Event Grid
 *   sends for that schema): 200 with `WebHook-Allowed-Origin`.
 * Only `Microsoft.Storage.BlobCreated` events start anything; the subject or the blob URL names the blob.
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface WebhookAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface BlobEvent {
  container: string;
  name: string;
  etag?: string;
}

export type Deliver = (functionId: string, blob: BlobEvent) => Promise<unknown>;

export const BLOB_WEBHOOK_PATH = '/runtime/webhooks/blobs';
const BLOB_CREATED = 'Microsoft.Storage.BlobCreated';

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `/blobServices/default/containers/<c>/blobs/<name>` (both schemas' subject). */
export function blobOfSubject(subject: unknown): BlobEvent | undefined {
  if (typeof subject !== 'string') return undefined;
  const m = /^\/blobServices\/default\/containers\/([^/]+)\/blobs\/(.+)$/.exec(subject);
  return m ? { container: m[1]!, name: m[2]! } : undefined;
}

export async function handleBlobWebhook(
  req: { method: string; headers: IncomingHttpHeaders; query: URLSearchParams; body: Buffer },
  functionIds: string[],
  deliver: Deliver,
): Promise<WebhookAnswer> {
  if (req.method === 'OPTIONS') {
    const origin = header(req.headers, 'webhook-request-origin');
    return origin ? { status: 200, headers: { 'WebHook-Allowed-Origin': origin } } : { status: 400 };
  }
  if (req.method !== 'POST') return { status: 405 };
  const functionId = req.query.get('functionName') ?? req.query.get('functionId') ?? '';
  if (!functionIds.some((id) => id.toLowerCase() === functionId.toLowerCase())) return { status: 404 };
  const kind = (header(req.headers, 'aeg-event-type') ?? '').toLowerCase();
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.body.toString('utf8'));
  } catch {
    return { status: 400 };
  }
  if (kind === 'subscriptionvalidation') {
    const first = (Array.isArray(parsed) ? parsed[0] : parsed) as { data?: { validationCode?: string } } | undefined;
    return { status: 200, body: { validationResponse: first?.data?.validationCode } };
  }
  if (kind === 'unsubscribe') return { status: 202 };
  if (kind !== 'notification') return { status: 400 };
  const events = (Array.isArray(parsed) ? parsed : [parsed]) as Array<Record<string, unknown>>;
  for (const e of events) {
    // Event Grid schema: eventType; CloudEvents: type.
    const type = e.eventType ?? e.type;
    if (type !== BLOB_CREATED) continue;
    const blob = blobOfSubject(e.subject);
    if (!blob) continue;
    const data = (e.data ?? {}) as { eTag?: string };
    await deliver(functionId, { ...blob, etag: data.eTag });
  }
  return { status: 202 };
}
