import type * as df from 'durable-functions';
import type { RunState } from '../../lib/run';
import { shorten } from '../../lib/statusBound';
import { leaveTurn } from '../activities/productQueue';
import { writeReport } from '../activities/writeReport';
import { failureOf, type RunTracker } from '../tracker';

/**
 * How every run ends, a canceled one's cleanup included: the report is written, the product's
 * queue is left, with the release if the run delivered it (neither failing stops the ending: a
 * run that could not leave is removed by the next run, which sees it has ended), and the final
 * status is set. A failed run then
 * fails its orchestration with the failure's message; any other returns its final state.
 */
export function* finishRun(run: RunTracker, createdTime: string | undefined): Generator<df.Task, RunState, unknown> {
  try {
    const report = yield* run.step('WritingReport', writeReport, {
      state: { ...run.state },
      createdTime,
      endedTime: run.now.toISOString(),
    });
    run.show({ reportBlob: report.reportBlob });
  } catch (e) {
    run.log(`the report could not be written: ${failureOf(e, 'writeReport').message}`);
  }

  const { queueKey: key, release, outcome: ended } = run.state;
  if (key) {
    try {
      // A release brought to its goal is recorded in the queue: older zips of the product are then superseded.
      const delivered = ended === 'Succeeded' ? release : undefined;
      yield* run.step('WritingReport', leaveTurn, { key, ...(delivered ? { delivered } : {}) });
    } catch (e) {
      run.log(`could not leave the ${key} queue: ${failureOf(e, 'leaveTurn').message}`);
    }
  }

  const { outcome, failure } = run.state;
  if (outcome === 'Failed') {
    run.enter('Failed');
    yield* run.notify(true);
    // The runtime's output: short, the whole failure is in the status and the report.
    throw new Error(failure ? shorten(failure.message, 1000) : 'The run failed.');
  }
  run.enter(outcome === 'Canceled' || outcome === 'Rejected' ? outcome : 'Succeeded');
  yield* run.notify(true);
  return run.state;
}
