import { createHash } from 'node:crypto';

/**
 * One orchestration per uploaded blob version: the id is a digest of container, name and
 * ETag, so a trigger that fires twice for one upload finds the run it already started,
 * while a new upload of the same name (new ETag) starts a new one.
 */
export function instanceIdFor(container: string, name: string, etag: string): string {
  const digest = createHash('sha256')
    .update(`${container}\n${name}\n${normalizeEtag(etag)}`)
    .digest('hex');
  return `zip-${digest.slice(0, 40)}`;
}

/** ETags arrive quoted from some APIs and bare from others; the id must not depend on which. */
export function normalizeEtag(etag: string): string {
  const bare = etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
  return `"${bare}"`;
}

export function isInstanceId(value: string): boolean {
  return /^zip-[0-9a-f]{40}$/.test(value);
}

/** The follower sub-orchestration's id is derived from its run's, so the status endpoint can find it. */
export function followerIdOf(runId: string): string {
  return `${runId}-follow`;
}

/** The cleanup instance of a canceled run, likewise derived from the run's id. */
export function cancelIdOf(runId: string): string {
  return `${runId}-cancel`;
}

/**
 * The sub-orchestrations with which an MSI/EXE run waits out someone else's submission in
 * progress (the Store refuses every change to the draft meanwhile): one per wait, numbered
 * from 1, so a cancel can find and stop them.
 */
export function ongoingWaiterIdOf(runId: string, n: number): string {
  return `${runId}-ongoing-${n}`;
}

/**
 * The notifier of a run's n-th event (orchestrations/notify.ts), numbered from 1: the status
 * endpoint reads 1..n to show what was delivered or given up in the run's timeline.
 */
export function notifierIdOf(runId: string, sequence: number): string {
  return `${runId}-notify-${sequence}`;
}

/** The follower that watches the n-th pending submission a run waits for (another's, never deleted). */
export function pendingFollowerIdOf(runId: string, n: number): string {
  return `${runId}-pending-${n}`;
}
