import { PURGED_STATUSES, purgeCutoff, purgeFilter } from '../../lib/historyPurge';

describe('what the history purge deletes', () => {
  const now = new Date('2026-12-02T03:30:00Z');

  it('instances created more than the retention ago, from the epoch (the extension requires a start)', () => {
    expect(purgeCutoff(now, 30)).toEqual(new Date('2026-11-02T03:30:00Z'));
    expect(purgeCutoff(now, 0)).toEqual(now);
    expect(purgeFilter(now, 7)).toEqual({
      createdTimeFrom: new Date(0),
      createdTimeTo: new Date('2026-11-25T03:30:00Z'),
      runtimeStatus: ['Completed', 'Failed', 'Terminated'],
    });
  });

  it('only instances that have ended', () => {
    expect(PURGED_STATUSES).not.toContain('Running');
    expect(PURGED_STATUSES).not.toContain('Pending');
    expect(PURGED_STATUSES).not.toContain('Suspended');
  });
});
