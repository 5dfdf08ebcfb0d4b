import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import {
  activate,
  aheadOf,
  evictFromQueue,
  joinQueue,
  leaveQueue,
  turnOf,
  type QueueEntry,
  type Turn,
} from '../../lib/productQueue';
import { queuesContainer, updateQueue } from '../../lib/productQueueBlob';
import { findRun } from '../../lib/runClient';
import { defineActivity, type ActivityInput } from './activity';

export interface TakeTurnInput extends ActivityInput {
  key: string;
  uploadedAt: string;
  joinedAt: string;
  /** Only a run that has waited out the settle time may start; until then it only joins. */
  mayStart: boolean;
}

const ENDED = new Set(['Completed', 'Failed', 'Terminated', 'Canceled']);

/**
 * Queues live per task hub: the liveness of a queued run is asked of this hub's Durable
 * client, so apps (or slots) that share a storage account must not share queues.
 */
function queueBlobKey(context: InvocationContext, key: string): string {
  return `${df.getClient(context).taskHubName}/${key}`;
}

async function endedRuns(context: InvocationContext, entries: QueueEntry[]): Promise<string[]> {
  const client = df.getClient(context);
  const ended: string[] = [];
  for (const entry of entries) {
    const run = await findRun(client, entry.instanceId);
    if (!run || ENDED.has(run.runtimeStatus)) ended.push(entry.instanceId);
  }
  return ended;
}

/**
 * Joins the product's queue (once) and says whether it is this run's turn, removing runs
 * ahead that have ended without leaving. When it is, and the run may start, it becomes
 * the product's active run, which later uploads never overtake.
 */
export const takeTurn = defineActivity(
  'takeTurn',
  async (input: TakeTurnInput, scope): Promise<Turn> => {
    const container = queuesContainer();
    const blobKey = queueBlobKey(scope.context, input.key);
    const entry: QueueEntry = { instanceId: input.instanceId, uploadedAt: input.uploadedAt, joinedAt: input.joinedAt };
    const ahead = await updateQueue(container, blobKey, (queue) => {
      const joined = joinQueue(queue, entry);
      return { queue: joined, result: aheadOf(joined, input.instanceId) };
    });
    const ended = ahead.length > 0 ? await endedRuns(scope.context, ahead) : [];
    const turn = await updateQueue(container, blobKey, (queue) => {
      const cleaned = ended.length > 0 ? evictFromQueue(queue, ended) : queue;
      const now = turnOf(cleaned, input.instanceId);
      const next = now.mine && input.mayStart ? activate(cleaned, input.instanceId) : cleaned;
      return { queue: next, result: now };
    });
    if (ended.length > 0) scope.log(`removed ended runs from the ${input.key} queue: ${ended.join(', ')}`);
    return turn;
  },
  { extraInputs: [df.input.durableClient()] },
);

export interface LeaveTurnInput extends ActivityInput {
  key: string;
}

export const leaveTurn = defineActivity(
  'leaveTurn',
  async (input: LeaveTurnInput, scope) => {
    await updateQueue(queuesContainer(), queueBlobKey(scope.context, input.key), (queue) => ({
      queue: leaveQueue(queue, input.instanceId),
      result: undefined,
    }));
    scope.log(`left the ${input.key} queue`);
    return {};
  },
  { extraInputs: [df.input.durableClient()] },
);
