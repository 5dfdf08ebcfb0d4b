import * as df from 'durable-functions';
import { queuePlace } from '../lib/productQueue';
import type { RunInput, RunState, ValidatedZip } from '../lib/run';
import { RUN_ORCHESTRATION } from '../lib/runClient';
import { awaitApproval } from './phases/approval';
import { uploadAndCommit } from './phases/commit';
import { createDraft, discardDryRun } from './phases/draft';
import { finishRun } from './phases/finish';
import { followToGoal } from './phases/follow';
import { prepareProduct } from './phases/product';
import { hasRamp, rampRollout } from './phases/ramp';
import { waitForTurn } from './phases/queue';
import { validate } from './phases/validate';
import { submitWin32 } from './phases/win32';
import type { RunSettings } from './activities/getRunSettings';
import { RunTracker } from './tracker';

/**
 * One Store submission, for an app, a flight, an add-on or an MSI/EXE app, from a zip in
 * storage, as a short list of phases (orchestrations/phases/): each takes what it needs and
 * returns what it found, and tells the tracker what the status should show. Any failure after
 * create deletes our uncommitted submission (or puts an MSI/EXE app's draft back), so the
 * product is never left half-made; every run ends with a report.
 */
export function* submitToStoreOrchestrator(context: df.OrchestrationContext): Generator<df.Task, RunState, unknown> {
  const input = context.df.getInput<RunInput>();
  const run = new RunTracker(context, { phase: 'Validating', blob: input.blob, timeline: [] });
  const createdTime = run.now.toISOString();
  try {
    const { settings, zip } = yield* validate(run, input);
    run.enableNotifications(settings.notify);
    yield* run.notify();
    const place = queuePlace(zip, input.blob.name, input.uploadedAt ?? createdTime);
    const superseded = yield* waitForTurn(context, run, place, settings);
    // MSI/EXE apps: another API, one draft per product and no upload (phases/win32.ts).
    if (!superseded && zip.target.kind === 'win32')
      yield* submitWin32(context, run, input, settings, zip.target, zip.options);
    else if (!superseded) yield* submit(context, run, input, settings, zip);
  } catch (e) {
    run.fail(e);
  }
  return yield* finishRun(run, createdTime);
}

/** The run's turn: from the product's state in the Store to the goal the options name. */
function* submit(
  context: df.OrchestrationContext,
  run: RunTracker,
  input: RunInput,
  settings: RunSettings,
  zip: ValidatedZip,
): Generator<df.Task, void, unknown> {
  const product = yield* prepareProduct(run, settings, input, zip);
  const draft = yield* createDraft(run, input, product);
  if (zip.options.dryRun === true) {
    yield* discardDryRun(run, draft);
    run.show({ outcome: 'DryRunSucceeded' });
  } else {
    // options.commit "approval": a person approves (commit) or rejects (deleted, outcome Rejected) first.
    const gate = zip.options.commit === 'approval' ? () => awaitApproval(context, run, settings, draft) : undefined;
    const status = yield* uploadAndCommit(run, input, draft, gate);
    if (status === undefined) return;
    // A ramp goes on after publication: the run follows the submission until then, whatever waitFor says.
    const goal = hasRamp(zip.options) ? { ...zip.options, waitFor: 'published' as const } : zip.options;
    yield* followToGoal(run, settings, goal, draft, status);
    yield* rampRollout(context, run, settings, zip.options, draft);
    run.show({ outcome: 'Succeeded' });
  }
}

export const submitToStore = df.app.orchestration(RUN_ORCHESTRATION, submitToStoreOrchestrator);
