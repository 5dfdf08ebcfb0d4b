import { submissionsTriggerSource } from '../../lib/triggerSource';

describe('submissionsTriggerSource', () => {
  it('is polling unless SUBMISSIONS_TRIGGER_SOURCE says EventGrid, and refuses anything else', () => {
    expect(submissionsTriggerSource({})).toBe('LogsAndContainerScan');
    expect(submissionsTriggerSource({ SUBMISSIONS_TRIGGER_SOURCE: 'LogsAndContainerScan' })).toBe(
      'LogsAndContainerScan',
    );
    expect(submissionsTriggerSource({ SUBMISSIONS_TRIGGER_SOURCE: 'EventGrid' })).toBe('EventGrid');
    expect(submissionsTriggerSource({ SUBMISSIONS_TRIGGER_SOURCE: 'eventgrid' })).toBe('EventGrid');
    expect(() => submissionsTriggerSource({ SUBMISSIONS_TRIGGER_SOURCE: 'polling' })).toThrow(
      'SUBMISSIONS_TRIGGER_SOURCE must be EventGrid or LogsAndContainerScan, got "polling"',
    );
  });
});
