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
  let uploaded = yield* run.step('Uploading', uploadPackageZip, { blob: input.blob, product, submissionId });
  // Each call uploads for one time slice within the host's functionTimeout (lib/hostPlan.ts);
  // the next one resumes from the staged blocks. A call that stages nothing fails instead, so
  // this ends: complete, or the step's retry budget spent.
  let durationMs = uploaded.durationMs;
  while (uploaded.complete === false) {
    uploaded = yield* run.step(
      'Uploading',
      uploadPackageZip,
      { blob: input.blob, product, submissionId },
      { quiet: true },
    );
    durationMs += uploaded.durationMs;
  }
  const { bytes, blocks, method } = uploaded;
  run.show({ upload: { bytes, blocks, method, durationMs } });
  if (gate && !(yield* gate())) return undefined;
  const commit = yield* run.step('Committing', commitSubmission, { product, submissionId });
  run.show({ storeStatus: commit.status });
  return commit.status;
}
