import type * as df from 'durable-functions';
import type { ManifestOptions } from '../../lib/manifest';
import { RAMP_EVENT, dueTimes, type RampControl, type RampView } from '../../lib/ramp';
import type { RunSettings } from '../activities/getRunSettings';
import { leaveTurn } from '../activities/productQueue';
import { rampStep } from '../activities/rampStep';
import type { RunTracker } from '../tracker';
import type { Draft } from './draft';

/** A ramp with steps after the first: the run follows its submission until published, then ramps. */
export function hasRamp(options: ManifestOptions): boolean {
  return (options.rollout?.length ?? 0) > 1;
}

function isControl(value: unknown): value is RampControl {
  const v = value as Partial<RampControl> | null;
  return !!v && (v.action === 'halt' || v.action === 'pause' || v.action === 'resume') && typeof v.by === 'string';
}

/**
 * After Published: each later step of `options.rollout` on a durable timer, `after` counted from
 * the publication, each change a timeline entry with its correlation ids. The wait for a step
 * is raced with the `rampControl` event: pause holds the schedule (the Store's rollout stays
 * where it is), resume takes it up again (a step already due is applied at once), halt calls
 * the Store's halt and ends the ramp. A rollout found changed by hand (another percentage,
 * halted or finalized in Partner Center) stops the ramp, which says so. The run leaves its
 * product's queue first: a new run for the product meets the rollout and follows
 * options.existingRollout, as it would for any rollout in progress.
 */
export function* rampRollout(
  context: df.OrchestrationContext,
  run: RunTracker,
  settings: RunSettings,
  options: ManifestOptions,
  draft: Draft,
): Generator<df.Task, void, unknown> {
  const steps = options.rollout ?? [];
  if (steps.length < 2) return;
  const { queueKey: key, release } = run.state;
  if (key) {
    yield* run.step('RampingRollout', leaveTurn, { key, ...(release ? { delivered: release } : {}) });
    run.show({ queueKey: undefined });
  }
  const publishedAt = run.now;
  const due = dueTimes(steps, publishedAt);
  // Paused longer than the run follows a submission at all, the ramp gives up and says so.
  const pauseLimit = new Date(publishedAt.getTime() + settings.publishDeadlineHours * 3_600_000);
  const view: RampView = {
    state: 'Waiting',
    steps: steps.map((s, i) => ({ ...s, ...(due[i] ? { dueAt: due[i].toISOString() } : {}) })),
    next: 1,
  };
  view.steps[0]!.appliedAt = publishedAt.toISOString();
  let expected = steps[0]!.percentage ?? 0;
  const target = { product: draft.product, submissionId: draft.submissionId };

  let i = 1;
  while (i < steps.length) {
    run.enter('RampingRollout');
    run.show({ ramp: view });
    yield* run.notify();
    const paused = view.state === 'Paused';
    const event = context.df.waitForExternalEvent(RAMP_EVENT);
    const timer = context.df.createTimer(paused ? pauseLimit : due[i]!);
    const winner = yield context.df.Task.any([event, timer]);

    if (winner === timer) {
      if (paused) {
        view.state = 'Halted';
        view.message = `The ramp was paused past the run's deadline (${pauseLimit.toISOString()}) and ends here; the rollout stays at ${expected}%.`;
        break;
      }
      const step = steps[i]!;
      const result = yield* run.step('RampingRollout', rampStep, { ...target, step, expected });
      if (result.outcome === 'changedOutside') {
        view.state = 'ChangedOutside';
        view.message = `The rollout was changed outside the ramp (it is ${result.status} at ${result.percentage}%, the ramp had set ${expected}%), so the ramp stops and leaves it as it is.`;
        break;
      }
      view.steps[i] = {
        ...view.steps[i]!,
        appliedAt: run.now.toISOString(),
        correlationId: result.correlationIds.at(-1),
      };
      expected = step.finalize === true ? 100 : (step.percentage ?? expected);
      i++;
      view.next = i;
      continue;
    }

    timer.cancel();
    const control = event.result;
    if (!isControl(control)) continue;
    view.control = control;
    if (control.action === 'pause') view.state = 'Paused';
    else if (control.action === 'resume') view.state = 'Waiting';
    else {
      const result = yield* run.step('RampingRollout', rampStep, { ...target, step: 'halt', expected });
      view.state = result.outcome === 'changedOutside' ? 'ChangedOutside' : 'Halted';
      view.message =
        result.outcome === 'changedOutside'
          ? `Halt asked by ${control.by}, but the rollout was no longer in progress (${result.status} at ${result.percentage}%): left as it is.`
          : `Halted by ${control.by} at ${control.at}: the Store's rollout is stopped (0%), customers get the fallback submission.`;
      break;
    }
  }
  if (i >= steps.length) view.state = steps.at(-1)?.finalize === true ? 'Finalized' : 'Done';
  delete view.next;
  run.show({ ramp: view });
  run.log(`ramp ${view.state}${view.message ? `: ${view.message}` : ''}`);
}
