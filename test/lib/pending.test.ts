import { decidePending, pendingWaitExpired, waitingFor, type PendingFacts } from '../../lib/pending';
import type { SubmissionStatus } from '../../lib/store/types';

const facts = (status: SubmissionStatus, extra: Partial<PendingFacts> = {}): PendingFacts => ({
  submissionId: '1152921504621243540',
  status,
  ...extra,
});

describe('decidePending', () => {
  test('nothing pending, or published meanwhile: go on', () => {
    expect(decidePending(undefined, {})).toEqual({ action: 'none' });
    expect(decidePending(facts('Published'), {})).toEqual({ action: 'none' });
  });

  test.each([
    'CommitStarted',
    'PreProcessing',
    'Certification',
    'Release',
    'PendingPublication',
    'Publishing',
  ] as const)('a submission the Store processes (%s) is never deleted: the run waits for it', (status) => {
    const d = decidePending(facts(status), {});
    expect(d.action).toBe('wait');
    expect(d.action === 'wait' && d.waitingFor).toContain(`1152921504621243540 (Store status ${status})`);
  });

  test.each([
    'PendingCommit',
    'CommitFailed',
    'PreProcessingFailed',
    'CertificationFailed',
    'ReleaseFailed',
    'PublishFailed',
    'Canceled',
  ] as const)('an editable or ended submission (%s) is deleted, then the run creates', (status) => {
    expect(decidePending(facts(status), {})).toEqual({ action: 'delete' });
  });

  test('pendingSubmission "fail" stops at once, and says why, with the id and the Store status', () => {
    const processing = decidePending(facts('Certification'), { pendingSubmission: 'fail' });
    expect(processing.action).toBe('fail');
    if (processing.action !== 'fail') throw new Error('unreachable');
    expect(processing.error.code).toBe('PendingSubmissionExists');
    expect(processing.error.message).toMatch(/1152921504621243540, made through the API, Store status Certification/);
    expect(processing.error.message).toMatch(/refuses to delete it, so "replace" \(the default\) would wait/);
    const editable = decidePending(facts('PendingCommit'), { pendingSubmission: 'fail' });
    expect(editable.action === 'fail' && editable.error.message).toMatch(/set options\.pendingSubmission to "replace"/);
  });

  test('a submission made in Partner Center is waited for while processed, and refused otherwise', () => {
    expect(decidePending(facts('Certification', { madeInPortal: true }), {}).action).toBe('wait');
    const draft = decidePending(facts('PendingCommit', { madeInPortal: true }), {});
    expect(draft.action === 'fail' && draft.error.code).toBe('PendingSubmissionMadeInPortal');
  });

  test('a dry run deletes nothing and does not wait', () => {
    for (const status of ['PendingCommit', 'Certification'] as const) {
      const d = decidePending(facts(status), { dryRun: true });
      expect(d.action === 'fail' && d.error.message).toMatch(/a dry run deletes nothing/);
    }
  });

  test('the pending submission of a flight created a moment ago is ours to replace, whatever the options', () => {
    expect(
      decidePending(facts('PendingCommit', { createdWithProduct: true }), { pendingSubmission: 'fail', dryRun: true }),
    ).toEqual({
      action: 'delete',
    });
  });

  test('Release in Manual mode: the status says a person must publish it; the deadline says what to do', () => {
    const manual = facts('Release', { targetPublishMode: 'Manual' });
    expect(waitingFor(manual)).toMatch(
      /waits in Release for someone to publish it in Partner Center \(Manual publish mode; the API cannot publish it\)/,
    );
    const expired = pendingWaitExpired(manual, '2026-12-14T10:00:00.000Z');
    expect(expired.code).toBe('PendingSubmissionStillProcessing');
    expect(expired.message).toMatch(
      /until its deadline \(2026-12-14T10:00:00\.000Z\).*Nothing was created\. Publish it \(or delete it\) in Partner Center/,
    );
    expect(waitingFor(facts('Release', { targetPublishMode: 'SpecificDate' }))).toMatch(
      /waits in Release for its publish date/,
    );
  });
});
