import type { StepRecord } from '../../lib/run';
import { withNotifications } from '../../lib/statusDocument';

const step = (name: string, startedAt: string, sequence?: number): StepRecord => ({
  step: name,
  startedAt,
  result: 'ok',
  ...(sequence === undefined ? {} : { sequence }),
});

describe('withNotifications: the run’s events in its timeline', () => {
  it('merges each event after the steps that began before it, and keeps the events in their number’s order when their notifiers started out of order', () => {
    const timeline = [
      step('validateZip', '2026-12-02T10:00:00.000Z'),
      step('createSubmission', '2026-12-02T10:00:02.000Z'),
      step('commitSubmission', '2026-12-02T10:00:05.000Z'),
    ];
    // Notifier 3 was started by the engine before notifier 2 (the real extension's queues do that).
    const events = [
      step('notify:phaseChanged', '2026-12-02T10:00:01.000Z', 1),
      step('notify:phaseChanged', '2026-12-02T10:00:04.000Z', 2),
      step('notify:phaseChanged', '2026-12-02T10:00:03.000Z', 3),
      step('notify:runEnded', '2026-12-02T10:00:06.000Z', 4),
    ];
    const merged = withNotifications(timeline, [events[3]!, events[0]!, events[2]!, events[1]!]);
    expect(merged.map((s) => (s.sequence ? `#${s.sequence}` : s.step))).toEqual([
      'validateZip',
      '#1',
      'createSubmission',
      '#2',
      '#3',
      'commitSubmission',
      '#4',
    ]);
  });

  it('leaves a timeline without events as it is', () => {
    const timeline = [step('validateZip', '2026-12-02T10:00:00.000Z')];
    expect(withNotifications(timeline, [])).toBe(timeline);
  });
});
