import { type Reply, apiError, clone, empty, envelope, isRecord, json, notFound } from '../http';
import {
  type Json,
  PACKAGE_ROLLOUT_NOT_STARTED,
  type Product,
  type Submission,
  blankSubmissionData,
  fileEntries,
} from '../state';
import { applyUpdate } from '../validate';
import { type ApiContext, type Handler, type Params, productFrom } from './context';

const PORTAL_REFUSAL = 'Ingestion API can only update, delete, and commit submissions that are created through the API';

/** CommitStarted through Publishing: the Store is working on it; only PendingCommit and the final failures can be deleted. */
const PROCESSING = ['CommitStarted', 'PreProcessing', 'Certification', 'Release', 'PendingPublication', 'Publishing'];

function submissionFrom(ctx: ApiContext, params: Params): { product: Product; sub: Submission } {
  const product = productFrom(ctx, params);
  const sub = ctx.core.store.submissionOf(product, params.submissionId ?? '');
  if (!sub) {
    // A submission of another product is a 409, not a 404: "The submission does not belong to the
    // specified app" (get-an-app-submission.md, and the same 409 on the update, commit, delete and
    // status pages). The message is ours: the docs give none.
    if (ctx.core.store.submissions.has(params.submissionId ?? ''))
      throw apiError(409, 'InvalidState', 'The submission does not belong to the specified product.', 'submission');
    throw notFound();
  }
  return { product, sub };
}

/** Writes (PUT, DELETE, commit) are for submissions created through the API only. */
function refusePortal(sub: Submission): void {
  if (sub.createdIn === 'PartnerCenter') throw apiError(400, 'InvalidOperation', PORTAL_REFUSAL, 'submission');
}

function requirePendingCommit(sub: Submission): void {
  if (sub.status !== 'PendingCommit') {
    throw apiError(
      409,
      'InvalidState',
      `The submission is in status ${sub.status}; only a submission in PendingCommit can be changed.`,
      'submission',
    );
  }
}

function rolloutOf(sub: Submission | undefined): Json | undefined {
  const options = sub?.data.packageDeliveryOptions;
  return isRecord(options) && isRecord(options.packageRollout) ? options.packageRollout : undefined;
}

function rolloutInProgress(sub: Submission | undefined): boolean {
  const rollout = rolloutOf(sub);
  return rollout?.isPackageRollout === true && rollout.packageRolloutStatus === 'PackageRolloutInProgress';
}

/** POST .../submissions: a deep clone of the last published submission, with a new id and upload URL. */
export const createSubmission: Handler = (ctx, params) => {
  const product = productFrom(ctx, params);
  const { store } = ctx.core;
  if (product.pendingSubmissionId) {
    const what =
      product.kind === 'inappproduct'
        ? 'The add-on already has an in-progress submission'
        : `The ${product.kind} already has a pending submission`;
    throw apiError(
      409,
      'InvalidState',
      `${what} (${product.pendingSubmissionId}). Commit or delete it first.`,
      'submission',
    );
  }
  const published = product.lastPublishedSubmissionId
    ? store.submissions.get(product.lastPublishedSubmissionId)
    : undefined;
  if (rolloutInProgress(published)) {
    throw apiError(
      409,
      'InvalidState',
      'The published submission has a package rollout in progress. Halt or finalize the rollout before creating a new submission.',
      'submission',
    );
  }
  if (product.kind === 'application' && !published) {
    // "Before you can create a submission for a given app using this API, you must first create
    // one submission for the app in Partner Center, including answering the age ratings
    // questionnaire" (create-and-manage-submissions-using-windows-store-services.md); the create
    // page answers 409 "because of the current state of the app".
    throw apiError(
      409,
      'InvalidState',
      'The application has no published submission. Its first submission, with the age ratings questionnaire, must be completed in Partner Center before submissions can be created through the API.',
      'submission',
    );
  }
  const friendlyName = `Submission ${product.submissionCount + 1}`;
  const data: Json = published ? clone(published.data) : blankSubmissionData(product.kind, friendlyName);
  for (const ref of fileEntries({ kind: product.kind, data })) ref.entry.fileStatus = 'Uploaded';
  const options = data.packageDeliveryOptions;
  if (isRecord(options)) options.packageRollout = { ...PACKAGE_ROLLOUT_NOT_STARTED };
  if ('friendlyName' in data) data.friendlyName = friendlyName;
  const sub = store.addSubmission(product, {
    createdIn: 'API',
    status: 'PendingCommit',
    data,
    upload: ctx.core.mintUpload(),
  });
  product.pendingSubmissionId = sub.id;
  if (ctx.query.get('isMinimalResponse')?.toLowerCase() === 'true') {
    const head: Json = { id: sub.id };
    if (sub.kind === 'flight') head.flightId = sub.productId;
    return json(201, {
      ...head,
      status: sub.status,
      statusDetails: clone(sub.statusDetails),
      fileUploadUrl: sub.upload?.url ?? null,
    });
  }
  const full = store.renderSubmission(sub);
  const limit = ctx.core.config.fullCloneMaxBytes;
  if (limit > 0 && Buffer.byteLength(JSON.stringify(full)) > limit) {
    // The clone was made, but returning it in full timed out (StoreBroker ApplicationApi New-ApplicationSubmission).
    return json(500, {
      ...envelope(
        'InternalServerError',
        'An internal server error occurred while processing the operation.',
        'submission',
      ),
      innererror: {
        code: 'UnknownInternalFailure',
        data: [],
        details: [],
        message: 'The service has encountered an unknown internal server error: ',
      },
    });
  }
  return json(201, full);
};

export const getSubmission: Handler = (ctx, params) => {
  const { sub } = submissionFrom(ctx, params);
  return json(200, ctx.core.store.renderSubmission(sub));
};

export const updateSubmission: Handler = async (ctx, params) => {
  const { sub } = submissionFrom(ctx, params);
  refusePortal(sub);
  requirePendingCommit(sub);
  const app = sub.applicationId ? ctx.core.store.application(sub.applicationId) : undefined;
  sub.data = applyUpdate(sub.kind, sub.data, await ctx.body(), {
    advancedListings: app?.hasAdvancedListingPermission !== false,
  });
  return json(200, ctx.core.store.renderSubmission(sub));
};

export const deleteSubmission: Handler = (ctx, params) => {
  const { product, sub } = submissionFrom(ctx, params);
  refusePortal(sub);
  if (product.pendingSubmissionId !== sub.id) {
    throw apiError(
      409,
      'InvalidState',
      'Only the pending submission can be deleted; this one is not in progress.',
      'submission',
    );
  }
  if (PROCESSING.includes(sub.status)) {
    // "409: The specified submission was found but it could not be deleted in its current state"
    // (delete-an-app-submission.md); the message as users saw it (Iktahana/illusions#1349). A
    // submission waiting in Release for a manual publish is still being processed.
    throw apiError(409, 'InvalidState', 'Submission in its current state cannot be deleted', 'submission');
  }
  ctx.core.discardSubmission(sub);
  return empty(204);
};

export const commitSubmission: Handler = (ctx, params) => {
  const { sub } = submissionFrom(ctx, params);
  refusePortal(sub);
  requirePendingCommit(sub);
  const limited = ctx.core.takeCommitAllowance(ctx.tenantId);
  if (limited) return limited;
  ctx.core.lifecycle.commit(sub);
  return json(202, { status: 'CommitStarted' });
};

export const getStatus: Handler = (ctx, params) => {
  const { sub } = submissionFrom(ctx, params);
  return json(200, { status: sub.status, statusDetails: clone(sub.statusDetails) });
};

/**
 * The rollout calls work on the last published submission while its rollout is in progress, and answer 409 otherwise
 * (halt-, update-the-package-rollout-percentage- and finalize-the-package-rollout-for-an-app-submission.md, in
 * MicrosoftDocs/windows-dev-docs uwp/monetize/, whose 409 rows name these states).
 */
function rolloutTarget(ctx: ApiContext, params: Params): Json {
  const { product, sub } = submissionFrom(ctx, params);
  const rollout = rolloutOf(sub);
  if (product.lastPublishedSubmissionId !== sub.id || !rollout || !rolloutInProgress(sub)) {
    throw apiError(
      409,
      'InvalidState',
      'The submission has no package rollout in progress: it must be the published submission with a gradual rollout under way.',
      'packageRollout',
    );
  }
  return rollout;
}

function rolloutReply(rollout: Json): Reply {
  return json(200, clone(rollout));
}

/** 200 with the submission's rollout values, NotStarted when it has none (get-package-rollout-info-for-an-app-submission.md). */
export const getRollout: Handler = (ctx, params) => {
  const { sub } = submissionFrom(ctx, params);
  return rolloutReply(rolloutOf(sub) ?? { ...PACKAGE_ROLLOUT_NOT_STARTED });
};

/** `?percentage=` is a float, the share of customers who get the new packages (update-the-package-rollout-percentage-for-an-app-submission.md). */
export const updateRolloutPercentage: Handler = (ctx, params) => {
  const rollout = rolloutTarget(ctx, params);
  const raw = ctx.query.get('percentage');
  const percentage = Number(raw);
  if (raw === null || raw.trim() === '' || !(percentage >= 0 && percentage <= 100)) {
    throw apiError(
      400,
      'InvalidParameterValue',
      `Invalid value for 'percentage': expected a number from 0 to 100, got '${raw ?? ''}'.`,
      'percentage',
    );
  }
  rollout.packageRolloutPercentage = percentage;
  return rolloutReply(rollout);
};

export const haltRollout: Handler = (ctx, params) => {
  const rollout = rolloutTarget(ctx, params);
  // "halts the rollout": percentage 0 and status Stopped (halt-the-package-rollout-for-an-app-submission.md).
  rollout.packageRolloutStatus = 'PackageRolloutStopped';
  rollout.packageRolloutPercentage = 0;
  return rolloutReply(rollout);
};

export const finalizeRollout: Handler = (ctx, params) => {
  const rollout = rolloutTarget(ctx, params);
  // Completes the rollout: every customer gets the new packages (finalize-the-package-rollout-for-an-app-submission.md).
  rollout.packageRolloutStatus = 'PackageRolloutComplete';
  rollout.packageRolloutPercentage = 100;
  return rolloutReply(rollout);
};
