import { isCommitted, judgeStatus, nextPollInterval, retryDelayMs, STEP_RETRY } from '../../lib/polling';

describe('judgeStatus', () => {
  it('waits through commit processing and stops after it when waiting for the commit', () => {
    expect(judgeStatus('CommitStarted', 'commit', 'Immediate', true).verdict).toBe('wait');
    for (const s of ['PreProcessing', 'Certification', 'Release', 'Published'] as const) {
      expect(judgeStatus(s, 'commit', 'Immediate', true).verdict).toBe('done');
    }
  });

  it('follows certification to Published, or to Release for Manual and SpecificDate publishing', () => {
    expect(judgeStatus('Certification', 'published', 'Immediate', true).verdict).toBe('wait');
    expect(judgeStatus('Release', 'published', 'Immediate', true).verdict).toBe('wait');
    expect(judgeStatus('Publishing', 'published', 'Immediate', true).verdict).toBe('wait');
    expect(judgeStatus('Published', 'published', 'Immediate', true).verdict).toBe('done');
    expect(judgeStatus('Release', 'published', 'Manual', true).verdict).toBe('done');
    expect(judgeStatus('Release', 'published', 'SpecificDate', true).verdict).toBe('done');
  });

  it('fails on every *Failed status with a reason and advice', () => {
    for (const s of [
      'CommitFailed',
      'PreProcessingFailed',
      'CertificationFailed',
      'ReleaseFailed',
      'PublishFailed',
    ] as const) {
      const v = judgeStatus(s, 'published', 'Immediate', true);
      expect(v.verdict).toBe('failed');
      if (v.verdict === 'failed') {
        expect(v.reason).toContain(s);
        expect(v.advice.length).toBeGreaterThan(10);
      }
    }
  });

  it('reads PendingCommit after a commit as the commit having fallen back', () => {
    expect(judgeStatus('PendingCommit', 'commit', undefined, true).verdict).toBe('commitFellBack');
    expect(judgeStatus('PendingCommit', 'commit', undefined, false).verdict).toBe('wait');
  });
});

describe('isCommitted', () => {
  it('counts PendingCommit and CommitFailed as still ours to delete', () => {
    expect(isCommitted('PendingCommit')).toBe(false);
    expect(isCommitted('CommitFailed')).toBe(false);
    expect(isCommitted('CommitStarted')).toBe(true);
    expect(isCommitted('Certification')).toBe(true);
  });
});

describe('nextPollInterval', () => {
  const schedule = { firstIntervalSeconds: 30, maxIntervalSeconds: 900 };

  it('starts at the first interval and grows by half', () => {
    expect(nextPollInterval(0, 'Certification', schedule)).toBe(30);
    expect(nextPollInterval(30, 'Certification', schedule)).toBe(45);
    expect(nextPollInterval(45, 'Certification', schedule)).toBe(68);
  });

  it('stays short while the commit is processed and stretches to the maximum in certification', () => {
    let s = 0;
    for (let i = 0; i < 30; i++) s = nextPollInterval(s, 'CommitStarted', schedule);
    expect(s).toBe(120);
    for (let i = 0; i < 30; i++) s = nextPollInterval(s, 'Certification', schedule);
    expect(s).toBe(900);
  });

  it('keeps one run far under the Store rate limit of 20 calls a minute', () => {
    expect(
      60 / nextPollInterval(0, 'CommitStarted', { firstIntervalSeconds: 1, maxIntervalSeconds: 1 }),
    ).toBeLessThanOrEqual(60);
    expect(60 / nextPollInterval(0, 'CommitStarted', schedule)).toBeLessThanOrEqual(2);
  });
});

describe('retryDelayMs', () => {
  it('backs off exponentially up to the cap, then gives up', () => {
    expect(retryDelayMs(1, undefined)).toBe(STEP_RETRY.firstDelayMs);
    expect(retryDelayMs(2, undefined)).toBe(STEP_RETRY.firstDelayMs * 2);
    expect(retryDelayMs(7, undefined)).toBe(STEP_RETRY.maxDelayMs);
    expect(retryDelayMs(STEP_RETRY.maxAttempts, undefined)).toBeUndefined();
  });

  it('waits at least what the Store asked for', () => {
    expect(retryDelayMs(1, 14_000)).toBe(14_000);
    expect(retryDelayMs(1, 1_000)).toBe(STEP_RETRY.firstDelayMs);
  });
});
