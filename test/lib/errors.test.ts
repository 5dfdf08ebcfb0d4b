import {
  InputError,
  StoreRequestError,
  isRetriableStatus,
  parseActivityFailure,
  toActivityError,
} from '../../lib/errors';

describe('errors across the activity boundary', () => {
  const storeError = new StoreRequestError(
    'POST applications/9NBLGGH4R315/submissions answered 409 InvalidState: a pending submission exists',
    {
      code: 'InvalidState',
      status: 409,
      correlationId: 'c0ffee00-0000-4000-8000-000000000001',
    },
  );

  it('carries code, retriable and correlation id through the message, in both host formats', () => {
    const wire = toActivityError(storeError);
    const reasonDetails = new Error(
      `Activity function 'createSubmission' failed: ${wire.message} \n ${wire.stack ?? ''}`,
    );
    const failureDetails = new Error(`StoreRequestError: ${wire.message}`);
    for (const seen of [reasonDetails, failureDetails]) {
      const parsed = parseActivityFailure(seen);
      expect(parsed).toMatchObject({
        code: 'InvalidState',
        retriable: false,
        status: 409,
        correlationId: 'c0ffee00-0000-4000-8000-000000000001',
      });
      expect(parsed.message).toBe(storeError.message);
    }
  });

  it('keeps each input problem with its file and field', () => {
    const err = new InputError([
      { file: 'submission.json', field: 'target.applicationId', message: 'must be 12 characters' },
    ]);
    const parsed = parseActivityFailure(new Error(toActivityError(err).message));
    expect(parsed.code).toBe('InvalidInput');
    expect(parsed.problems).toEqual(err.problems);
    expect(parsed.message).toBe('submission.json target.applicationId: must be 12 characters');
  });

  it('treats an unknown error as unexpected and worth a retry', () => {
    expect(parseActivityFailure(new Error('socket hang up'))).toMatchObject({
      code: 'Unexpected',
      retriable: true,
      message: 'socket hang up',
    });
    expect(parseActivityFailure(toActivityError(new TypeError('x is undefined')))).toMatchObject({
      code: 'Unexpected',
      name: 'TypeError',
    });
  });

  it('knows which HTTP statuses a retry can help', () => {
    expect([undefined, 408, 429, 500, 503].map(isRetriableStatus)).toEqual([true, true, true, true, true]);
    expect([400, 401, 403, 404, 409].map(isRetriableStatus)).toEqual([false, false, false, false, false]);
  });
});
