import { benchWaits, defaultSchedule, parseDuration, pollsFor } from '../../bench/waits';
import { rowsOf } from '../../bench/table';
import { POLLS_PER_EXECUTION } from '../../lib/polling';
import { testStorage } from '../helpers/azurite';

describe('bench: long waits', () => {
  it('counts the polls the app schedule makes in a given time', () => {
    const schedule = { firstIntervalSeconds: 30, maxIntervalSeconds: 900 };
    expect(pollsFor(0, schedule)).toBe(1);
    // Polls at 0, 30, 75 (30 + 45): certification over at 60 s is seen by the third.
    expect(pollsFor(60, schedule)).toBe(3);
    // Once at the cap, one poll per 15 minutes.
    expect(pollsFor(8 * 86400, schedule) - pollsFor(7 * 86400, schedule)).toBe(96);
    expect(parseDuration('7d')).toBe(7 * 86400);
    expect(parseDuration('90m')).toBe(5400);
    expect(defaultSchedule()).toEqual({ firstIntervalSeconds: 30, maxIntervalSeconds: 900 });
  });

  it('runs followSubmission and the naive loop on the sandbox host, counting replayed events (smoke)', async () => {
    const durations = [1800, 9 * 3600];
    const out = await benchWaits({ azurite: testStorage(), durations, smoke: true });
    const rows = rowsOf(out.tables[0]!);
    const schedule = defaultSchedule();
    for (const d of durations) {
      const polls = pollsFor(d, schedule);
      const ours = rows.find((r) => String(r.variant).startsWith('ours') && r.polls === polls)!;
      const naive = rows.find((r) => String(r.variant).startsWith('naive:') && r.polls === polls)!;
      expect(ours).toBeDefined();
      expect(naive).toBeDefined();
      expect(naive.executions).toBe(1);
      // An episode per execution start, per poll result and per timer, but no timer after the last poll.
      expect(naive.episodes).toBe(2 * polls);
      expect(ours.episodes).toBe((ours.executions as number) + 2 * polls - 1);
      expect(ours['events replayed (total)']).toBeGreaterThan(0);
    }
    const long = pollsFor(durations[1]!, schedule);
    expect(long).toBeGreaterThan(POLLS_PER_EXECUTION);
    const oursLong = rows.find((r) => String(r.variant).startsWith('ours') && r.polls === long)!;
    const naiveLong = rows.find((r) => String(r.variant).startsWith('naive:') && r.polls === long)!;
    expect(oursLong.executions).toBe(Math.ceil(long / POLLS_PER_EXECUTION));
    expect(oursLong['largest history replayed'] as number).toBeLessThan(
      naiveLong['largest history replayed'] as number,
    );
    expect(oursLong['events replayed (total)'] as number).toBeLessThan(naiveLong['events replayed (total)'] as number);
  });
});
