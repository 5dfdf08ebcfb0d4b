/**
 * What the scheduled purge deletes: the Durable history (history rows, instance rows, large
 * messages) of instances that have ended and were created more than the retention ago. Runs,
 * followers, notifiers and clean-ups alike; an instance still running is never touched, whatever
 * its age. Reports are blobs in the reports container, outside the task hub: they stay.
 */

/** The runtime statuses of an instance that has ended for good. */
export const PURGED_STATUSES = ['Completed', 'Failed', 'Terminated'] as const;

/** Instances created before this are purged: `retentionDays` before `now` (0: now itself). */
export function purgeCutoff(now: Date, retentionDays: number): Date {
  return new Date(now.getTime() - retentionDays * 86_400_000);
}

/**
 * The filter the purge gives the Durable client. The extension's purge by filter requires
 * createdTimeFrom (HttpApiHandler.cs, HandleDeleteHistoryWithFiltersRequestAsync answers 400
 * without it), so the window opens at the epoch.
 */
export function purgeFilter(
  now: Date,
  retentionDays: number,
): { createdTimeFrom: Date; createdTimeTo: Date; runtimeStatus: (typeof PURGED_STATUSES)[number][] } {
  return {
    createdTimeFrom: new Date(0),
    createdTimeTo: purgeCutoff(now, retentionDays),
    runtimeStatus: [...PURGED_STATUSES],
  };
}
