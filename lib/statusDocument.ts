/**
 * The status document: what `GET /api/submissions/{id}` answers and what the report blob
 * holds at the end of a run. Built from the orchestration's custom status (a RunState)
 * and the Durable runtime status, so it is the same shape while running and after.
 */
import { cleanFailureMessage } from './errors';
import { waitingFor } from './pending';
import type { Outcome, PendingWait, Phase, RunFailure, RunState, StepRecord } from './run';

/** `Canceling`: canceled, and its clean-up (deleting the submission it had not committed, the report) still runs. */
/** `Rejected`: someone rejected the submission at the approval gate; it was deleted, nothing committed. */
export type RunStatus = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Canceling' | 'Canceled' | 'Rejected';

export interface StatusDocument {
  instanceId: string;
  status: RunStatus;
  phase: Phase;
  outcome?: Outcome;
  blob: RunState['blob'];
  kind?: RunState['kind'];
  product?: RunState['product'];
  submissionId?: string;
  storeStatus?: string;
  dryRun: boolean;
  storeErrors: Array<{ code: string; details: string }>;
  storeWarnings: Array<{ code: string; details: string }>;
  certificationReports: Array<{ date?: string; reportUrl: string }>;
  failure?: RunFailure;
  timeline: StepRecord[];
  upload?: RunState['upload'];
  polls?: number;
  nextPollAt?: string;
  createdTime?: string;
  lastUpdatedTime?: string;
  reportBlob?: string;
  /** While queued: the earlier run for the same product this one waits for. */
  queuedBehind?: string;
  /** The earlier runs for the same product this one waited for before its turn. */
  waitedFor?: string[];
  /** For a canceled run: what the cancel stopped, and what it could not (a submission the Store had taken). */
  canceled?: RunState['canceled'];
  /** What the run submits: the release line (app, or a flight) and the packages' highest version. */
  release?: RunState['release'];
  /** Outcome Superseded: the run with the newer release, and why this zip was not submitted. */
  supersededBy?: RunState['supersededBy'];
  /**
   * While the run waits for the product's pending submission that the Store is processing: its
   * id, its latest Store status, what the run waits for and until when, and when it looks again.
   */
  pendingWait?: Omit<PendingWait, 'followerId'> & { message: string; polls?: number; nextPollAt?: string };
  /** The pending submissions the run waited for before it created its own. */
  waitedForSubmissions?: string[];
  /** What the submission changes against the published one (lib/preview.ts): bounded here, whole in the report. */
  preview?: RunState['preview'];
  /** options.commit "approval": the gate's state, deadline, Partner Center link and the decision. */
  approval?: RunState['approval'];
  /** options.rollout: the ramp after publication (steps, when due and applied, paused, halted, changed by hand). */
  ramp?: RunState['ramp'];
}

/** The parts of a Durable status the document needs (the client's DurableOrchestrationStatus fits). */
export interface DurableStatusLike {
  instanceId: string;
  runtimeStatus: string;
  customStatus?: unknown;
  output?: unknown;
  input?: unknown;
  createdTime?: Date | string;
  lastUpdatedTime?: Date | string;
}

/** The follower sub-orchestration's custom status while the run waits for the Store. */
export interface FollowerView {
  storeStatus?: string;
  statusDetails?: RunState['statusDetails'];
  polls?: number;
  nextPollAt?: string;
  /** The run's event count, with the Store status events the follower emitted. */
  notified?: number;
}

/** The most run-event entries the timeline shows (the newest): a run of days emits many. */
export const MAX_NOTIFY_ENTRIES = 40;

/**
 * The timeline with the run's events merged in by start time: each is one entry, `notify:<type>`,
 * saying what every receiver got (delivered, retrying, given up). They live in the notifiers'
 * own status (orchestrations/notify.ts), not in the run's, which never waits for them.
 *
 * The events stay in their number's order. A notifier's start time is when the Durable engine
 * got to it, and notifiers handed off a moment apart may start in either order (the real
 * extension's queues do that; receivers order by number for the same reason), so a sort by start
 * time would show event 5 before event 4. A merge of the two ordered lists keeps both orders: an
 * event goes after the run's steps that began before it.
 */
export function withNotifications(timeline: StepRecord[], notifications: StepRecord[]): StepRecord[] {
  if (notifications.length === 0) return timeline;
  const shown = [...notifications].sort((a, b) => (a.sequence ?? 0) - (b.sequence ?? 0)).slice(-MAX_NOTIFY_ENTRIES);
  const merged: StepRecord[] = [];
  let step = 0;
  for (const event of shown) {
    while (step < timeline.length && timeline[step]!.startedAt <= event.startedAt) merged.push(timeline[step++]!);
    merged.push(event);
  }
  return [...merged, ...timeline.slice(step)];
}

export function isRunState(value: unknown): value is RunState {
  return !!value && typeof value === 'object' && 'phase' in value && 'blob' in value && 'timeline' in value;
}

function runStatusOf(runtimeStatus: string, state: RunState | undefined): RunStatus {
  switch (runtimeStatus) {
    case 'Pending':
      return 'Pending';
    case 'Running':
    case 'ContinuedAsNew':
    case 'Suspended':
      return 'Running';
    case 'Completed':
      return state?.outcome === 'Canceled' || state?.outcome === 'Failed' || state?.outcome === 'Rejected'
        ? state.outcome
        : 'Succeeded';
    case 'Terminated':
    case 'Canceled':
      return 'Canceled';
    default:
      return 'Failed';
  }
}

function iso(value: Date | string | undefined): string | undefined {
  if (!value) return undefined;
  return value instanceof Date ? value.toISOString() : value;
}

/**
 * `cleaningUp`: the run was canceled and its clean-up instance has not finished: the status
 * stays `Canceling` (with the clean-up's phase) until the submission it made is really deleted.
 */
export function statusDocument(
  durable: DurableStatusLike,
  follower?: FollowerView,
  cleaningUp = false,
  notifications: StepRecord[] = [],
): StatusDocument {
  const state: RunState | undefined = isRunState(durable.customStatus) ? durable.customStatus : undefined;
  const input = (durable.input ?? {}) as { blob?: RunState['blob'] };
  const ended = runStatusOf(durable.runtimeStatus, state);
  const status: RunStatus = ended === 'Canceled' && cleaningUp ? 'Canceling' : ended;
  const waiting = status === 'Running' && state?.phase === 'WaitingForStore' && follower;
  const pendingWait =
    status === 'Running' && state?.phase === 'WaitingForPendingSubmission' ? state.pendingWait : undefined;
  const details = (waiting ? follower.statusDetails : undefined) ?? state?.statusDetails;
  let failure = state?.failure;
  if (!failure && status === 'Failed') {
    // The runtime's output: `Orchestrator function 'x' failed: ...` and whatever the host appended.
    const message =
      typeof durable.output === 'string' && cleanFailureMessage(durable.output)
        ? cleanFailureMessage(durable.output)
        : 'The run failed before it could record why.';
    failure = { step: state?.phase ?? 'unknown', message, facts: { code: 'Unexpected', retriable: false } };
  }
  return {
    instanceId: durable.instanceId,
    status,
    phase:
      status === 'Canceled'
        ? 'Canceled'
        : status === 'Canceling'
          ? (state?.phase ?? 'CleaningUp')
          : (state?.phase ?? 'Queued'),
    outcome: state?.outcome,
    blob: state?.blob ?? input.blob ?? { container: '', name: '', etag: '' },
    kind: state?.kind,
    product: state?.product,
    submissionId: state?.submissionId,
    storeStatus: (waiting ? follower.storeStatus : undefined) ?? state?.storeStatus,
    dryRun: state?.dryRun ?? false,
    storeErrors: details?.errors ?? [],
    storeWarnings: details?.warnings ?? [],
    certificationReports: details?.certificationReports ?? [],
    failure,
    timeline: withNotifications(state?.timeline ?? [], notifications),
    upload: state?.upload,
    polls: (waiting ? follower.polls : undefined) ?? state?.polls,
    nextPollAt: waiting ? follower.nextPollAt : undefined,
    createdTime: iso(durable.createdTime),
    lastUpdatedTime: iso(durable.lastUpdatedTime),
    reportBlob: state?.reportBlob,
    queuedBehind: status === 'Running' ? state?.queuedBehind : undefined,
    waitedFor: state?.waitedFor,
    canceled: state?.canceled,
    release: state?.release,
    supersededBy: state?.supersededBy,
    pendingWait: pendingWait && pendingWaitView(pendingWait, follower),
    waitedForSubmissions: state?.waitedForSubmissions,
    ...(state?.preview ? { preview: state.preview } : {}),
    ...(state?.approval ? { approval: state.approval } : {}),
    ...(state?.ramp ? { ramp: state.ramp } : {}),
  };
}

/** The wait as the status shows it: the latest Store status the follower read, and what that means. */
function pendingWaitView(wait: PendingWait, follower: FollowerView | undefined): StatusDocument['pendingWait'] {
  const { followerId: _followerId, ...shown } = wait;
  const storeStatus = (follower?.storeStatus as PendingWait['storeStatus'] | undefined) ?? wait.storeStatus;
  const facts = { submissionId: wait.submissionId, status: storeStatus, targetPublishMode: wait.targetPublishMode };
  return {
    ...shown,
    storeStatus,
    message: `The run waits for ${waitingFor(facts)}, then creates its own submission.`,
    polls: follower?.polls,
    nextPollAt: follower?.nextPollAt,
  };
}

/** The report written at the end of a run: the final document, as the orchestration saw it. */
export function finalDocument(
  instanceId: string,
  state: RunState,
  createdTime: string | undefined,
  endedTime: string,
): StatusDocument {
  const runtimeStatus = state.outcome === 'Failed' ? 'Failed' : 'Completed';
  return statusDocument({ instanceId, runtimeStatus, customStatus: state, createdTime, lastUpdatedTime: endedTime });
}

/** A line for lists (`GET /api/submissions?blob=`). */
export function summaryOf(
  doc: StatusDocument,
): Pick<
  StatusDocument,
  | 'instanceId'
  | 'status'
  | 'phase'
  | 'blob'
  | 'kind'
  | 'submissionId'
  | 'storeStatus'
  | 'createdTime'
  | 'lastUpdatedTime'
> {
  const { instanceId, status, phase, blob, kind, submissionId, storeStatus, createdTime, lastUpdatedTime } = doc;
  return { instanceId, status, phase, blob, kind, submissionId, storeStatus, createdTime, lastUpdatedTime };
}
