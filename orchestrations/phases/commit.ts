import type * as df from 'durable-functions';
import type { RunInput } from '../../lib/run';
import type { SubmissionStatus } from '../../lib/store/types';
import { commitSubmission } from '../activities/storeSubmissionSteps';
import { uploadPackageZip } from '../activities/uploadPackageZip';
import type { RunTracker } from '../tracker';
import { orDiscard, type Draft } from './draft';

/**
 * Uploads the zip to the submission's upload URL and commits it; returns the status the
 * commit answered. If either fails, the draft is deleted.
 */
export function* uploadAndCommit(
  run: RunTracker,
  input: RunInput,
  draft: Draft,
): Generator<df.Task, SubmissionStatus, unknown> {
  return yield* orDiscard(run, draft, upload(run, input, draft));
}

function* upload(run: RunTracker, input: RunInput, draft: Draft): Generator<df.Task, SubmissionStatus, unknown> {
  const { product, submissionId } = draft;
  const uploaded = yield* run.step('Uploading', uploadPackageZip, { blob: input.blob, product, submissionId });
  const { bytes, blocks, method, durationMs } = uploaded;
  run.show({ upload: { bytes, blocks, method, durationMs } });
  const commit = yield* run.step('Committing', commitSubmission, { product, submissionId });
  run.show({ storeStatus: commit.status });
  return commit.status;
}
