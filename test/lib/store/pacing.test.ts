import { createHttpHeaders, createPipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import { CallPacer, isCommitCall, pacingPolicy } from '../../../lib/store/pacing';

const request = (method: string, path: string) =>
  createPipelineRequest({ method: method as 'POST', url: `https://manage.devcenter.microsoft.com/v1.0/my/${path}` });
const answer = (req: ReturnType<typeof request>): Promise<PipelineResponse> =>
  Promise.resolve({ request: req, status: 200, headers: createHttpHeaders() });

describe('commit pacing', () => {
  test('isCommitCall knows commits of apps, flights and add-ons, and nothing else', () => {
    expect(isCommitCall(request('POST', 'applications/9NBLGGH4R315/submissions/1152921504621243540/commit'))).toBe(
      true,
    );
    expect(isCommitCall(request('POST', 'applications/A/flights/f/submissions/1/Commit'))).toBe(true);
    expect(isCommitCall(request('POST', 'inappproducts/9NBLGGH4TNNR/submissions/1/commit'))).toBe(true);
    expect(isCommitCall(request('GET', 'applications/A/submissions/1/commit'))).toBe(false);
    expect(isCommitCall(request('POST', 'applications/A/submissions'))).toBe(false);
  });

  test('a commit beyond the commit limit waits for the window while other calls go by', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    const pacer = new CallPacer(1, 60_000);
    const policy = pacingPolicy(pacer, isCommitCall, 'commits');
    const commit = (id: string) => request('POST', `applications/A/submissions/${id}/commit`);
    await policy.sendRequest(commit('1'), answer);
    let second = false;
    const pending = policy.sendRequest(commit('2'), answer).then(() => (second = true));
    await new Promise((r) => setImmediate(r));
    expect([pacer.queued, second]).toEqual([1, false]);
    // Not a commit: not held.
    await policy.sendRequest(request('GET', 'applications/A'), answer);
    jest.advanceTimersByTime(60_002);
    await pending;
    expect(second).toBe(true);
    jest.useRealTimers();
  });
});
