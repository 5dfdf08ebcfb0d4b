/**
 * The data that crosses the orchestration boundary: orchestration input, activity inputs
 * and outputs, custom status. All of it is stored in the task hub's history in plain text
 * and readable through the status API, so it holds identities, ids, statuses and messages
 * only — never a token, a SAS URL, a secret, or the manifest's body (activities read that
 * again from the pinned blob).
 */
import type { ErrorFacts } from './errors';
import type { ManifestOptions, Target } from './manifest';
import type { ApprovalView } from './approval';
import type { RampView } from './ramp';
import type { SubmissionPreview } from './preview';
import type { Release, Supersession } from './productQueue';
import type { AppIdentity, PublishedUnit } from './package/check';
import type { ProductRef } from './store/kinds';
import type { StatusDetails, SubmissionStatus } from './store/types';
import type { Win32ProductRef, Win32PublishingStatus } from './store/win32Types';
import type { Win32Change } from './win32/plan';

export interface BlobIdentity {
  container: string;
  name: string;
  /** The version of the zip this run reads; every read is pinned to it. */
  etag: string;
}

export interface RunInput {
  blob: BlobIdentity;
  /** Options given to the HTTP start call; they win over the manifest's. */
  overrides?: Partial<ManifestOptions>;
  source: 'blob' | 'http';
  /** When the run was requested (ISO), for the timeline. */
  requestedAt?: string;
  /** The zip's Last-Modified (ISO): runs for one product go in this order. */
  uploadedAt?: string;
}

export type Phase =
  | 'Queued'
  | 'Validating'
  | 'CheckingCredential'
  | 'ResolvingProduct'
  | 'SettlingRollout'
  | 'WaitingForPendingSubmission'
  | 'CheckingPackages'
  | 'ClearingPendingSubmission'
  | 'CreatingSubmission'
  | 'UpdatingSubmission'
  | 'Uploading'
  | 'Committing'
  | 'WaitingForStore'
  | 'AwaitingApproval'
  | 'RampingRollout'
  // MSI/EXE apps (target.kind win32):
  | 'ReadingDraft'
  | 'WaitingForOngoingSubmission'
  | 'CopyingInstallers'
  | 'UpdatingDraft'
  | 'WaitingForDraft'
  | 'Submitting'
  | 'RestoringDraft'
  | 'CleaningUp'
  | 'WritingReport'
  | 'Succeeded'
  | 'Failed'
  | 'Canceled'
  | 'Rejected';

/** `Superseded`: a newer release of the same product made this zip's moot; nothing was submitted (see `supersededBy`). */
export type Outcome = 'Succeeded' | 'DryRunSucceeded' | 'Superseded' | 'Failed' | 'Canceled' | 'Rejected';

export interface StepRecord {
  step: string;
  startedAt: string;
  endedAt?: string;
  /** `interrupted`: the run was canceled while the step was under way; its end is when the cancel came. */
  result: 'ok' | 'failed' | 'retrying' | 'skipped' | 'interrupted';
  /** `MS-CorrelationId`s of the Store calls the step made. */
  correlationIds?: string[];
  detail?: string;
  attempts?: number;
  /** A run event's entry (step `notify:<type>`): its number in the run, and how each receiver got it. */
  sequence?: number;
  deliveries?: DeliveryRecord[];
}

/** One receiver of one run event: delivered, still being retried, or given up (the run never waits for it). */
export interface DeliveryRecord {
  /** `webhook <n>` (position in NOTIFY_WEBHOOK_URL) or `eventGrid`; never the URL, which may be a credential. */
  target: string;
  result: 'pending' | 'retrying' | 'delivered' | 'givenUp';
  attempts: number;
  detail?: string;
  endedAt?: string;
}

/** A notifier's custom status and output (orchestrations/notify.ts): its entry in the run's timeline. */
export interface NotifierView {
  runId: string;
  sequence: number;
  record: StepRecord;
}

/** What a run has emitted so far (present only when a receiver is configured): the count numbers the next event. */
export interface NotificationsState {
  sent: number;
  /** The phase and Store status the last event carried: an event goes out when either changes. */
  phase?: Phase;
  storeStatus?: string;
}

export interface RunFailure {
  step: string;
  message: string;
  /** What the user can do about it. */
  advice?: string;
  facts: ErrorFacts;
}

/** What the orchestration publishes as custom status at every step, and hands to the report. */
export interface RunState {
  phase: Phase;
  blob: BlobIdentity;
  kind?: Target['kind'];
  product?: ProductRef | Win32ProductRef;
  submissionId?: string;
  /** The v1.0 API's submission status, or an MSI/EXE submission's publishingStatus. */
  storeStatus?: SubmissionStatus | Win32PublishingStatus;
  statusDetails?: StatusDetails;
  options?: ManifestOptions;
  dryRun?: boolean;
  timeline: StepRecord[];
  failure?: RunFailure;
  outcome?: Outcome;
  upload?: { bytes: number; blocks: number; method: string; durationMs: number };
  /** When the next Store status poll is due (ISO), while waiting. */
  nextPollAt?: string;
  polls?: number;
  reportBlob?: string;
  /** The product queue the run joined (see lib/productQueue.ts). */
  queueKey?: string;
  /** While queued: the run this one waits for. */
  queuedBehind?: string;
  /** The runs for the same product this one waited for before its turn. */
  waitedFor?: string[];
  /** Set by a cancel: what it could and could not stop. */
  canceled?: CancelNote;
  /** What the run submits, for the newest-release rule: the release line and the packages' highest version. */
  release?: Release;
  /** Outcome `Superseded`: the run whose release made this one's moot, and why. */
  supersededBy?: Supersession & { message: string };
  /** An MSI/EXE run's changes to the product's draft (target.kind win32). */
  win32?: Win32RunView;
  /** While the run waits for a pending submission the Store is processing (see lib/pending.ts). */
  pendingWait?: PendingWait;
  /** The pending submissions the run waited for before it created its own. */
  waitedForSubmissions?: string[];
  /** What the submission changes against the published one: its first changes (all of them are in the report). */
  preview?: SubmissionPreview;
  /** The whole preview, in the reports container, until the report takes it in. */
  previewBlob?: string;
  /** options.commit "approval": the gate, and who decided what. */
  approval?: ApprovalView;
  /** options.rollout: the ramp's steps, when each was applied, and how it ended. */
  ramp?: RampView;
  /** Run events handed to notifiers (orchestrations/notify.ts); absent when no receiver is configured. */
  notifications?: NotificationsState;
}

/** What a win32 run shows of its work on the draft; enough for a cleanup to put the draft back. */
export interface Win32RunView {
  /** The changes planned, in order, as short names. */
  plan: string[];
  /** The changes made so far. */
  applied: Win32Change[];
  /** The change being made: after a stop, it may or may not have taken. */
  applying?: Win32Change;
  /** The run's copies of the installers in the packages container (never their URLs). */
  installers?: Array<{ fileName: string; blobName: string; bytes: number }>;
  /** Submissions in progress the run waited for before it could change the draft. */
  waitedForSubmissions?: string[];
  /** After a failure: whether the draft was put back as it was before the run. */
  restored?: boolean;
}

/** A pending submission of the product that the Store is processing: the run waits for it, never deletes it. */
export interface PendingWait {
  submissionId: string;
  /** Its Store status when the wait began; the status document shows the latest one the follower read. */
  storeStatus: SubmissionStatus;
  /** Its targetPublishMode: in Manual mode its Release waits for a person in Partner Center. */
  targetPublishMode?: string;
  since: string;
  /** The wait fails at this time (PUBLISH_DEADLINE_HOURS after it began). */
  deadline: string;
  /** The instance that polls that submission's status. */
  followerId: string;
}

export interface CancelNote {
  reason: string;
  /** The Store had taken the commit: canceling the run cannot stop the Store from processing it. */
  committed: boolean;
  submissionId?: string;
  /** The Store's status of that submission when the run was canceled. */
  storeStatus?: string;
  message: string;
}

/**
 * What a cancel can do to a run in this state, in words for the answer, the status and the
 * report. Once the commit was taken (the run follows the Store), the Store processes the
 * submission whatever the run does; only Partner Center can stop it there.
 */
export function cancelNote(state: RunState, reason: string, storeStatus = state.storeStatus): CancelNote {
  const committed =
    state.phase === 'WaitingForStore' ||
    state.timeline.some((s) => (s.step === 'commitSubmission' || s.step === 'submitWin32Draft') && s.result === 'ok');
  if (committed && state.submissionId) {
    return {
      reason,
      committed,
      submissionId: state.submissionId,
      storeStatus,
      message: `The Store had already taken submission ${state.submissionId}${storeStatus ? ` (status ${storeStatus})` : ''} and goes on processing it: canceling the run stops only the following. To stop the submission, use Partner Center.`,
    };
  }
  return {
    reason,
    committed: false,
    submissionId: state.submissionId,
    message: state.win32
      ? 'The draft was not submitted; the changes the run made to it are put back.'
      : state.submissionId
        ? `Submission ${state.submissionId} was not committed; it is deleted.`
        : 'No Store submission had been made.',
  };
}

/** The input of a canceled run's cleanup instance (orchestrations/cancelRun.ts). */
export interface CancelInput {
  runId: string;
  reason: string;
  /** The canceled run's last custom status. */
  state: RunState;
  createdTime?: string;
  /** How long an activity of the terminated run may still be in flight. */
  settleSeconds: number;
}

// ---- activity contracts ----

export interface ValidatedZip {
  target: Target;
  options: ManifestOptions;
  entryCount: number;
  /** Package files the submission will add (names only). */
  packageFiles: string[];
  /** The highest version among those packages' identities; absent when there are none or one cannot be read. */
  packageVersion?: string;
  /** The manifest's submission names `pricing.priceId`: the run sets that price instead of keeping the published one. */
  namesPriceId?: boolean;
  readStats: { requests: number; bytes: number };
}

export interface ResolvedProduct {
  product: ProductRef;
  /** The product's pending submission when there is one. */
  pendingSubmissionId?: string;
  /** True when the pending submission was made in Partner Center: the API can neither change nor delete it. */
  pendingMadeInPortal?: boolean;
  /** The pending submission's Store status: one being processed cannot be deleted. */
  pendingStatus?: SubmissionStatus;
  /** The pending submission's targetPublishMode: in Manual mode its Release waits for a person. */
  pendingTargetPublishMode?: string;
  publishedSubmissionId?: string;
  /** The published submission still rolls out a package: the Store refuses a new submission until it is halted or finalized. */
  rolloutInProgress?: boolean;
  created?: 'flight' | 'addon';
  /** For an app or a flight: the app's package identity, which every new package must have. */
  appIdentity?: AppIdentity;
  /** The packages of the product's published submission: a new one must have a higher version per architecture. */
  publishedUnits?: PublishedUnit[];
  correlationIds: string[];
}

export interface StoreStepResult {
  correlationIds: string[];
}

export interface CreatedSubmission extends StoreStepResult {
  submissionId: string;
  /** The create call failed ambiguously (e.g. 503 after creating) and the run adopted the submission it had made. */
  adopted?: boolean;
}

export interface UpdatedSubmission extends StoreStepResult {
  pendingUploads: number;
  pendingDeletes: number;
  languages: string[];
}

export interface StatusPoll extends StoreStepResult {
  status: SubmissionStatus;
  /** The submission is no more (404); only asked for when the run follows another's submission. */
  gone?: boolean;
  statusDetails?: StatusDetails;
  targetPublishMode?: string;
}

export interface FollowInput {
  product: ProductRef;
  submissionId: string;
  waitFor: 'commit' | 'published';
  /** ISO time after which waiting fails. */
  deadline: string;
  polls: number;
  intervalSeconds: number;
  lastStatus?: SubmissionStatus;
}

export interface FollowResult {
  status: SubmissionStatus;
  statusDetails?: StatusDetails;
  polls: number;
  timedOut: boolean;
  /** The submission followed is no more (deleted, e.g. in Partner Center): only when following another's. */
  gone?: boolean;
  correlationIds: string[];
  /** The run's event count after the follower's own (Store status) events, when it emitted any. */
  notified?: number;
}

/** What a follower needs to emit the run's Store status events: the count so far and the status last told. */
export interface FollowNotify {
  sent: number;
  storeStatus?: string;
}

/**
 * The timeline of a run that was stopped from outside (canceled): a step still under way
 * (no end yet, or between retries) did not finish, and says so, instead of showing `ok` with
 * no end forever.
 */
export function interruptedTimeline(timeline: StepRecord[], at: string, why: string): StepRecord[] {
  return timeline.map((record) =>
    record.endedAt === undefined && (record.result === 'ok' || record.result === 'retrying')
      ? { ...record, result: 'interrupted', endedAt: at, detail: record.detail ? `${record.detail}; ${why}` : why }
      : record,
  );
}
