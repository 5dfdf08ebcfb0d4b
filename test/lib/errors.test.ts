import {
  InputError,
  MAX_LISTED_PROBLEMS,
  readingInput,
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

describe('reading the user input', () => {
  it('turns anything unexpected into an InputError that names the file and is never retried', () => {
    const overflow = (): never => {
      throw new RangeError('Maximum call stack size exceeded');
    };
    let thrown: unknown;
    try {
      readingInput('submission.json', overflow);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(InputError);
    expect(thrown).toMatchObject({ code: 'UnreadableInput', retriable: false });
    expect((thrown as InputError).problems).toEqual([
      { file: 'submission.json', message: expect.stringMatching(/^nests too deeply to be read; nothing was sent/) },
    ]);
    // Across the activity boundary it stays non-retriable: the orchestrator fails the run at once.
    expect(parseActivityFailure(toActivityError(thrown))).toMatchObject({ code: 'UnreadableInput', retriable: false });
    const bug = (): never => {
      throw new TypeError("Cannot read properties of undefined (reading 'x')");
    };
    expect(() => readingInput('store/app.zip', bug)).toThrow(
      /^store\/app.zip: could not be read \(TypeError: Cannot read properties of undefined \(reading 'x'\)\)/,
    );
  });

  it('passes typed errors through unchanged', () => {
    const typed = new InputError([{ file: 'submission.json', message: 'is empty' }], 'InvalidManifest');
    expect(() =>
      readingInput('x', () => {
        throw typed;
      }),
    ).toThrow(typed);
  });

  it(`lists at most ${MAX_LISTED_PROBLEMS} problems and says how many more there are`, () => {
    const problems = Array.from({ length: 100_000 }, (_, i) => ({ file: `f${i}.png`, message: 'is bad' }));
    const e = new InputError(problems, 'InvalidZip');
    expect(e.problems).toHaveLength(MAX_LISTED_PROBLEMS + 1);
    expect(e.problems[MAX_LISTED_PROBLEMS]).toEqual({
      file: 'f100.png',
      message: 'and 99900 more problem(s) not listed (at most 100 are); fix these first',
    });
    expect(e.message.split('\n')).toHaveLength(MAX_LISTED_PROBLEMS + 1);
    expect(new InputError(problems.slice(0, MAX_LISTED_PROBLEMS)).problems).toHaveLength(MAX_LISTED_PROBLEMS);
  });
});
