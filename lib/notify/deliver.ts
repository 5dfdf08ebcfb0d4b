/**
 * Delivering one run event to one receiver: a signed webhook POST, or a CloudEvent published to
 * an Event Grid custom topic. Each call is one attempt; the notifier orchestration retries with
 * backoff (orchestrations/notify.ts). Failures are typed: a 408, 429, 5xx or no answer at all may
 * heal, another 4xx (a wrong secret, a URL that is gone) will not.
 *
 * Messages name the receiver by position (`webhook 2`), never by URL: a Slack or Teams incoming
 * webhook URL is itself the credential to post in the channel.
 */
import { AzureKeyCredential, EventGridPublisherClient } from '@azure/eventgrid';
import { ManagedIdentityCredential } from '@azure/identity';
import type { NotifyConfig } from '../config';
import { isRetriableStatus, SubmitterError, type ErrorFacts } from '../errors';
import { redact, registerSecret } from '../redact';
import { cloudEventOf, type RunEvent } from './event';
import { signedHeaders } from './signing';

export class DeliveryError extends SubmitterError {
  override readonly name = 'DeliveryError';
  readonly code: 'ReceiverFailed' | 'ReceiverRefused';
  readonly retriable: boolean;
  constructor(
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.retriable = isRetriableStatus(status);
    this.code = this.retriable ? 'ReceiverFailed' : 'ReceiverRefused';
  }

  override facts(): ErrorFacts {
    return { ...super.facts(), status: this.status, retryAfterMs: this.retryAfterMs };
  }
}

/** One receiver: `webhook <n>` (1-based position in NOTIFY_WEBHOOK_URL) or `eventGrid`. */
export type Target = `webhook ${number}` | 'eventGrid';

export function targetsOf(notify: NotifyConfig): Target[] {
  return [
    ...notify.webhooks.map((_url, i) => `webhook ${i + 1}` as const),
    ...(notify.eventGrid ? (['eventGrid'] as const) : []),
  ];
}

/** A receiver that does not answer in this time counts as down for this attempt. */
const TIMEOUT_MS = 10_000;

/** Retry-After in seconds or as an HTTP date (RFC 9110 section 10.2.3). */
function retryAfterMs(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

function causeOf(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  if (e instanceof Error && e.name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  return cause?.code ?? (e instanceof Error ? e.message : String(e));
}

/** Keeps the process-wide redaction aware of every notification secret before anything can log. */
export function registerNotifySecrets(notify: NotifyConfig): void {
  registerSecret(notify.webhookSecret);
  registerSecret(notify.eventGrid?.key);
  for (const url of notify.webhooks) registerSecret(url);
}

export async function deliver(
  notify: NotifyConfig,
  target: Target,
  event: RunEvent,
  now = new Date(),
): Promise<string> {
  registerNotifySecrets(notify);
  if (target === 'eventGrid') return publishCloudEvent(notify, event);
  const index = Number(target.slice('webhook '.length)) - 1;
  const url = notify.webhooks[index];
  if (!url || !notify.webhookSecret)
    throw new DeliveryError(`${target} is no longer configured (NOTIFY_WEBHOOK_URL changed)`, 410);
  const body = JSON.stringify(event);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: signedHeaders(notify.webhookSecret, body, event.id, now),
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
      redirect: 'manual',
    });
  } catch (e) {
    throw new DeliveryError(`${target} could not be reached: ${causeOf(e)}`);
  }
  // Nobody reads the answer's body; draining it frees the connection.
  await response.arrayBuffer().catch(() => undefined);
  if (response.status >= 200 && response.status < 300) return `${target} answered ${response.status}`;
  throw new DeliveryError(
    `${target} answered ${response.status}`,
    response.status,
    // A receiver's Retry-After is honoured up to the notifier's longest backoff, no further.
    Math.min(retryAfterMs(response.headers.get('retry-after')) ?? 0, 10 * 60_000) || undefined,
  );
}

let publisher: { key: string; client: EventGridPublisherClient<'CloudEvent'> } | undefined;

function publisherFor(eventGrid: NonNullable<NotifyConfig['eventGrid']>): EventGridPublisherClient<'CloudEvent'> {
  const key = `${eventGrid.endpoint}\n${eventGrid.key ?? ''}\n${eventGrid.clientId ?? ''}`;
  if (publisher?.key !== key) {
    // A topic key, or the app's managed identity (EventGrid Data Sender role on the topic):
    // learn.microsoft.com/azure/event-grid/authenticate-with-microsoft-entra-id
    const credential = eventGrid.key
      ? new AzureKeyCredential(eventGrid.key)
      : eventGrid.clientId
        ? new ManagedIdentityCredential({ clientId: eventGrid.clientId })
        : new ManagedIdentityCredential();
    // The client's own retries stay off: the notifier orchestration retries on durable timers.
    const client = new EventGridPublisherClient(eventGrid.endpoint, 'CloudEvent', credential, {
      retryOptions: { maxRetries: 0 },
    });
    publisher = { key, client };
  }
  return publisher.client;
}

async function publishCloudEvent(notify: NotifyConfig, event: RunEvent): Promise<string> {
  if (!notify.eventGrid) throw new DeliveryError('eventGrid is no longer configured (NOTIFY_EVENTGRID_ENDPOINT)', 410);
  try {
    await publisherFor(notify.eventGrid).send([cloudEventOf(event)], { abortSignal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (e) {
    const status = (e as { statusCode?: number }).statusCode;
    const message = redact(e instanceof Error ? e.message.split('\n')[0]! : String(e), [notify.eventGrid.key ?? '']);
    if (status === undefined) throw new DeliveryError(`eventGrid could not be reached: ${causeOf(e)}`);
    throw new DeliveryError(`eventGrid answered ${status}: ${message.slice(0, 300)}`, status);
  }
  return 'eventGrid accepted the CloudEvent';
}
