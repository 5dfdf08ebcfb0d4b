import { BlobServiceClient } from '@azure/storage-blob';
import { startHost, type RunningHost } from '../../../sandbox/host';
import { testStorage } from '../../helpers/azurite';
import {
  ensureBuilt,
  fixture,
  persistedState,
  startOrchestration,
  status,
  uniqueHub,
  waitFor,
  waitForStatus,
} from './hostHelpers';

// One virtual minute passes in 100 ms. Waits for an event time out after 600,000 virtual
// minutes (a thousand real ones): a busy machine never reaches them.
const CLOCK_SPEED = 600;

/** History without the episode markers: what the Durable host added, in order. */
function pattern(history: Array<Record<string, unknown>>): string[] {
  const names: Record<number, string> = {
    0: 'ExecutionStarted',
    1: 'ExecutionCompleted',
    4: 'TaskScheduled',
    5: 'TaskCompleted',
    6: 'TaskFailed',
    10: 'TimerCreated',
    11: 'TimerFired',
  };
  return history
    .filter((e) => e.EventType !== 12 && e.EventType !== 13)
    .map((e) => {
      const name = names[e.EventType as number] ?? String(e.EventType);
      const id = e.TaskScheduledId ?? e.TimerId ?? (e.EventId === -1 ? undefined : e.EventId);
      return id === undefined ? name : `${name}(${id as number})`;
    });
}

describe('sandbox host: durable orchestrations', () => {
  let host: RunningHost;
  const taskHub = uniqueHub();
  const conn = (): string => testStorage().connectionString;

  beforeAll(async () => {
    ensureBuilt();
    host = await startHost({
      appDir: fixture('durable-app'),
      settings: { AzureWebJobsStorage: conn() },
      taskHub,
      clockSpeed: CLOCK_SPEED,
    });
  });
  afterAll(() => host?.stop());

  it('replays activities in sequence and a Task.all fan-out, with custom status, and never logs inputs or outputs', async () => {
    const id = await startOrchestration(host, 'sequence', { text: 'SECRET-INPUT-7f3a', numbers: [1, 2, 3] });
    const done = await waitForStatus(host, id, ['Completed', 'Failed']);
    expect(done.runtimeStatus).toBe('Completed');
    expect(done.output).toEqual({
      first: { echoed: 'SECRET-INPUT-7f3a' },
      doubled: [2, 4, 6],
      last: { echoed: { n: 3 } },
    });
    expect(done.customStatus).toEqual({ stage: 'done' });
    expect(done.input).toEqual({ text: 'SECRET-INPUT-7f3a', numbers: [1, 2, 3] });

    const withHistory = await status(host, id, '&showHistory=true&showHistoryOutput=true');
    expect(withHistory.code).toBe(200);
    expect(
      withHistory.body.historyEvents?.map(
        (e) => `${e.EventType as string}:${(e.FunctionName as string | undefined) ?? ''}`,
      ),
    ).toEqual([
      'ExecutionStarted:sequence',
      'TaskCompleted:echo',
      'TaskCompleted:double',
      'TaskCompleted:double',
      'TaskCompleted:double',
      'TaskCompleted:echo',
      'ExecutionCompleted:',
    ]);
    // Five activities, one episode per event: 1 start + 5 completions.
    const episodes = host
      .logs()
      .filter((l) => l.message.startsWith("Executing 'Functions.sequence'") && l.message.includes(id));
    expect(episodes).toHaveLength(6);
    expect(host.logs().some((l) => JSON.stringify(l).includes('SECRET-INPUT-7f3a'))).toBe(false);
  });

  it('runs CallActivityWithRetry with a back-off timer after every failed attempt, exactly as the Durable host', async () => {
    const id = await startOrchestration(host, 'retrying', { firstMs: 1000, maxAttempts: 3, failures: 2 });
    expect((await waitForStatus(host, id, ['Completed', 'Failed'])).output).toBe('succeeded on attempt 3');
    const { history } = await persistedState(conn(), taskHub, id);
    expect(pattern(history)).toEqual([
      'ExecutionStarted',
      'TaskScheduled(0)',
      'TaskFailed(0)',
      'TimerCreated(1)',
      'TimerFired(1)',
      'TaskScheduled(2)',
      'TaskFailed(2)',
      'TimerCreated(3)',
      'TimerFired(3)',
      'TaskScheduled(4)',
      'TaskCompleted(4)',
      'ExecutionCompleted',
    ]);
    const timers = history.filter((e) => e.EventType === 10);
    expect(timers.map((t) => Date.parse(t.FireAt as string) - Date.parse(t.Timestamp as string))).toEqual([1000, 2000]);
    const failed = history.find((e) => e.EventType === 6) as Record<string, unknown>;
    expect(failed.FailureDetails).toMatchObject({
      ErrorType: 'FlakyError',
      ErrorMessage: 'flaky attempt 1 failed',
      IsNonRetriable: false,
    });
    expect(failed.Reason).toBe("Activity function 'flaky' failed: flaky attempt 1 failed");
  });

  it('fails the task after the last attempt (and its timer), with the activity error for the orchestrator', async () => {
    const id = await startOrchestration(host, 'retrying', { firstMs: 500, maxAttempts: 2, failures: 10 });
    expect((await waitForStatus(host, id, ['Completed', 'Failed'])).output).toEqual({
      caught: 'FlakyError: flaky attempt 2 failed',
    });
    const { history } = await persistedState(conn(), taskHub, id);
    expect(pattern(history)).toEqual([
      'ExecutionStarted',
      'TaskScheduled(0)',
      'TaskFailed(0)',
      'TimerCreated(1)',
      'TimerFired(1)',
      'TaskScheduled(2)',
      'TaskFailed(2)',
      'TimerCreated(3)',
      'TimerFired(3)',
      'ExecutionCompleted',
    ]);
  });

  it('fires durable timers on the virtual clock, which the orchestration sees consistently', async () => {
    const started = Date.now();
    const id = await startOrchestration(host, 'timer', { minutes: 5 });
    const done = await waitForStatus(host, id, ['Completed', 'Failed']);
    const elapsed = Date.now() - started;
    const { start, end } = done.output as { start: string; end: string };
    expect(Date.parse(end) - Date.parse(start)).toBeGreaterThanOrEqual(5 * 60000);
    // Five virtual minutes in about half a second of real time. What could fail is a timer kept
    // on the real clock, which takes the whole five real minutes: that is the upper bound, 600
    // times the half second, so no load short of stopping the machine reaches it. The lower bound
    // (the virtual wait at this speed) cannot be missed.
    expect(elapsed).toBeGreaterThanOrEqual((5 * 60000) / CLOCK_SPEED - 100);
    expect(elapsed).toBeLessThan(5 * 60000);
  });

  it('delivers external events raised through the webhook, and times out through a timer', async () => {
    const id = await startOrchestration(host, 'approval', { timeoutMinutes: 600_000 });
    await waitForStatus(host, id, ['Running']);
    const raise = await host.fetch(
      `/runtime/webhooks/durabletask/instances/${id}/raiseEvent/Approval?taskHub=${taskHub}`,
      {
        method: 'POST',
        body: JSON.stringify({ by: 'alice' }),
      },
    );
    expect(raise.status).toBe(202);
    expect((await waitForStatus(host, id, ['Completed', 'Failed'])).output).toEqual({ approved: { by: 'alice' } });
    // The canceled timeout timer no longer fires.
    const { history } = await persistedState(conn(), taskHub, id);
    expect(history.filter((e) => e.EventType === 11)).toHaveLength(0);

    const late = await startOrchestration(host, 'approval', { timeoutMinutes: 1 });
    expect((await waitForStatus(host, late, ['Completed', 'Failed'])).output).toEqual({
      approved: false,
      reason: 'timed out',
    });
    // Raising an event on a finished instance: 410, as the extension answers.
    expect(
      (
        await host.fetch(`/runtime/webhooks/durabletask/instances/${late}/raiseEvent/Approval`, {
          method: 'POST',
          body: '{}',
        })
      ).status,
    ).toBe(410);
  });

  it('runs sub-orchestrations and reports their failures to the parent', async () => {
    const parent = await startOrchestration(host, 'parent', { value: 21 });
    expect((await waitForStatus(host, parent, ['Completed', 'Failed'])).output).toEqual({
      child: { doubled: 42, parent },
    });
    const child = await status(host, `${parent}:0`);
    expect(child.body).toMatchObject({ name: 'child', runtimeStatus: 'Completed', input: { value: 21 } });

    const childId = `explicit-${Date.now()}`;
    const failing = await startOrchestration(host, 'parent', { value: 1, fail: true, childId });
    const out = (await waitForStatus(host, failing, ['Completed', 'Failed'])).output as { childFailed: string };
    expect(out.childFailed).toContain("Orchestrator function 'child' failed: child refused 1");
    expect((await status(host, childId)).body.runtimeStatus).toBe('Failed');
  });

  it('continues as new with a fresh history under the same instance id', async () => {
    const id = await startOrchestration(host, 'counter', 1);
    const done = await waitForStatus(host, id, ['Completed', 'Failed']);
    expect(done.output).toBe(8);
    expect(done.input).toBe(4);
    const { history } = await persistedState(conn(), taskHub, id);
    expect(pattern(history)).toEqual([
      'ExecutionStarted',
      'TaskScheduled(0)',
      'TaskCompleted(0)',
      'ExecutionCompleted',
    ]);
  });

  it('fails an instance with the orchestrator error as output', async () => {
    const id = await startOrchestration(host, 'failing', 'xyz');
    const done = await waitForStatus(host, id, ['Completed', 'Failed']);
    expect(done.runtimeStatus).toBe('Failed');
    expect(done.output).toBe("Orchestrator function 'failing' failed: boom: xyz");
  });

  it('fails an instance whose custom status is over 16 KB of UTF-16, as the extension does, and runs nothing after it', async () => {
    // 8,190 characters and the JSON around them: 16,404 bytes, 16 KB once truncated, passes.
    const fits = await startOrchestration(host, 'bigStatus', 8190);
    expect((await waitForStatus(host, fits, ['Completed', 'Failed'])).runtimeStatus).toBe('Completed');
    // 8,702 characters: 17,428 bytes, 17 KB: refused.
    const over = await startOrchestration(host, 'bigStatus', 8702);
    const done = await waitForStatus(host, over, ['Completed', 'Failed']);
    expect(done.runtimeStatus).toBe('Failed');
    expect(done.output).toBe(
      "Orchestrator function 'bigStatus' failed: The UTF-16 size of the JSON-serialized payload must not exceed 16 KB. The current payload size is 17 KB.",
    );
    // The refused status was not kept, and the activity the episode asked for never ran.
    expect(done.customStatus).toEqual({ stage: 'small' });
    const { history } = await persistedState(conn(), taskHub, over);
    expect(pattern(history)).toEqual([
      'ExecutionStarted',
      'TaskScheduled(0)',
      'TaskCompleted(0)',
      'ExecutionCompleted',
    ]);
  });

  it("passes an activity's error message through the host's credential filter", async () => {
    const id = await startOrchestration(
      host,
      'leakyCaller',
      'https://acct.blob.core.windows.net/c/b?sv=2024&sig=SECRETSIG',
    );
    const done = await waitForStatus(host, id, ['Completed', 'Failed']);
    const caught = (done.output as { caught: string }).caught;
    // Cut from `&sig=` to the next quote, and from `key=` to the next quote (Sanitizer.cs).
    expect(caught).toContain(
      'GET https://acct.blob.core.windows.net/c/b?sv=2024[Hidden Credential]"x" field says [Hidden Credential]\'end\'',
    );
    expect(caught).not.toMatch(/SECRETSIG|abc123/);
  });

  it('fails loudly on actions it does not implement', async () => {
    const id = await startOrchestration(host, 'usesEntity');
    const done = await waitForStatus(host, id, ['Completed', 'Failed']);
    expect(done.runtimeStatus).toBe('Failed');
    expect(done.output).toContain('CallEntity is not implemented by the sandbox host');
  });

  it('serves the durable client of an HTTP function: start, status, raise, query, terminate, purge', async () => {
    const id = `client-${Date.now()}`;
    const started = await host.fetch(`/api/orchestrators/approval?id=${id}`, {
      method: 'POST',
      body: JSON.stringify({ timeoutMinutes: 600_000 }),
    });
    expect(started.status).toBe(202);
    const links = (await started.json()) as Record<string, string>;
    expect(links.id).toBe(id);
    // As on Azure, the management URLs carry the extension's system key (never the master key).
    expect(links.statusQueryGetUri).toBe(
      `${host.url}/runtime/webhooks/durabletask/instances/${id}?taskHub=${taskHub}&connection=Storage&code=${host.keys!.system.durabletask_extension}`,
    );
    expect(started.headers.get('location')).toBe(links.statusQueryGetUri);
    await waitForStatus(host, id, ['Running']);

    const viaClient = (await (await host.fetch(`/api/client/status/${id}`)).json()) as Record<string, unknown>;
    expect(viaClient).toMatchObject({
      name: 'approval',
      instanceId: id,
      runtimeStatus: 'Running',
      input: { timeoutMinutes: 600_000 },
    });

    // Starting a running instance id again is refused, and the running instance is untouched.
    const again = (await (await host.fetch(`/api/client/start-again/${id}`)).json()) as { again: string };
    expect(again.again).toContain('An Orchestration instance with the status Running already exists.');
    expect((await status(host, id)).body.input).toEqual({ timeoutMinutes: 600_000 });

    expect(
      (
        await host.fetch(`/api/client/raise/${id}?event=Approval`, {
          method: 'POST',
          body: JSON.stringify('bob'),
        })
      ).status,
    ).toBe(202);
    expect((await waitForStatus(host, id, ['Completed'])).output).toEqual({ approved: 'bob' });

    const other = await startOrchestration(host, 'approval', { timeoutMinutes: 600_000 });
    await waitForStatus(host, other, ['Running']);
    expect(
      (await host.fetch(`/api/client/terminate/${other}?reason=no%20longer%20needed`, { method: 'POST' })).status,
    ).toBe(202);
    const terminated = await waitForStatus(host, other, ['Terminated']);
    expect(terminated.output).toBe('no longer needed');

    const listed = (await (await host.fetch(`/api/client/list?runtimeStatus=Completed,Terminated`)).json()) as Array<{
      instanceId: string;
      runtimeStatus: string;
    }>;
    expect(listed).toEqual(
      expect.arrayContaining([
        { instanceId: id, runtimeStatus: 'Completed' },
        { instanceId: other, runtimeStatus: 'Terminated' },
      ]),
    );
    expect(listed.every((s) => ['Completed', 'Terminated'].includes(s.runtimeStatus))).toBe(true);

    expect(await (await host.fetch(`/api/client/purge/${id}`)).json()).toEqual({ instancesDeleted: 1 });
    expect((await status(host, id)).code).toBe(404);
  });

  it('holds events for a suspended instance until it is resumed', async () => {
    const id = await startOrchestration(host, 'approval', { timeoutMinutes: 600_000 });
    await waitForStatus(host, id, ['Running']);
    const hooks = `/runtime/webhooks/durabletask/instances/${id}`;
    expect((await host.fetch(`${hooks}/suspend?reason=pause`, { method: 'POST' })).status).toBe(202);
    await waitForStatus(host, id, ['Suspended']);
    expect((await host.fetch(`${hooks}/raiseEvent/Approval`, { method: 'POST', body: '"carol"' })).status).toBe(202);
    await new Promise((r) => setTimeout(r, 300));
    expect((await status(host, id)).body.runtimeStatus).toBe('Suspended');
    expect((await host.fetch(`${hooks}/resume?reason=go`, { method: 'POST' })).status).toBe(202);
    expect((await waitForStatus(host, id, ['Completed', 'Failed'])).output).toEqual({ approved: 'carol' });
  });

  it('pages instance queries with x-ms-continuation-token and terminates and purges through the webhook API', async () => {
    const ids = [
      await startOrchestration(host, 'approval', { timeoutMinutes: 600_000 }),
      await startOrchestration(host, 'approval', { timeoutMinutes: 600_000 }),
    ];
    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const res: Response = await host.fetch(`/durabletask/instances/?top=1&runtimeStatus=Running,Pending`, {
        headers: token ? { 'x-ms-continuation-token': token } : {},
      });
      seen.push(...((await res.json()) as Array<{ instanceId: string }>).map((s) => s.instanceId));
      token = res.headers.get('x-ms-continuation-token');
      pages++;
    } while (token);
    expect(seen).toEqual(expect.arrayContaining(ids));
    expect(new Set(seen).size).toBe(seen.length);
    expect(pages).toBe(seen.length);
    expect(pages).toBeGreaterThanOrEqual(2);

    for (const id of ids) {
      const res = await host.fetch(`/runtime/webhooks/durabletask/instances/${id}/terminate?reason=cleanup`, {
        method: 'POST',
      });
      expect(res.status).toBe(202);
      await waitForStatus(host, id, ['Terminated']);
      const purge = await host.fetch(`/runtime/webhooks/durabletask/instances/${id}`, { method: 'DELETE' });
      expect(await purge.json()).toEqual({ instancesDeleted: 1 });
    }
    expect(
      (await host.fetch(`/runtime/webhooks/durabletask/instances/${ids[0]}/terminate`, { method: 'POST' })).status,
    ).toBe(404);
  });
});

describe('sandbox host: durable restarts', () => {
  beforeAll(ensureBuilt);

  /** A home-engine host on its own task hub, started again on the same one after a kill. */
  const restartable = (taskHub: string, extra: { workItemVisibilityMs?: number } = {}) => ({
    appDir: fixture('durable-app'),
    settings: { AzureWebJobsStorage: testStorage().connectionString },
    taskHub,
    clockSpeed: CLOCK_SPEED,
    durable: 'home' as const,
    ...extra,
  });

  it('resumes running instances after a kill: waiting instances get their event, in-flight activities run again', async () => {
    const taskHub = uniqueHub();
    // The killed host's work item becomes visible again this long after it was taken.
    const options = restartable(taskHub, { workItemVisibilityMs: 2000 });
    let host = await startHost(options);
    let waiting: string;
    let slow: string;
    try {
      waiting = await startOrchestration(host, 'approval', { timeoutMinutes: 600_000 });
      slow = await startOrchestration(host, 'slowOne', 1500);
      await waitForStatus(host, waiting, ['Running']);
      await waitFor('the slow activity to start', () =>
        host.logs().find((l) => l.message.startsWith("Executing 'Functions.slow'")),
      );
    } finally {
      await host.kill();
    }
    host = await startHost(options);
    try {
      expect((await waitForStatus(host, slow, ['Completed', 'Failed'])).output).toBe(1500);
      const logs = host.logs().map((l) => l.message);
      // Not at once: only when the work item the killed host had taken is visible again.
      const waited = logs.findIndex((m) => /activity 'slow' \(task \d+\) was in flight; it runs again when/.test(m));
      expect(waited).toBeGreaterThanOrEqual(0);
      expect(logs.findIndex((m, i) => i > waited && m.startsWith("Executing 'Functions.slow'"))).toBeGreaterThan(
        waited,
      );
      const raise = await host.fetch(`/runtime/webhooks/durabletask/instances/${waiting}/raiseEvent/Approval`, {
        method: 'POST',
        body: '"after restart"',
      });
      expect(raise.status).toBe(202);
      expect((await waitForStatus(host, waiting, ['Completed', 'Failed'])).output).toEqual({
        approved: 'after restart',
      });
    } finally {
      await host.stop();
    }
  });

  it('handles a timer that a killed host had fired as fired, on a clock no earlier than the timer', async () => {
    // The state a kill leaves when it lands between saving a TimerFired into the inbox and the
    // episode that reads it: made here by hand, since a kill cannot be aimed that finely.
    const taskHub = uniqueHub();
    const options = restartable(taskHub);
    let host = await startHost(options);
    let id: string;
    try {
      // 600 virtual minutes: a minute of real time, far beyond the kill below.
      id = await startOrchestration(host, 'timerThenWork', { minutes: 600 });
      await waitFor('the timer to be created', async () => {
        const { history } = await persistedState(testStorage().connectionString, taskHub, id);
        return history.some((e) => e.EventType === 10) ? true : undefined;
      });
    } finally {
      await host.kill();
    }
    const blob = BlobServiceClient.fromConnectionString(testStorage().connectionString)
      .getContainerClient(`${taskHub.toLowerCase()}-sandboxhost`)
      .getBlockBlobClient(`instances/${encodeURIComponent(id)}.json`);
    const st = JSON.parse((await blob.downloadToBuffer()).toString('utf8')) as {
      timers: Array<{ id: number; fireAt: string }>;
      inbox: Array<Record<string, unknown>>;
      virtualNow: string;
    };
    expect(st.timers).toHaveLength(1);
    const [timer] = st.timers as [{ id: number; fireAt: string }];
    expect(Date.parse(st.virtualNow)).toBeLessThan(Date.parse(timer.fireAt));
    st.timers = [];
    st.inbox.push({
      EventType: 11,
      EventId: -1,
      IsPlayed: false,
      Timestamp: timer.fireAt,
      TimerId: timer.id,
      FireAt: timer.fireAt,
    });
    const text = JSON.stringify(st);
    await blob.upload(text, Buffer.byteLength(text));

    host = await startHost(options);
    try {
      // Either the run ends, or the host chains the fired timer as if it were still due, with
      // an id the library never took (which then answers the activity with the timer's nothing).
      const seen = await waitFor('the run to end or a second timer to appear', async () => {
        const { body } = await status(host, id);
        const { history } = await persistedState(testStorage().connectionString, taskHub, id);
        const timers = history.filter((e) => e.EventType === 10).length;
        return ['Completed', 'Failed'].includes(body.runtimeStatus) || timers > 1 ? { body, timers } : undefined;
      });
      expect(seen.timers).toBe(1);
      expect(seen.body.runtimeStatus).toBe('Completed');
      const output = seen.body.output as { fireAt: string; after: string; doubled: number };
      expect(output.doubled).toBe(42);
      expect(Date.parse(output.after)).toBeGreaterThanOrEqual(Date.parse(output.fireAt));
    } finally {
      await host.stop();
    }
  });
});
