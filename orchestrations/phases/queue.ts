import type * as df from 'durable-functions';
import type { QueuePlace, Release, Supersession } from '../../lib/productQueue';
import type { RunSettings } from '../activities/getRunSettings';
import { takeTurn } from '../activities/productQueue';
import type { RunTracker } from '../tracker';

/**
 * Waits, on durable timers, until no earlier upload for the same product is still running
 * (see lib/productQueue.ts). The status shows whom the run waits for, and the timeline
 * keeps it afterwards. `finishRun` leaves the queue again.
 *
 * Returns true when, at its turn, a newer release of the product made this run's moot: the
 * outcome is then `Superseded`, naming that run, and the run submits nothing.
 */
export function* waitForTurn(
  context: df.OrchestrationContext,
  run: RunTracker,
  place: QueuePlace,
  // The settle time lets zips uploaded a moment earlier, whose runs started a moment later, join the queue first.
  settings: Pick<RunSettings, 'queueSettleSeconds' | 'queuePollSeconds'>,
): Generator<df.Task, boolean, unknown> {
  // Runs started before these settings existed replay with the values they had then.
  const settleMs = (settings.queueSettleSeconds ?? 10) * 1000;
  const pollMs = (settings.queuePollSeconds ?? 15) * 1000;
  const { key, release } = place;
  run.show({ queueKey: key, release });
  const joinedAt = run.now.toISOString();
  const take = (mayStart: boolean) => run.step('Queued', takeTurn, { ...place, joinedAt, mayStart }, { quiet: true });
  const record = run.record('waitForTurn');
  yield* take(false);
  record.detail = `giving earlier uploads for this product ${settleMs / 1000} s to join the queue`;
  run.publish();
  yield context.df.createTimer(new Date(run.now.getTime() + settleMs));
  const waitedFor: string[] = [];
  let superseded: Supersession | undefined;
  for (;;) {
    const turn = yield* take(true);
    if (turn.mine) {
      superseded = turn.supersededBy;
      break;
    }
    if (turn.behind && !waitedFor.includes(turn.behind)) waitedFor.push(turn.behind);
    record.detail = `waiting for ${turn.behind} (${turn.position} ahead)`;
    run.show({ queuedBehind: turn.behind });
    yield context.df.createTimer(new Date(run.now.getTime() + pollMs));
  }
  record.endedAt = run.now.toISOString();
  record.detail = waitedFor.length > 0 ? `waited for ${waitedFor.join(', ')}` : 'no earlier run for this product';
  run.show({ queuedBehind: undefined, waitedFor: waitedFor.length > 0 ? waitedFor : undefined });
  if (!superseded || !release) return false;
  const message = supersededMessage(release, superseded);
  const step = run.record('superseded');
  step.endedAt = step.startedAt;
  step.detail = message;
  run.show({ outcome: 'Superseded', supersededBy: { ...superseded, message } });
  return true;
}

function supersededMessage(release: Release, by: Supersession): string {
  const newer =
    by.because === 'committed'
      ? `run ${by.instanceId} already brought version ${by.version} of this product to the Store`
      : `run ${by.instanceId}, queued behind this one, carries the newer version ${by.version}`;
  return `Not submitted: this zip's packages have version ${release.version}, and ${newer}. The Store takes only a version higher than the one it has; to submit this zip, give its packages a higher version.`;
}
