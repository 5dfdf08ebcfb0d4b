import type * as df from 'durable-functions';
import type { RunSettings } from '../activities/getRunSettings';
import { takeTurn } from '../activities/productQueue';
import type { RunTracker } from '../tracker';

/**
 * Waits, on durable timers, until no earlier upload for the same product is still running
 * (see lib/productQueue.ts). The status shows whom the run waits for, and the timeline
 * keeps it afterwards. `finishRun` leaves the queue again.
 */
export function* waitForTurn(
  context: df.OrchestrationContext,
  run: RunTracker,
  key: string,
  uploadedAt: string,
  // The settle time lets zips uploaded a moment earlier, whose runs started a moment later, join the queue first.
  settings: Pick<RunSettings, 'queueSettleSeconds' | 'queuePollSeconds'>,
): Generator<df.Task, void, unknown> {
  // Runs started before these settings existed replay with the values they had then.
  const settleMs = (settings.queueSettleSeconds ?? 10) * 1000;
  const pollMs = (settings.queuePollSeconds ?? 15) * 1000;
  run.show({ queueKey: key });
  const joinedAt = run.now.toISOString();
  const take = (mayStart: boolean) =>
    run.step('Queued', takeTurn, { key, uploadedAt, joinedAt, mayStart }, { quiet: true });
  const record = run.record('waitForTurn');
  yield* take(false);
  record.detail = `giving earlier uploads for this product ${settleMs / 1000} s to join the queue`;
  run.publish();
  yield context.df.createTimer(new Date(run.now.getTime() + settleMs));
  const waitedFor: string[] = [];
  for (;;) {
    const turn = yield* take(true);
    if (turn.mine) break;
    if (turn.behind && !waitedFor.includes(turn.behind)) waitedFor.push(turn.behind);
    record.detail = `waiting for ${turn.behind} (${turn.position} ahead)`;
    run.show({ queuedBehind: turn.behind });
    yield context.df.createTimer(new Date(run.now.getTime() + pollMs));
  }
  record.endedAt = run.now.toISOString();
  record.detail = waitedFor.length > 0 ? `waited for ${waitedFor.join(', ')}` : 'no earlier run for this product';
  run.show({ queuedBehind: undefined, waitedFor: waitedFor.length > 0 ? waitedFor : undefined });
}
