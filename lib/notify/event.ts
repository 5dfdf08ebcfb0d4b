/**
 * The event a run emits on every change of phase and of Store status, and when it ends, and the
 * shapes it is delivered in: a JSON webhook body (with a `text` line Teams and Slack incoming
 * webhooks show as the message) and a CloudEvents 1.0 envelope for an Event Grid custom topic.
 *
 * `RunEventFacts` crosses the orchestration boundary (notifier input, custom status), so like
 * everything in lib/run.ts it holds ids, statuses and messages only: never a token, a key, a
 * webhook URL (a Slack or Teams incoming-webhook URL is itself a credential) or a SAS URL.
 */
import type { Outcome, Phase, RunState } from '../run';
import type { ProductRef } from '../store/kinds';
import type { StatusDetails } from '../store/types';
import type { Win32ProductRef } from '../store/win32Types';

export type RunEventType = 'phaseChanged' | 'storeStatusChanged' | 'runEnded';

/** The CloudEvents `type` of each event, reverse-DNS as the spec recommends (cloudevents/spec, spec.md#type). */
export const CLOUD_EVENT_TYPES: Record<RunEventType, string> = {
  phaseChanged: 'StoreSubmitter.Run.PhaseChanged',
  storeStatusChanged: 'StoreSubmitter.Run.StoreStatusChanged',
  runEnded: 'StoreSubmitter.Run.Ended',
};

export interface EventProduct {
  kind: ProductRef['kind'] | Win32ProductRef['kind'];
  /** The Store id of the product itself: the app's, the flight's, the add-on's or the MSI/EXE app's. */
  id: string;
  /** A flight's app. */
  applicationId?: string;
}

export interface StoreIssueView {
  code: string;
  details: string;
}

/** What the orchestration knows when it emits; the delivery activity adds the status URL and the text. */
export interface RunEventFacts {
  /** `<runId>-<sequence>`: the same on every delivery attempt, so a receiver can drop a repeat. */
  id: string;
  runId: string;
  /** 1, 2, 3, ... per run, in the order the run emitted them; deliveries may arrive out of order. */
  sequence: number;
  type: RunEventType;
  /** When the run emitted it (the orchestration's clock), ISO. */
  time: string;
  phase: Phase;
  product?: EventProduct;
  submissionId?: string;
  storeStatus?: string;
  outcome?: Outcome;
  storeErrors: StoreIssueView[];
  storeWarnings: StoreIssueView[];
  certificationReports: Array<{ date?: string; reportUrl: string }>;
  failure?: { step: string; code: string; message: string };
}

/** The webhook body, and the `data` of the CloudEvent. */
export interface RunEvent extends RunEventFacts {
  /** GET /api/submissions/{runId} on the app (without any key: a caller brings its own). */
  statusUrl?: string;
  /** One line for people: what Teams and Slack incoming webhooks display. */
  text: string;
}

export function eventProductOf(product: RunState['product']): EventProduct | undefined {
  if (!product) return undefined;
  switch (product.kind) {
    case 'app':
      return { kind: 'app', id: product.applicationId };
    case 'flight':
      return { kind: 'flight', id: product.flightId, applicationId: product.applicationId };
    case 'addon':
      return { kind: 'addon', id: product.inAppProductId };
    case 'win32':
      return { kind: 'win32', id: product.productId };
  }
}

/**
 * A report link without its query: the Store's certification report links are plain pages, but
 * a link that carried a SAS signature (or any token in its query) must not leave the app in an event.
 */
export function safeLink(url: string): string | undefined {
  try {
    const u = new URL(url);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined;
    return `${u.origin}${u.pathname}`;
  } catch {
    return undefined;
  }
}

const MAX_ISSUES = 20;
const MAX_DETAIL = 500;

function issues(list: StatusDetails['errors'] | undefined): StoreIssueView[] {
  return (list ?? [])
    .slice(0, MAX_ISSUES)
    .map((e) => ({ code: String(e.code), details: String(e.details ?? '').slice(0, MAX_DETAIL) }));
}

/** The facts of an event from what the run's status shows now. */
export function eventFacts(
  runId: string,
  sequence: number,
  type: RunEventType,
  time: Date,
  state: Pick<RunState, 'phase' | 'product' | 'submissionId' | 'storeStatus' | 'statusDetails' | 'outcome' | 'failure'>,
): RunEventFacts {
  const details = state.statusDetails;
  const reports = (details?.certificationReports ?? []).flatMap((r) => {
    const link = safeLink(r.reportUrl);
    return link ? [{ ...(r.date ? { date: r.date } : {}), reportUrl: link }] : [];
  });
  const facts: RunEventFacts = {
    id: `${runId}-${sequence}`,
    runId,
    sequence,
    type,
    time: time.toISOString(),
    phase: state.phase,
    storeErrors: issues(details?.errors),
    storeWarnings: issues(details?.warnings),
    certificationReports: reports,
  };
  const product = eventProductOf(state.product);
  if (product) facts.product = product;
  if (state.submissionId) facts.submissionId = state.submissionId;
  if (state.storeStatus) facts.storeStatus = state.storeStatus;
  if (state.outcome) facts.outcome = state.outcome;
  if (state.failure)
    facts.failure = {
      step: state.failure.step,
      code: state.failure.facts.code,
      message: state.failure.message.slice(0, MAX_DETAIL),
    };
  return facts;
}

function productText(p: EventProduct | undefined): string {
  if (!p) return 'a product not resolved yet';
  return p.kind === 'flight'
    ? `flight ${p.id} of app ${p.applicationId}`
    : `${p.kind === 'addon' ? 'add-on' : p.kind} ${p.id}`;
}

/** The line people read in a chat channel. */
export function eventText(facts: RunEventFacts, statusUrl?: string): string {
  const what = productText(facts.product);
  const store = facts.storeStatus ? ` (Store status ${facts.storeStatus})` : '';
  let line: string;
  if (facts.type === 'runEnded') {
    line = `Store submission run ${facts.runId} for ${what} ended ${facts.outcome ?? facts.phase}${store}`;
    if (facts.failure) line += `: ${facts.failure.message}`;
    const firstError = facts.storeErrors[0];
    if (firstError && !facts.failure) line += `: ${firstError.code} ${firstError.details}`;
  } else if (facts.type === 'storeStatusChanged') {
    line = `Store submission ${facts.submissionId ?? ''} for ${what} is now ${facts.storeStatus ?? 'unknown'}`;
    const firstError = facts.storeErrors[0];
    if (firstError) line += `: ${firstError.code} ${firstError.details}`;
  } else {
    line = `Store submission run ${facts.runId} for ${what}: ${facts.phase}${store}`;
  }
  const report = facts.certificationReports.at(-1)?.reportUrl;
  if (report) line += `. Certification report: ${report}`;
  if (statusUrl) line += `. Status: ${statusUrl}`;
  return line;
}

/** The event as it is delivered. `statusBaseUrl`: the app's address, e.g. https://myapp.azurewebsites.net. */
export function runEvent(facts: RunEventFacts, statusBaseUrl: string | undefined): RunEvent {
  const statusUrl = statusBaseUrl
    ? `${statusBaseUrl.replace(/\/+$/, '')}/api/submissions/${encodeURIComponent(facts.runId)}`
    : undefined;
  return { ...facts, ...(statusUrl ? { statusUrl } : {}), text: eventText(facts, statusUrl) };
}

/**
 * The CloudEvents 1.0 envelope (cloudevents/spec, spec.md: id, source, type, subject, time,
 * datacontenttype, data) as @azure/eventgrid's `SendCloudEventInput` takes it; the client adds
 * specversion 1.0.
 */
export function cloudEventOf(event: RunEvent): {
  id: string;
  source: string;
  type: string;
  subject?: string;
  time: Date;
  datacontenttype: string;
  data: RunEvent;
} {
  return {
    id: event.id,
    source: `/store-submitter/runs/${event.runId}`,
    type: CLOUD_EVENT_TYPES[event.type],
    ...(event.product ? { subject: `${event.product.kind}/${event.product.id}` } : {}),
    time: new Date(event.time),
    datacontenttype: 'application/json',
    data: event,
  };
}
