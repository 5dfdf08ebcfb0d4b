/**
 * The follower's decisions on fabricated histories: when it polls, how the interval grows,
 * when it stops (goal, failure, deadline), when it continues as new, and how it rides out a
 * poll that failed.
 */
import type { FollowResult } from '../../../lib/run';
import { POLLS_PER_EXECUTION } from '../../../lib/polling';
import type { SubmissionStatus } from '../../../lib/store/types';
import { followSubmissionOrchestrator, type FollowOrchestrationInput } from '../../../orchestrations/followSubmission';
import { fail, names, ok, play, timerWaits, type Action, type Played } from './replay';
import { PRODUCT, RUN_ID, SUBMISSION_ID, storeError } from './store';

const START = new Date('2024-05-01T10:00:00.000Z');

function input(extra: Partial<FollowOrchestrationInput> = {}): FollowOrchestrationInput {
  return {
    runId: RUN_ID,
    product: PRODUCT,
    submissionId: SUBMISSION_ID,
    waitFor: 'commit',
    deadline: new Date(START.getTime() + 60 * 60_000).toISOString(),
    polls: 0,
    intervalSeconds: 0,
    firstIntervalSeconds: 30,
    maxIntervalSeconds: 600,
    ...extra,
  };
}

/** The follower with the Store answering `statuses` in turn (the last one from then on). */
function follow(statuses: SubmissionStatus[], extra: Partial<FollowOrchestrationInput> = {}): Promise<Played> {
  return play(
    followSubmissionOrchestrator,
    input(extra),
    {
      activity: (name, _input, call) =>
        name === 'getSubmissionStatus'
          ? ok({ status: statuses[Math.min(call, statuses.length) - 1], correlationIds: [`cid-${call}`] })
          : fail(new Error(`unexpected ${name}`)),
    },
    { instanceId: `${RUN_ID}-follow`, start: START },
  );
}

describe('followSubmission in process', () => {
  it('polls on durable timers that grow by half, capped while the commit is processed, until past commit', async () => {
    const played = await follow(['CommitStarted', 'CommitStarted', 'CommitStarted', 'CommitStarted', 'PreProcessing']);
    expect(names(played.actions)).toEqual([
      'getSubmissionStatus',
      '(timer)',
      'getSubmissionStatus',
      '(timer)',
      'getSubmissionStatus',
      '(timer)',
      'getSubmissionStatus',
      '(timer)',
      'getSubmissionStatus',
    ]);
    expect(timerWaits(played.actions)).toEqual([30, 45, 68, 102]);
    expect(played.output).toMatchObject({
      status: 'PreProcessing',
      polls: 5,
      timedOut: false,
    } satisfies Partial<FollowResult>);
    // The ids of the latest polls, oldest first: what support asks for is the newest.
    expect((played.output as FollowResult).correlationIds).toEqual(['cid-1', 'cid-2', 'cid-3', 'cid-4', 'cid-5']);
    // While waiting, custom status says what the Store said and when the next poll is due.
    expect(played.statuses[1]).toMatchObject({
      storeStatus: 'CommitStarted',
      polls: 1,
      nextPollAt: expect.any(String),
    });
  });

  it('stops at once on a failed status', async () => {
    const played = await follow(['CommitStarted', 'CommitFailed']);
    expect(names(played.actions).filter((n) => n !== '(timer)')).toEqual([
      'getSubmissionStatus',
      'getSubmissionStatus',
    ]);
    expect(played.output).toMatchObject({ status: 'CommitFailed', timedOut: false, polls: 2 });
  });

  it('stops at the deadline, with the last timer firing no later than it', async () => {
    const deadline = new Date(START.getTime() + 100_000).toISOString();
    const played = await follow(['CommitStarted'], { deadline });
    expect(played.output).toMatchObject({ status: 'CommitStarted', timedOut: true });
    const timers = played.actions.filter((a): a is Extract<Action, { kind: 'timer' }> => a.kind === 'timer');
    expect(timers.at(-1)!.fireAt.toISOString()).toBe(deadline);
  });

  it('continues as new after a fixed number of polls, carrying polls and interval', async () => {
    const played = await follow(['Certification'], { waitFor: 'published', deadline: '2024-06-01T00:00:00.000Z' });
    const shape = names(played.actions);
    expect(shape.filter((n) => n === 'getSubmissionStatus')).toHaveLength(POLLS_PER_EXECUTION);
    expect(shape.at(-1)).toBe('(continueAsNew)');
    const next = (played.actions.at(-1) as Extract<Action, { kind: 'continueAsNew' }>)
      .input as FollowOrchestrationInput;
    expect(next).toMatchObject({ polls: POLLS_PER_EXECUTION, lastStatus: 'Certification', intervalSeconds: 600 });
    // The newest five ids ride along (an earlier version kept the first four and the newest).
    expect(next.correlationIds).toEqual(['cid-16', 'cid-17', 'cid-18', 'cid-19', 'cid-20']);
  });

  it('retries a poll that failed transiently after a durable timer, and gives up on one that cannot succeed', async () => {
    const retried = await play(
      followSubmissionOrchestrator,
      input(),
      {
        activity: (_name, _input, call) =>
          call === 1
            ? fail(storeError(503, 'ServiceUnavailable'))
            : ok({ status: 'PreProcessing', correlationIds: [] }),
      },
      { instanceId: `${RUN_ID}-follow`, start: START },
    );
    expect(names(retried.actions)).toEqual(['getSubmissionStatus', '(timer)', 'getSubmissionStatus']);
    expect(retried.output).toMatchObject({ status: 'PreProcessing', polls: 1 });

    const refused = await play(
      followSubmissionOrchestrator,
      input(),
      { activity: () => fail(storeError(404, 'NotFound')) },
      { instanceId: `${RUN_ID}-follow`, start: START },
    );
    expect(names(refused.actions)).toEqual(['getSubmissionStatus']);
    expect(refused.error).toContain('404 NotFound');
  });
});
