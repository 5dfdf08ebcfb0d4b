import { type Reply, apiError, clone, empty, isRecord, json, notFound } from '../http';
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

function submissionFrom(ctx: ApiContext, params: Params): { product: Product; sub: Submission } {
  const product = productFrom(ctx, params);
  const sub = ctx.core.store.submissionOf(product, params.submissionId ?? '');
  if (!sub) throw notFound();
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
  return json(201, store.renderSubmission(sub));
};

export const getSubmission: Handler = (ctx, params) => {
  const { sub } = submissionFrom(ctx, params);
  return json(200, ctx.core.store.renderSubmission(sub));
};

export const updateSubmission: Handler = async (ctx, params) => {
  const { sub } = submissionFrom(ctx, params);
  refusePortal(sub);
  requirePendingCommit(sub);
  sub.data = applyUpdate(sub.kind, sub.data, await ctx.body());
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

/** The rollout calls work on the last published submission while its rollout is in progress, and answer 409 otherwise. */
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

export const getRollout: Handler = (ctx, params) => rolloutReply(rolloutTarget(ctx, params));

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
  rollout.packageRolloutStatus = 'PackageRolloutStopped';
  return rolloutReply(rollout);
};

export const finalizeRollout: Handler = (ctx, params) => {
  const rollout = rolloutTarget(ctx, params);
  rollout.packageRolloutStatus = 'PackageRolloutComplete';
  rollout.packageRolloutPercentage = 100;
  return rolloutReply(rollout);
};
