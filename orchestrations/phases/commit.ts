import type * as df from 'durable-functions';
import type { RunInput } from '../../lib/run';
import type { SubmissionStatus } from '../../lib/store/types';
import { commitSubmission } from '../activities/storeSubmissionSteps';
import { uploadPackageZip } from '../activities/uploadPackageZip';
import type { RunTracker } from '../tracker';
import { orDiscard, type Draft } from './draft';

/** Between upload and commit: true commits, false leaves the submission uncommitted (the gate has dealt with it). */
export type CommitGate = Generator<df.Task, boolean, unknown>;

/**
 * Uploads the zip to the submission's upload URL and commits it; returns the status the
 * commit answered, or undefined when `gate` said not to commit. If any of it fails, the draft is deleted.
 */
export function* uploadAndCommit(
  run: RunTracker,
  input: RunInput,
  draft: Draft,
  gate?: () => CommitGate,
): Generator<df.Task, SubmissionStatus | undefined, unknown> {
  return yield* orDiscard(run, draft, upload(run, input, draft, gate));
}

function* upload(
  run: RunTracker,
  input: RunInput,
  draft: Draft,
  gate?: () => CommitGate,
): Generator<df.Task, SubmissionStatus | undefined, unknown> {
  const { product, submissionId } = draft;
  const uploaded = yield* run.step('Uploading', uploadPackageZip, { blob: input.blob, product, submissionId });
  const { bytes, blocks, method, durationMs } = uploaded;
  run.show({ upload: { bytes, blocks, method, durationMs } });
  if (gate && !(yield* gate())) return undefined;
  const commit = yield* run.step('Committing', commitSubmission, { product, submissionId });
  run.show({ storeStatus: commit.status });
  return commit.status;
}
