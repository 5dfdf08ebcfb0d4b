import { cancelIdOf, followerIdOf } from '../../lib/instanceId';
import type { CancelInput, RunState } from '../../lib/run';
import {
  CANCEL_ORCHESTRATION,
  RUN_ORCHESTRATION,
  blobNameFrom,
  requestCancel,
  type CancelClient,
  type DurableStatus,
} from '../../lib/runClient';
import { MapClient } from '../helpers/mapClient';

describe('blobNameFrom', () => {
  const url = 'http://127.0.0.1:10000/devstoreaccount1/submissions';
  it('accepts a name, or a URL into the submissions container', () => {
    expect(blobNameFrom('releases/1.2.3.zip', url, 'submissions')).toBe('releases/1.2.3.zip');
    expect(blobNameFrom(`${url}/releases/a%20b.zip?sv=x`, url, 'submissions')).toBe('releases/a b.zip');
  });

  it.each([
    [undefined, 'body.blob must be'],
    ['', 'body.blob must be'],
    ['https://evil.example.com/submissions/x.zip', 'outside the submissions container'],
    ['http://127.0.0.1:10000/devstoreaccount1/other/x.zip', 'outside the submissions container'],
    ['../other/x.zip', 'not a plain blob name'],
    ['/x.zip', 'not a plain blob name'],
    ['a\\x.zip', 'not a plain blob name'],
    ['x.txt', 'not a .zip'],
  ])('refuses %p', (value, message) => {
    const result = blobNameFrom(value, url, 'submissions');
    expect(typeof result).toBe('object');
    expect((result as { error: string }).error).toContain(message);
  });
});

/** MapClient plus terminate, as the cancel endpoint's Durable client is used. */
class CancelMapClient extends MapClient implements CancelClient {
  readonly terminated: Array<{ instanceId: string; reason: string }> = [];
  readonly startedWith: Array<{ name: string; instanceId: string; input: unknown }> = [];
  override async startNew(name: string, options: { instanceId: string; input: unknown }): Promise<string> {
    this.startedWith.push({ name, ...options });
    return super.startNew(name, options);
  }
  /** As the extension: terminating an instance that has ended answers 410 Gone. */
  async terminate(instanceId: string, reason: string): Promise<void> {
    const found = this.instances.get(instanceId);
    if (!found) throw new Error('DurableClient error: Durable Functions extension replied with HTTP 404 response.');
    if (!['Running', 'Pending'].includes(found.runtimeStatus))
      throw new Error('DurableClient error: Durable Functions extension replied with HTTP 410 response.');
    this.terminated.push({ instanceId, reason });
    found.runtimeStatus = 'Terminated';
  }
  put(status: DurableStatus): void {
    this.instances.set(status.instanceId, status);
  }
}

describe('requestCancel', () => {
  const runId = 'zip-0000000000000000000000000000000000000001';
  const state: RunState = {
    phase: 'Uploading',
    blob: { container: 'submissions', name: 'a.zip', etag: '"0x1"' },
    product: { kind: 'app', applicationId: '9NBLGGH4R315' },
    submissionId: '1152921504607280735',
    timeline: [],
  };
  const options = { reason: 'canceled through the API', settleSeconds: 65 };

  it('terminates the run and its follower, then starts the cleanup with the run state', async () => {
    const client = new CancelMapClient();
    const createdTime = new Date('2024-05-01T10:00:00.000Z');
    client.put({
      instanceId: runId,
      name: RUN_ORCHESTRATION,
      runtimeStatus: 'Running',
      customStatus: state,
      createdTime,
    });
    client.put({ instanceId: followerIdOf(runId), name: 'followSubmission', runtimeStatus: 'Running' });
    expect(await requestCancel(client, runId, options)).toEqual({
      canceled: true,
      note: {
        reason: options.reason,
        committed: false,
        submissionId: state.submissionId,
        message: `Submission ${state.submissionId} was not committed; it is deleted.`,
      },
    });
    expect(client.terminated).toEqual([
      { instanceId: runId, reason: options.reason },
      { instanceId: followerIdOf(runId), reason: options.reason },
    ]);
    expect(client.startedWith).toEqual([
      {
        name: CANCEL_ORCHESTRATION,
        instanceId: cancelIdOf(runId),
        input: {
          runId,
          reason: options.reason,
          state,
          createdTime: createdTime.toISOString(),
          settleSeconds: 65,
        } satisfies CancelInput,
      },
    ]);
  });

  it('starts no cleanup for a run that published no state yet, and leaves an ended follower alone', async () => {
    const client = new CancelMapClient();
    client.put({ instanceId: runId, name: RUN_ORCHESTRATION, runtimeStatus: 'Pending' });
    client.put({ instanceId: followerIdOf(runId), name: 'followSubmission', runtimeStatus: 'Completed' });
    expect(await requestCancel(client, runId, options)).toEqual({ canceled: true });
    expect(client.terminated.map((t) => t.instanceId)).toEqual([runId]);
    expect(client.startedWith).toEqual([]);
  });

  it('finds nothing to cancel for an unknown id or an instance that is not a run, and changes nothing', async () => {
    const client = new CancelMapClient();
    client.put({ instanceId: followerIdOf(runId), name: 'followSubmission', runtimeStatus: 'Running' });
    expect(await requestCancel(client, runId, options)).toEqual({ canceled: false, why: 'notFound' });
    expect(await requestCancel(client, followerIdOf(runId), options)).toEqual({ canceled: false, why: 'notFound' });
    expect(client.terminated).toEqual([]);
  });

  it('says a run has ended, with its status, and changes nothing', async () => {
    const client = new CancelMapClient();
    client.put({ instanceId: runId, name: RUN_ORCHESTRATION, runtimeStatus: 'Completed', customStatus: state });
    expect(await requestCancel(client, runId, options)).toEqual({ canceled: false, why: 'ended', status: 'Succeeded' });
    expect(client.terminated).toEqual([]);
    expect(client.startedWith).toEqual([]);
  });

  it("takes the follower's Store status for a committed submission, and says the Store goes on with it", async () => {
    const client = new CancelMapClient();
    const following: RunState = {
      ...state,
      phase: 'WaitingForStore',
      storeStatus: 'CommitStarted',
      timeline: [{ step: 'commitSubmission', startedAt: '2024-05-01T10:01:00.000Z', result: 'ok' }],
    };
    client.put({ instanceId: runId, name: RUN_ORCHESTRATION, runtimeStatus: 'Running', customStatus: following });
    client.put({
      instanceId: followerIdOf(runId),
      name: 'followSubmission',
      runtimeStatus: 'Running',
      customStatus: { storeStatus: 'Certification' },
    });
    const outcome = await requestCancel(client, runId, options);
    expect(outcome).toMatchObject({
      canceled: true,
      note: { committed: true, submissionId: state.submissionId, storeStatus: 'Certification' },
    });
    expect((client.startedWith[0]?.input as CancelInput).state.storeStatus).toBe('Certification');
  });

  it('answers racing cancels alike, with one terminate and one cleanup', async () => {
    const client = new CancelMapClient();
    client.put({ instanceId: runId, name: RUN_ORCHESTRATION, runtimeStatus: 'Running', customStatus: state });
    const outcomes = await Promise.all([1, 2, 3].map(() => requestCancel(client, runId, options)));
    expect(outcomes.map((o) => o.canceled)).toEqual([true, true, true]);
    expect(client.terminated.map((t) => t.instanceId)).toEqual([runId]);
    expect(client.started).toEqual([cancelIdOf(runId)]);
  });

  it('a cancel sent again while the cleanup runs answers as the first did; once it has ended, Canceled', async () => {
    const client = new CancelMapClient();
    client.put({ instanceId: runId, name: RUN_ORCHESTRATION, runtimeStatus: 'Running', customStatus: state });
    await requestCancel(client, runId, options);
    expect(await requestCancel(client, runId, options)).toEqual({ canceled: true });
    expect(client.started).toEqual([cancelIdOf(runId)]);
    client.instances.get(cancelIdOf(runId))!.runtimeStatus = 'Completed';
    expect(await requestCancel(client, runId, options)).toEqual({ canceled: false, why: 'ended', status: 'Canceled' });
  });

  it('starts the cleanup of a run that was terminated without one (a cancel cut between its two steps)', async () => {
    const client = new CancelMapClient();
    client.put({ instanceId: runId, name: RUN_ORCHESTRATION, runtimeStatus: 'Terminated', customStatus: state });
    expect(await requestCancel(client, runId, options)).toEqual({ canceled: true });
    expect(client.terminated).toEqual([]);
    expect(client.startedWith).toEqual([
      expect.objectContaining({ name: CANCEL_ORCHESTRATION, instanceId: cancelIdOf(runId) }),
    ]);
  });
});
