/**
 * One run at a time per product, in upload order.
 *
 * Why a queue in a blob and not a Durable Entity: the queue must hold when the Function
 * App scales out to many instances, so its state has to live in storage every instance
 * sees, and every change must be atomic. A small JSON blob per product, rewritten only
 * with `If-Match` on the ETag it was read at, gives exactly that with nothing but the
 * storage account the app already has; a lost race just reads again. It also stays
 * readable for an operator (one blob per product) and can be repaired by hand. An entity
 * would give the same guarantee, but Durable entities are outside what the project's
 * local host runs, and the queue's rules are easier to test as pure functions (below).
 *
 * Runs that end without leaving (a crashed or terminated instance) do not block the
 * product: a waiting run asks the Durable client about the runs ahead of it and removes
 * the ones that have ended.
 */
import type { Target } from './manifest';

export interface QueueEntry {
  instanceId: string;
  /** When the zip was uploaded (Last-Modified, ISO): the queue's order. */
  uploadedAt: string;
  /** When the run joined (orchestration time, ISO): breaks ties of the same upload second. */
  joinedAt: string;
  /** Set once the run has its turn; an active run is never overtaken. */
  active?: boolean;
}

export interface ProductQueue {
  key: string;
  entries: QueueEntry[];
}

export interface Turn {
  mine: boolean;
  /** Runs ahead of this one. */
  position: number;
  /** The run this one waits for. */
  behind?: string;
}

/**
 * What serializes runs. An app and its flights share one queue: flight and app submissions
 * touch the same application (rollouts, pending submissions), and a flight named by its
 * friendly name cannot be told apart from one named by id before it is resolved. An add-on
 * is keyed by what the manifest names it by.
 */
export function productKey(target: Target): string {
  if (target.kind === 'addon') {
    return target.inAppProductId ? `addon-${target.inAppProductId}` : `addon-product-${target.addon!.productId}`;
  }
  return `app-${target.applicationId}`;
}

function order(a: QueueEntry, b: QueueEntry): number {
  return (
    a.uploadedAt.localeCompare(b.uploadedAt) ||
    a.joinedAt.localeCompare(b.joinedAt) ||
    a.instanceId.localeCompare(b.instanceId)
  );
}

/** Adds the run unless it is there already (a retried activity joins once). */
export function joinQueue(queue: ProductQueue, entry: QueueEntry): ProductQueue {
  if (queue.entries.some((e) => e.instanceId === entry.instanceId)) return queue;
  return { ...queue, entries: [...queue.entries, entry].sort(order) };
}

export function leaveQueue(queue: ProductQueue, instanceId: string): ProductQueue {
  return { ...queue, entries: queue.entries.filter((e) => e.instanceId !== instanceId) };
}

export function evictFromQueue(queue: ProductQueue, instanceIds: string[]): ProductQueue {
  const gone = new Set(instanceIds);
  return { ...queue, entries: queue.entries.filter((e) => !gone.has(e.instanceId)) };
}

/** Whose turn it is: the active run if there is one, otherwise the earliest upload. */
export function turnOf(queue: ProductQueue, instanceId: string): Turn {
  const active = queue.entries.find((e) => e.active);
  const head = active ?? [...queue.entries].sort(order)[0];
  if (!head || head.instanceId === instanceId) return { mine: !!head, position: 0 };
  const sorted = [...queue.entries].sort(order);
  const mineAt = sorted.findIndex((e) => e.instanceId === instanceId);
  const position = active && active.instanceId !== instanceId ? Math.max(1, mineAt) : mineAt;
  return { mine: false, position, behind: head.instanceId };
}

export function activate(queue: ProductQueue, instanceId: string): ProductQueue {
  return { ...queue, entries: queue.entries.map((e) => (e.instanceId === instanceId ? { ...e, active: true } : e)) };
}

/** The runs ahead of `instanceId`, whose liveness a waiting run checks. */
export function aheadOf(queue: ProductQueue, instanceId: string): QueueEntry[] {
  const sorted = [...queue.entries].sort(order);
  const mine = sorted.findIndex((e) => e.instanceId === instanceId);
  return sorted.filter((e, i) => e.instanceId !== instanceId && (e.active || mine < 0 || i < mine));
}
