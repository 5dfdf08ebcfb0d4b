import { RolloutRequestError, describeChange, rolloutChangeOf, rolloutStatusOf } from '../../lib/rollout';

function refusal(fn: () => unknown): RolloutRequestError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RolloutRequestError) return e;
    throw e;
  }
  throw new Error('expected a RolloutRequestError');
}

describe('rollout requests', () => {
  it('reads exactly one change from a body', () => {
    expect(rolloutChangeOf({ percentage: 12.5 })).toEqual({ percentage: 12.5 });
    expect(rolloutChangeOf({ percentage: 0 })).toEqual({ percentage: 0 });
    expect(rolloutChangeOf({ halt: true })).toEqual({ halt: true });
    expect(rolloutChangeOf({ finalize: true })).toEqual({ finalize: true });
    for (const bad of [
      undefined,
      null,
      [],
      {},
      { percentage: -1 },
      { percentage: 100.5 },
      { percentage: '20' },
      { halt: false },
      { finalize: 'yes' },
      { halt: true, finalize: true },
      { percentage: 20, halt: true },
    ]) {
      expect([bad, refusal(() => rolloutChangeOf(bad)).code]).toEqual([bad, 'InvalidBody']);
    }
  });

  it('describes changes and statuses in short words', () => {
    expect([{ percentage: 5 }, { halt: true as const }, { finalize: true as const }].map(describeChange)).toEqual([
      'percentage 5',
      'halt',
      'finalize',
    ]);
    expect(rolloutStatusOf({ packageRolloutStatus: 'PackageRolloutInProgress' })).toBe('InProgress');
    expect(rolloutStatusOf({ packageRolloutStatus: 'PackageRolloutStopped' })).toBe('Stopped');
    expect(rolloutStatusOf({})).toBe('NotStarted');
    expect(rolloutStatusOf(undefined)).toBe('NotStarted');
  });
});
