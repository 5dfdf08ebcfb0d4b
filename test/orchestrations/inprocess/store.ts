/**
 * A scripted Store for the in-process tier: what each activity answers on a plain app run,
 * which a test overrides for the calls its decision depends on. Outputs have the shapes the
 * real activities return (lib/ types), so the orchestrator reads them as it reads the real ones.
 */
import { StoreRequestError } from '../../../lib/errors';
import { DEFAULT_OPTIONS, type ManifestOptions } from '../../../lib/manifest';
import type {
  CreatedSubmission,
  FollowResult,
  ResolvedProduct,
  RunInput,
  StatusPoll,
  UpdatedSubmission,
  ValidatedZip,
} from '../../../lib/run';
import type { Turn } from '../../../lib/productQueue';
import type { RunSettings } from '../../../orchestrations/activities/getRunSettings';
import type { UploadSummary } from '../../../orchestrations/activities/uploadPackageZip';
import type { previewSubmission } from '../../../orchestrations/activities/previewSubmission';

type PreviewOutput = NonNullable<(typeof previewSubmission)['output']>;
import { fail, ok, type Answer, type Script } from './replay';

export const APP_ID = '9NBLGGH4R315';
export const PRODUCT = { kind: 'app' as const, applicationId: APP_ID };
export const SUBMISSION_ID = '1152921504607280735';
export const PENDING_ID = '1152921504607280001';
export const PUBLISHED_ID = '1152921504606962205';
export const RUN_ID = 'zip-inprocess';

export const RUN_INPUT: RunInput = {
  blob: { container: 'submissions', name: 'releases/1.2.3.zip', etag: '"0x8DC0000000000001"' },
  source: 'blob',
  uploadedAt: '2024-05-01T09:59:30.000Z',
};

export const SETTINGS = {
  firstIntervalSeconds: 30,
  maxIntervalSeconds: 600,
  commitDeadlineMinutes: 60,
  publishDeadlineHours: 72,
  queueSettleSeconds: 10,
  queuePollSeconds: 15,
} satisfies RunSettings;

/** What validateZip returns: the manifest's options with the defaults filled in, as validation does. */
export function validated(options: Partial<ManifestOptions> = {}): ValidatedZip {
  return {
    target: { kind: 'app', applicationId: APP_ID },
    options: { ...DEFAULT_OPTIONS, ...options },
    entryCount: 2,
    packageFiles: ['packages/Contoso.App_1.2.3.0_x64.msixupload'],
    readStats: { requests: 2, bytes: 4096 },
  };
}

export function resolved(extra: Partial<ResolvedProduct> = {}): ResolvedProduct {
  return { product: PRODUCT, publishedSubmissionId: PUBLISHED_ID, correlationIds: ['cid-resolve'], ...extra };
}

export function followed(status: FollowResult['status'], extra: Partial<FollowResult> = {}): FollowResult {
  return { status, polls: 3, timedOut: false, correlationIds: ['cid-poll'], ...extra };
}

/** A failure as the Store client raises it: `retriable` follows the HTTP status unless given. */
export function storeError(status: number, code: string, extra: { retryAfterMs?: number; message?: string } = {}) {
  return new StoreRequestError(extra.message ?? `The Store answered ${status} ${code}.`, {
    code,
    status,
    correlationId: `cid-${code}`,
    retryAfterMs: extra.retryAfterMs,
  });
}

type Answers = Record<string, (input: unknown, call: number) => Answer>;

const HAPPY: Answers = {
  getRunSettings: () => ok(SETTINGS),
  validateZip: () => ok(validated()),
  takeTurn: () => ok({ mine: true, position: 0 } satisfies Turn),
  leaveTurn: () => ok({}),
  checkCredential: () => ok({ expiresOn: '2024-05-01T11:00:00.000Z' }),
  resolveProduct: () => ok(resolved()),
  deletePendingSubmission: () => ok({ correlationIds: ['cid-delete'] }),
  settleRollout: () => ok({ correlationIds: ['cid-rollout'] }),
  createSubmission: () =>
    ok({ submissionId: SUBMISSION_ID, correlationIds: ['cid-create'] } satisfies CreatedSubmission),
  updateSubmission: () =>
    ok({
      pendingUploads: 1,
      pendingDeletes: 1,
      languages: ['en-us'],
      targetPublishMode: 'Immediate',
      correlationIds: ['cid-get', 'cid-put'],
    } satisfies UpdatedSubmission & { targetPublishMode: string }),
  previewSubmission: () =>
    ok({
      preview: {
        against: PUBLISHED_ID,
        counts: { language: 0, text: 1, image: 0, package: 0, setting: 0 },
        changes: [{ area: 'text', change: 'changed', language: 'en-us', field: 'title', before: 'A', after: 'B' }],
      },
      previewBlob: `${RUN_INPUT.blob.name}/${RUN_ID}.preview.json`,
      correlationIds: ['cid-preview'],
    } satisfies PreviewOutput),
  uploadPackageZip: () =>
    ok({
      bytes: 2048,
      blocks: 1,
      resumedBlocks: 0,
      method: 'stream',
      durationMs: 120,
      correlationIds: ['cid-upload'],
    } satisfies UploadSummary),
  commitSubmission: () => ok({ status: 'CommitStarted', correlationIds: ['cid-commit'] }),
  discardSubmission: (input) =>
    ok({
      deleted: true,
      submissionId: (input as { submissionId?: string }).submissionId ?? SUBMISSION_ID,
      status: 'PendingCommit',
      correlationIds: ['cid-discard'],
    }),
  writeReport: () => ok({ reportBlob: `${RUN_INPUT.blob.name}/${RUN_ID}.json`, zipStamped: true }),
  getSubmissionStatus: () => ok({ status: 'PreProcessing', correlationIds: ['cid-status'] } satisfies StatusPoll),
};

/** The plain run's answers with `overrides` in their place; `followSubmission` answers the follower. */
export function store(overrides: Answers & { followSubmission?: (input: unknown) => Answer } = {}): Script {
  const { followSubmission, ...activities } = overrides;
  const answers = { ...HAPPY, ...activities };
  return {
    activity: (name, input, call) =>
      answers[name]?.(input, call) ?? fail(new Error(`no scripted answer for activity ${name}`)),
    subOrchestration: (name, input) =>
      name === 'followSubmission'
        ? (followSubmission?.(input) ?? ok(followed('PreProcessing')))
        : fail(new Error(`no scripted answer for sub-orchestration ${name}`)),
  };
}
