/**
 * One run at a time per product, in upload order, and the newest release wins.
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
 *
 * The newest release wins: upload order alone cannot say which zip is the newer release
 * (storage gives an upload's time to the second, so ten zips uploaded within one second tie,
 * and a later upload may be an older build). So the queue also keeps, per release line, the
 * highest package version a run of the product brought to its goal, and a run whose packages
 * are not newer than that, or than a run waiting behind it, is not submitted (`supersededBy`).
 */
import { compareVersions } from './package/identity';
import type { Target } from './manifest';

export interface QueueEntry {
  instanceId: string;
  /** When the zip was uploaded (Last-Modified, ISO, whole seconds): the queue's order. */
  uploadedAt: string;
  /** The zip's blob name: orders uploads of the same second, so that the order does not depend on which run started first. */
  blobName?: string;
  /** When the run joined (orchestration time, ISO): breaks ties of one upload second and one name (a zip overwritten). */
  joinedAt: string;
  /** What the run would submit; runs without one (no readable package version, dry runs, add-ons) are never superseded. */
  release?: Release;
  /** Set once the run has its turn; an active run is never overtaken. */
  active?: boolean;
}

/** What a run submits, for the newest-release rule. */
export interface Release {
  /** The app itself, or one of its flights: each has its own packages and its own newest version. */
  line: string;
  /** The highest package version in the zip (`major.minor.build.revision`). */
  version: string;
}

export interface CommittedRelease {
  instanceId: string;
  version: string;
}

export interface ProductQueue {
  key: string;
  entries: QueueEntry[];
  /** Per release line: the highest version a run brought to its goal (the run's outcome was Succeeded). */
  committed?: Record<string, CommittedRelease>;
}

export interface Supersession {
  /** The run with the newer (or the same) release. */
  instanceId: string;
  version: string;
  /** `committed`: that run already brought it to its goal; `queued`: it waits behind this one and will submit it. */
  because: 'committed' | 'queued';
}

export interface Turn {
  mine: boolean;
  /** Runs ahead of this one. */
  position: number;
  /** The run this one waits for. */
  behind?: string;
  /** At its turn: a newer release makes this run's moot; it submits nothing. */
  supersededBy?: Supersession;
}

/**
 * What serializes runs. An app and its flights share one queue: flight and app submissions
 * touch the same application (rollouts, pending submissions), and a flight named by its
 * friendly name cannot be told apart from one named by id before it is resolved. An add-on
 * is keyed by what the manifest names it by; an MSI/EXE app by its product id.
 */
export function productKey(target: Target): string {
  if (target.kind === 'win32') return `win32-${target.productId.toLowerCase()}`;
  if (target.kind === 'addon') {
    return target.inAppProductId ? `addon-${target.inAppProductId}` : `addon-product-${target.addon!.productId}`;
  }
  return `app-${target.applicationId}`;
}

/** The release line of a target: the app, or a flight by the id or name the manifest gives it. */
export function releaseLine(target: Target): string {
  if (target.kind !== 'flight') return target.kind;
  return target.flight ? `flight-name-${target.flight.friendlyName}` : `flight-${target.flightId}`;
}

/** Where a run stands in its product's queue. */
export interface QueuePlace {
  key: string;
  /** When the zip was uploaded: the queue's order, then the blob's name. */
  uploadedAt: string;
  blobName: string;
  /** What the run would submit: none for a dry run (it submits nothing) or without a package version. */
  release?: Release;
}

export function queuePlace(
  zip: { target: Target; options: { dryRun?: boolean }; packageVersion?: string },
  blobName: string,
  uploadedAt: string,
): QueuePlace {
  const release =
    zip.options.dryRun !== true && zip.packageVersion
      ? { line: releaseLine(zip.target), version: zip.packageVersion }
      : undefined;
  return { key: productKey(zip.target), uploadedAt, blobName, ...(release ? { release } : {}) };
}

function order(a: QueueEntry, b: QueueEntry): number {
  return (
    a.uploadedAt.localeCompare(b.uploadedAt) ||
    (a.blobName ?? '').localeCompare(b.blobName ?? '') ||
    a.joinedAt.localeCompare(b.joinedAt) ||
    a.instanceId.localeCompare(b.instanceId)
  );
}

/** Adds the run unless it is there already (a retried activity joins once). */
export function joinQueue(queue: ProductQueue, entry: QueueEntry): ProductQueue {
  if (queue.entries.some((e) => e.instanceId === entry.instanceId)) return queue;
  return { ...queue, entries: [...queue.entries, entry].sort(order) };
}

/**
 * Leaves the queue; a run that brought its release to its goal records it, unless a higher
 * version of that line is recorded already (the record only ever moves up, as the Store's does).
 */
export function leaveQueue(queue: ProductQueue, instanceId: string, delivered?: Release): ProductQueue {
  const entries = queue.entries.filter((e) => e.instanceId !== instanceId);
  const recorded = delivered && queue.committed?.[delivered.line];
  if (!delivered || (recorded && compareVersions(recorded.version, delivered.version) >= 0))
    return { ...queue, entries };
  return {
    ...queue,
    entries,
    committed: { ...queue.committed, [delivered.line]: { instanceId, version: delivered.version } },
  };
}

/**
 * Whether a newer release makes this run's moot, asked at its turn: a run of the same line
 * already brought the same or a higher version to its goal, or one waiting behind carries a
 * higher version (it would replace this one's submission right after). The Store only takes a
 * package version higher than the one it has, so submitting the older zip could only fail or
 * be replaced. A run without a release is never superseded.
 */
export function supersededBy(queue: ProductQueue, instanceId: string): Supersession | undefined {
  const release = queue.entries.find((e) => e.instanceId === instanceId)?.release;
  if (!release) return undefined;
  const committed = queue.committed?.[release.line];
  if (committed && committed.instanceId !== instanceId && compareVersions(committed.version, release.version) >= 0)
    return { instanceId: committed.instanceId, version: committed.version, because: 'committed' };
  const newer = newerWaiting(queue, instanceId)[0];
  return newer ? { instanceId: newer.instanceId, version: newer.release!.version, because: 'queued' } : undefined;
}

/**
 * The runs waiting with a higher version of this run's release line, highest first: the ones
 * that would supersede it, whose liveness a run checks (one canceled or crashed wins nothing).
 */
export function newerWaiting(queue: ProductQueue, instanceId: string): QueueEntry[] {
  const release = queue.entries.find((e) => e.instanceId === instanceId)?.release;
  if (!release) return [];
  return queue.entries
    .filter((e) => e.instanceId !== instanceId && e.release?.line === release.line)
    .filter((e) => compareVersions(e.release!.version, release.version) > 0)
    .sort((a, b) => compareVersions(b.release!.version, a.release!.version) || order(a, b));
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
