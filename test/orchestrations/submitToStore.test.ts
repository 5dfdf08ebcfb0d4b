import { itOnFastClock } from '../helpers/engine';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import { goodZip, packageFor } from '../helpers/zips';
import {
  RAW,
  allInstances,
  dropRun,
  instance,
  msBetween,
  rawHistory,
  seedWithApps,
  taskSequence,
  type RawEvent,
} from './durable';

const HAPPY_APP = '9NBLGGH4HPPY';
const TRANSIENT_APP = '9NBLGGH4TRNS';
const REFUSED_APP = '9NBLGGH4RFSD';
const CANCELED_APP = '9NBLGGH4CNCL';
const PACKAGE = 'packages/Contoso.Demo_4.0.0.0_x64.msixupload';

/** The run's Store steps, each scheduled once, in this order. */
const STEPS = [
  'validateZip',
  'checkCredential',
  'resolveProduct',
  'checkPackages',
  'createSubmission',
  'updateSubmission',
  'uploadPackageZip',
  'commitSubmission',
  'followSubmission',
  'writeReport',
];

/** The phases custom status goes through on a plain app run. */
const PHASES = [
  'Validating',
  'Queued',
  'CheckingCredential',
  'ResolvingProduct',
  'CheckingPackages',
  'CreatingSubmission',
  'UpdatingSubmission',
  'Uploading',
  'Committing',
  'WaitingForStore',
  'WritingReport',
  'Succeeded',
];

function appZip(applicationId: string): Buffer {
  return goodZip(
    {
      target: { kind: 'app', applicationId },
      submission: { applicationPackages: [{ fileName: PACKAGE }] },
    },
    { [PACKAGE]: packageFor(PACKAGE) },
  );
}

/**
 * Names of scheduled activities and sub-orchestrations, and timers, in history order, from the
 * credential check on: before it the run may wait its turn in the product's queue on timers of
 * its own, which are not retries.
 */
function scheduled(history: RawEvent[]): string[] {
  const all = history.flatMap((e) => {
    if (e.EventType === RAW.TaskScheduled || e.EventType === RAW.SubOrchestrationInstanceCreated) return [e.Name!];
    if (e.EventType === RAW.TimerCreated) return ['(timer)'];
    return [];
  });
  const from = all.indexOf('checkCredential');
  return [...all.filter((n, i) => i < from && n === 'validateZip'), ...all.slice(from)];
}

/** Submissions of the product made through the API during the test (a seeded one starts its history Published). */
async function ourSubmissions(sandbox: TestSandbox, productId: string) {
  const state = await sandbox.emulator.admin.state();
  return state.submissions.filter(
    (s) => s.productId === productId && s.createdIn === 'API' && s.statusHistory[0]?.status === 'PendingCommit',
  );
}

describe('submitToStore on the sandbox host', () => {
  let sandbox: TestSandbox;
  beforeAll(async () => {
    sandbox = await startTestSandbox({
      emulator: { seed: seedWithApps(HAPPY_APP, TRANSIENT_APP, REFUSED_APP, CANCELED_APP) },
      host: { clockSpeed: 300 },
      // The client's own pacing (20 calls a real minute) would hold runs whose clock goes 300 times faster.
      settings: { STORE_MAX_REQUESTS_PER_MINUTE: '10000' },
    });
  });
  afterAll(() => sandbox?.stop());

  it('schedules each step once, in order, and moves custom status through the phases', async () => {
    const id = await dropRun(sandbox, 'orch/happy.zip', appZip(HAPPY_APP));
    started.runs++;
    started.followers++;
    // Sample custom status as fast as the status API answers, while the run goes.
    const seen: string[] = [];
    for (let done = false; !done;) {
      const st = await sandbox.host.fetch(`/runtime/webhooks/durabletask/instances/${id}?showInput=false`);
      if (st.status !== 404) {
        const body = (await st.json()) as { runtimeStatus: string; customStatus?: { phase?: string } };
        const phase = body.customStatus?.phase;
        if (phase && seen.at(-1) !== phase) seen.push(phase);
        done = ['Completed', 'Failed', 'Terminated'].includes(body.runtimeStatus);
      }
    }
    // Whatever the sampling caught, it is in order, and the waiting and the end were caught.
    const positions = seen.map((p) => PHASES.indexOf(p));
    expect({ seen, inOrder: positions.every((p, i) => p >= 0 && (i === 0 || p > positions[i - 1]!)) }).toEqual({
      seen,
      inOrder: true,
    });
    expect(seen).toEqual(expect.arrayContaining(['Validating', 'WaitingForStore', 'Succeeded']));

    const run = (await instance(sandbox, id))!;
    expect(run.runtimeStatus).toBe('Completed');
    const shown = taskSequence(run.historyEvents!);
    expect(shown.filter((n) => STEPS.includes(n))).toEqual(STEPS);
    expect(run.historyEvents!.find((e) => e.FunctionName === 'followSubmission')?.EventType).toBe(
      'SubOrchestrationInstanceCompleted',
    );
    // The raw history has the TaskScheduled events themselves: one per step, no timer (nothing was retried).
    const history = await rawHistory(sandbox, id);
    const raw = scheduled(history);
    expect(raw.filter((n) => STEPS.includes(n))).toEqual(STEPS);
    expect(history.filter((e) => e.Name === 'followSubmission').map((e) => e.EventType)).toEqual([
      RAW.SubOrchestrationInstanceCreated,
    ]);
    expect(raw).not.toContain('(timer)');

    const doc = (await sandbox.status(id))!;
    expect(doc.status).toBe('Succeeded');
    const timeline = doc.timeline.map((s) => s.step);
    expect(timeline.filter((s) => STEPS.includes(s))).toEqual(STEPS.filter((s) => s !== 'followSubmission'));
    expect(timeline.indexOf('waitFor:commit')).toBeGreaterThan(timeline.indexOf('commitSubmission'));
    expect(doc.timeline.every((s) => s.result === 'ok' && !s.attempts)).toBe(true);
    expect(await ourSubmissions(sandbox, HAPPY_APP)).toHaveLength(1);
  });

  let transientRun: string;

  /** Runs this file started, and those of them that reached the follower. */
  const started = { runs: 0, followers: 0 };

  // Fast clock: the Store asks for 45 s and twice 30 s of durable waiting.
  itOnFastClock(
    'retries a throttled create and a busy update after durable timers, and ends with one submission',
    async () => {
      const admin = sandbox.emulator.admin;
      // Retry-After above the client's own 20 s patience: the activity gives up at once and the
      // orchestration waits on a durable timer instead of holding a worker.
      await admin.fault({
        match: { server: 'api', method: 'POST', path: `applications/${TRANSIENT_APP}/submissions` },
        status: 429,
        headers: { 'Retry-After': '45' },
        body: { statusCode: 429, message: 'Rate limit is exceeded. Try again in 45 seconds.' },
      });
      await admin.fault({
        match: { server: 'api', method: 'PUT', path: `applications/${TRANSIENT_APP}/submissions/*` },
        status: 503,
        times: 2,
        headers: { 'Retry-After': '30' },
        body: { code: 'ServiceUnavailable', message: 'The service is temporarily unavailable.' },
      });
      const id = await dropRun(sandbox, 'orch/transient.zip', appZip(TRANSIENT_APP));
      started.runs++;
      started.followers++;
      transientRun = id;
      const doc = await sandbox.finished(id);
      expect(doc.status).toBe('Succeeded');

      const raw = await rawHistory(sandbox, id);
      const names = scheduled(raw);
      expect(names.filter((n) => STEPS.includes(n) || n === '(timer)')).toEqual([
        'validateZip',
        'checkCredential',
        'resolveProduct',
        'checkPackages',
        'createSubmission',
        '(timer)',
        'createSubmission',
        'updateSubmission',
        '(timer)',
        'updateSubmission',
        '(timer)',
        'updateSubmission',
        'uploadPackageZip',
        'commitSubmission',
        'followSubmission',
        'writeReport',
      ]);
      // Each wait honours the Store's Retry-After, measured on the orchestration's own clock.
      const firstCheck = raw.findIndex((e) => e.EventType === RAW.TaskScheduled && e.Name === 'checkCredential');
      const timers = raw.slice(firstCheck).filter((e) => e.EventType === RAW.TimerCreated);
      expect(timers).toHaveLength(3);
      const waits = timers.map((t) => msBetween(t.Timestamp, t.FireAt!));
      expect(waits[0]).toBeGreaterThanOrEqual(45_000);
      expect(waits[1]).toBeGreaterThanOrEqual(30_000);
      expect(waits[2]).toBeGreaterThanOrEqual(30_000);

      // The status API shows the same story: a failure, the timer firing, the next attempt.
      const shown = (await instance(sandbox, id))!.historyEvents!;
      const update = shown
        .filter((e) => e.FunctionName === 'updateSubmission' || e.EventType === 'TimerFired')
        .map((e) => `${e.EventType}${e.FunctionName ? ` ${e.FunctionName}` : ''}`);
      expect(update.slice(-5)).toEqual([
        'TaskFailed updateSubmission',
        'TimerFired',
        'TaskFailed updateSubmission',
        'TimerFired',
        'TaskCompleted updateSubmission',
      ]);
      expect(shown.find((e) => e.EventType === 'TaskFailed' && e.FunctionName === 'updateSubmission')?.Reason).toMatch(
        /503|temporarily unavailable/,
      );

      const step = (name: string) => doc.timeline.find((s) => s.step === name);
      expect(step('createSubmission')).toMatchObject({ result: 'ok', attempts: 2 });
      expect(step('updateSubmission')).toMatchObject({ result: 'ok', attempts: 3 });
      const ours = await ourSubmissions(sandbox, TRANSIENT_APP);
      expect(ours.map((s) => s.id)).toEqual([doc.submissionId]);
      expect(ours[0]!.status).not.toBe('PendingCommit');
    },
  );

  // Fast clock: reads the run of the test above.
  itOnFastClock("keeps the MS-CorrelationIds of a retried step's failed attempts in its timeline record", async () => {
    const doc = (await sandbox.status(transientRun))!;
    const { requests } = await sandbox.emulator.admin.state();
    const failedPuts = requests
      .filter((r) => r.method === 'PUT' && r.server === 'api' && r.fault && r.path.includes(TRANSIENT_APP))
      .map((r) => r.correlationId);
    expect(failedPuts).toHaveLength(2);
    // What Microsoft support asks for is the id of the call that failed: a later success must not
    // replace the failed attempts' ids (it once did, in the step bookkeeping).
    expect(doc.timeline.find((s) => s.step === 'updateSubmission')?.correlationIds).toEqual(
      expect.arrayContaining(failedPuts),
    );
  });

  it('stops at once on a 400 with the Store code and message, and deletes its submission', async () => {
    const message = 'The value of listings.en-us.baseListing.keywords is not valid.';
    await sandbox.emulator.admin.fault({
      match: { server: 'api', method: 'PUT', path: `applications/${REFUSED_APP}/submissions/*` },
      status: 400,
      body: {
        code: 'InvalidParameterValue',
        data: [],
        details: [],
        message,
        source: 'Ingestion Api',
        target: 'listings',
      },
    });
    const id = await dropRun(sandbox, 'orch/refused.zip', appZip(REFUSED_APP));
    started.runs++;
    const doc = await sandbox.finished(id);
    expect(doc.status).toBe('Failed');
    expect(doc.failure).toMatchObject({
      step: 'updateSubmission',
      facts: { code: 'InvalidParameterValue', status: 400, retriable: false },
    });
    expect(doc.failure!.message).toContain(message);
    expect(doc.timeline.find((s) => s.step === 'updateSubmission')).toMatchObject({ result: 'failed' });
    expect(doc.timeline.find((s) => s.step === 'updateSubmission')?.attempts ?? 1).toBe(1);

    const raw = scheduled(await rawHistory(sandbox, id));
    expect(raw).not.toContain('(timer)');
    expect(raw.filter((n) => n === 'updateSubmission')).toHaveLength(1);
    expect(raw.slice(raw.indexOf('updateSubmission')).filter((n) => n !== 'leaveTurn')).toEqual([
      'updateSubmission',
      'discardSubmission',
      'writeReport',
    ]);

    // Nothing half-made is left: the submission the run created is gone, and the app has no pending one.
    expect(await ourSubmissions(sandbox, REFUSED_APP)).toEqual([]);
    const app = (await sandbox.emulator.admin.state()).applications.find((a) => a.id === REFUSED_APP)!;
    expect(app.pendingApplicationSubmission ?? null).toBeNull();
  });

  it('canceled while waiting to retry its update, deletes the submission it made in a cleanup instance', async () => {
    // An hour's Retry-After keeps the run on a durable timer, its submission made and not committed.
    await sandbox.emulator.admin.fault({
      match: { server: 'api', method: 'PUT', path: `applications/${CANCELED_APP}/submissions/*` },
      status: 429,
      headers: { 'Retry-After': '3600' },
      body: { statusCode: 429, message: 'Rate limit is exceeded. Try again in 3600 seconds.' },
    });
    const id = await dropRun(sandbox, 'orch/canceled.zip', appZip(CANCELED_APP));
    started.runs++;
    await sandbox.waitFor(id, (d) => d.timeline.some((s) => s.step === 'updateSubmission' && s.result === 'retrying'));
    expect(await ourSubmissions(sandbox, CANCELED_APP)).toHaveLength(1);
    const response = await sandbox.host.fetch(`/api/submissions/${id}/cancel`, { method: 'POST' });
    expect(response.status).toBe(202);
    const doc = await sandbox.finished(id);
    expect(doc.status).toBe('Canceled');
    const cleanup = await sandbox.waitFor(id, (d) => d.reportBlob !== undefined);
    expect(cleanup.timeline.find((s) => s.step === 'discardSubmission')).toMatchObject({ result: 'ok' });
    // The step the cancel cut (waiting to retry) says it was interrupted, and when.
    expect(cleanup.timeline.find((s) => s.step === 'updateSubmission')).toMatchObject({
      result: 'interrupted',
      endedAt: expect.any(String),
      detail: expect.stringMatching(/next attempt in .*; interrupted: canceled \(canceled through the API\)$/),
    });
    expect(await ourSubmissions(sandbox, CANCELED_APP)).toEqual([]);
    const cancelInstance = (await instance(sandbox, `${id}-cancel`))!;
    expect(cancelInstance.runtimeStatus).toBe('Completed');
    expect(taskSequence(cancelInstance.historyEvents!).filter((n) => n !== 'leaveTurn')).toEqual([
      'discardSubmission',
      'writeReport',
    ]);
  });

  it('replays every instance of these runs without nondeterminism', async () => {
    const instances = await allInstances(sandbox);
    // Every run, a follower for each run that committed (the refused and the canceled run never
    // got one), one cleanup.
    expect(started.runs).toBeGreaterThanOrEqual(3);
    expect(instances.filter((i) => i.name === 'submitToStore')).toHaveLength(started.runs);
    expect(instances.filter((i) => i.name === 'followSubmission')).toHaveLength(started.followers);
    expect(instances.filter((i) => i.name === 'cancelRun')).toHaveLength(1);
    for (const i of instances.filter((x) => x.name === 'followSubmission')) expect(i.instanceId).toMatch(/-follow$/);
    // Terminated is how cancel stops a run; nothing may be left running or fail otherwise.
    expect(
      instances.filter((i) => !['Completed', 'Failed', 'Terminated'].includes(i.runtimeStatus)).map((i) => i.name),
    ).toEqual([]);
    expect(instances.filter((i) => i.runtimeStatus === 'Terminated').map((i) => i.name)).toEqual(['submitToStore']);
    const broken = instances.filter((i) => /non-deterministic/i.test(JSON.stringify(i.output ?? '')));
    expect(broken).toEqual([]);
    expect(sandbox.logs.filter((l) => /non-deterministic/i.test(l.message))).toEqual([]);
    // The only failed instance is the run refused by the Store, failing as designed.
    expect(instances.filter((i) => i.runtimeStatus === 'Failed').map((i) => i.name)).toEqual(['submitToStore']);
  });
});
