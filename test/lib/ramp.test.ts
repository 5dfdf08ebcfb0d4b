import { changeOf, dueTimes, rampDelayMs, rampProblems, rampStepDecision } from '../../lib/ramp';

const F = 'submission.json';

describe('rollout ramps', () => {
  it('reads durations in minutes, hours and days', () => {
    expect(rampDelayMs('90m')).toBe(90 * 60_000);
    expect(rampDelayMs('24h')).toBe(86_400_000);
    expect(rampDelayMs('1.5d')).toBe(36 * 3_600_000);
    for (const bad of ['', '24', '0h', 'h', '2w', '-1h']) expect(rampDelayMs(bad)).toBeUndefined();
  });

  it('accepts a ramp that starts with a percentage and goes up, later each time', () => {
    expect(
      rampProblems(
        [
          { percentage: 5 },
          { percentage: 20, after: '24h' },
          { percentage: 50, after: '48h' },
          { finalize: true, after: '72h' },
        ],
        F,
        'options.rollout',
      ),
    ).toEqual([]);
  });

  it('names the step and field of every problem', () => {
    const fields = (steps: unknown[]) => rampProblems(steps, F, 'options.rollout').map((p) => p.field);
    expect(fields([{ percentage: 5, after: '1h' }])).toEqual(['options.rollout[0].after']);
    expect(fields([{ finalize: true }])).toEqual(['options.rollout[0]']);
    expect(fields([{ percentage: 5 }, { percentage: 20 }])).toEqual(['options.rollout[1].after']);
    expect(fields([{ percentage: 5 }, { percentage: 20, after: '2h' }, { percentage: 30, after: '90m' }])).toEqual([
      'options.rollout[2].after',
    ]);
    expect(fields([{ percentage: 50 }, { percentage: 20, after: '2h' }])).toEqual(['options.rollout[1].percentage']);
    expect(fields([{ percentage: 5 }, { finalize: true, after: '2h' }, { percentage: 90, after: '3h' }])).toEqual([
      'options.rollout[1].finalize',
    ]);
  });

  it('computes when each step is due from the publication', () => {
    const at = new Date('2026-12-02T00:00:00Z');
    expect(dueTimes([{ percentage: 5 }, { percentage: 20, after: '24h' }], at).map((d) => d?.toISOString())).toEqual([
      undefined,
      '2026-12-03T00:00:00.000Z',
    ]);
    expect(changeOf({ percentage: 20 })).toEqual({ percentage: 20 });
    expect(changeOf({ finalize: true })).toEqual({ finalize: true });
  });

  it('applies a step only on the rollout it left, and stops on one changed by hand', () => {
    const inProgress = (p: number) => ({
      packageRolloutStatus: 'PackageRolloutInProgress',
      packageRolloutPercentage: p,
    });
    expect(rampStepDecision(inProgress(5), 5, { percentage: 20 })).toBe('apply');
    // An earlier attempt of this step already took (the Store's update is not idempotent).
    expect(rampStepDecision(inProgress(20), 5, { percentage: 20 })).toBe('done');
    expect(rampStepDecision(inProgress(35), 5, { percentage: 20 })).toBe('changedOutside');
    expect(
      rampStepDecision({ packageRolloutStatus: 'PackageRolloutStopped', packageRolloutPercentage: 0 }, 5, {
        percentage: 20,
      }),
    ).toBe('changedOutside');
    expect(rampStepDecision(inProgress(50), 50, { finalize: true })).toBe('apply');
    expect(
      rampStepDecision({ packageRolloutStatus: 'PackageRolloutComplete', packageRolloutPercentage: 100 }, 50, {
        finalize: true,
      }),
    ).toBe('done');
    expect(rampStepDecision(inProgress(70), 50, { finalize: true })).toBe('changedOutside');
  });
});
