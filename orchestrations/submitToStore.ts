import * as df from 'durable-functions';
import { productKey } from '../lib/productQueue';
import type { RunInput, RunState } from '../lib/run';
import { RUN_ORCHESTRATION } from '../lib/runClient';
import { uploadAndCommit } from './phases/commit';
import { createDraft, discardDryRun } from './phases/draft';
import { finishRun } from './phases/finish';
import { followToGoal } from './phases/follow';
import { prepareProduct } from './phases/product';
import { waitForTurn } from './phases/queue';
import { validate } from './phases/validate';
import { RunTracker } from './tracker';

/**
 * One Store submission, for an app, a flight or an add-on, from a zip in storage, as a short
 * list of phases (orchestrations/phases/): each takes what it needs and returns what it found,
 * and tells the tracker what the status should show. Any failure after create deletes our
 * uncommitted submission, so the product is never left half-made; every run ends with a report.
 */
export function* submitToStoreOrchestrator(context: df.OrchestrationContext): Generator<df.Task, RunState, unknown> {
  const input = context.df.getInput<RunInput>();
  const run = new RunTracker(context, { phase: 'Validating', blob: input.blob, timeline: [] });
  const createdTime = run.now.toISOString();
  try {
    const { settings, zip } = yield* validate(run, input);
    yield* waitForTurn(context, run, productKey(zip.target), input.uploadedAt ?? createdTime, settings);
    const product = yield* prepareProduct(run, zip);
    const draft = yield* createDraft(run, input, product);
    if (zip.options.dryRun === true) {
      yield* discardDryRun(run, draft);
      run.show({ outcome: 'DryRunSucceeded' });
    } else {
      const status = yield* uploadAndCommit(run, input, draft);
      yield* followToGoal(run, settings, zip.options, draft, status);
      run.show({ outcome: 'Succeeded' });
    }
  } catch (e) {
    run.fail(e);
  }
  return yield* finishRun(run, createdTime);
}

export const submitToStore = df.app.orchestration(RUN_ORCHESTRATION, submitToStoreOrchestrator);
