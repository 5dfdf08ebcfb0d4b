import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import {
  activate,
  aheadOf,
  evictFromQueue,
  joinQueue,
  leaveQueue,
  newerWaiting,
  supersededBy,
  turnOf,
  type QueueEntry,
  type Release,
  type Turn,
} from '../../lib/productQueue';
import { queuesContainer, updateQueue } from '../../lib/productQueueBlob';
import { findRun } from '../../lib/runClient';
import { defineActivity, type ActivityInput } from './activity';

export interface TakeTurnInput extends ActivityInput {
  key: string;
  uploadedAt: string;
  blobName?: string;
  joinedAt: string;
  release?: Release;
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
 * the product's active run, which later uploads never overtake, unless a newer release
 * supersedes it (then it stays inactive, and leaves as every run does, in finishRun).
 */
export const takeTurn = defineActivity(
  'takeTurn',
  async (input: TakeTurnInput, scope): Promise<Turn> => {
    const container = queuesContainer();
    const blobKey = queueBlobKey(scope.context, input.key);
    const entry: QueueEntry = {
      instanceId: input.instanceId,
      uploadedAt: input.uploadedAt,
      ...(input.blobName !== undefined ? { blobName: input.blobName } : {}),
      joinedAt: input.joinedAt,
      ...(input.release ? { release: input.release } : {}),
    };
    // The runs this one may wait for, and, at its turn, the ones whose newer release would supersede it.
    const watched = await updateQueue(container, blobKey, (queue) => {
      const joined = joinQueue(queue, entry);
      const rivals = input.mayStart ? newerWaiting(joined, input.instanceId) : [];
      return { queue: joined, result: [...aheadOf(joined, input.instanceId), ...rivals] };
    });
    const ended = watched.length > 0 ? await endedRuns(scope.context, watched) : [];
    const turn = await updateQueue(container, blobKey, (queue) => {
      const cleaned = ended.length > 0 ? evictFromQueue(queue, ended) : queue;
      const now = turnOf(cleaned, input.instanceId);
      if (!now.mine || !input.mayStart) return { queue: cleaned, result: now };
      const superseded = supersededBy(cleaned, input.instanceId);
      if (superseded) return { queue: cleaned, result: { ...now, supersededBy: superseded } };
      return { queue: activate(cleaned, input.instanceId), result: now };
    });
    if (ended.length > 0) scope.log(`removed ended runs from the ${input.key} queue: ${ended.join(', ')}`);
    return turn;
  },
  { extraInputs: [df.input.durableClient()] },
);

export interface LeaveTurnInput extends ActivityInput {
  key: string;
  /** The release the run brought to its goal (outcome Succeeded), recorded for the newest-release rule. */
  delivered?: Release;
}

export const leaveTurn = defineActivity(
  'leaveTurn',
  async (input: LeaveTurnInput, scope) => {
    await updateQueue(queuesContainer(), queueBlobKey(scope.context, input.key), (queue) => ({
      queue: leaveQueue(queue, input.instanceId, input.delivered),
      result: undefined,
    }));
    scope.log(
      `left the ${input.key} queue${input.delivered ? `, having delivered ${input.delivered.line} ${input.delivered.version}` : ''}`,
    );
    return {};
  },
  { extraInputs: [df.input.durableClient()] },
);
