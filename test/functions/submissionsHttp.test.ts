/**
 * The HTTP API through the sandbox host's port: the real app, the real Durable client, the
 * emulated Store. The blob trigger is slowed to once an hour here, so every run in this file
 * is one the API started.
 */
import { SEED_IDS } from '../../sandbox/emulator';
import { instanceIdFor } from '../../lib/instanceId';
import type { StatusDocument } from '../../lib/statusDocument';
import { goodZip, packageFor } from '../helpers/zips';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import { apiSubmissionsOf, E2E_SETTINGS, emulatorUntil, requestsOf, stepsOf, type Json } from '../e2e/support';

let build = 0;

/** Each zip a newer build of the app, as releases are: the same version again would be superseded. */
function appZip(options: Json = {}, label = 'package'): Buffer {
  const PACKAGE = `packages/ContosoDemo_3.0.${++build}.0_x64.msixupload`;
  return goodZip(
    {
      target: { kind: 'app', applicationId: SEED_IDS.demoApp },
      submission: { applicationPackages: [{ fileName: PACKAGE }], notesForCertification: label },
      options,
    },
    { [PACKAGE]: packageFor(PACKAGE) },
  );
}

interface Answer {
  status: number;
  headers: Headers;
  body: Json;
}

describe('the submissions HTTP API', () => {
  let sandbox: TestSandbox;
  let api: string;

  async function call(method: string, path: string, body?: unknown): Promise<Answer> {
    const response = await sandbox.host.fetch(`/api${path}`, {
      method,
      headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : {}) as Json };
  }

  const start = (blob: unknown, options?: Json): Promise<Answer> =>
    call('POST', '/submissions', options === undefined ? { blob } : { blob, options });

  /** Drops a zip and starts its run through the API. */
  async function dropAndStart(name: string, zip: Buffer, options?: Json): Promise<{ id: string; answer: Answer }> {
    const etag = await sandbox.drop(name, zip);
    const answer = await start(name, options);
    expect(answer.status).toBe(202);
    expect(answer.body.id).toBe(instanceIdFor(sandbox.submissions.containerName, name, etag));
    return { id: String(answer.body.id), answer };
  }

  beforeAll(async () => {
    sandbox = await startTestSandbox({
      host: { blobPollIntervalMs: 3_600_000 },
      // A hung create stays hung until the test cancels the run, however long that takes on a
      // busy machine: the client's own timeout (60 s by default) would end it first.
      settings: { ...E2E_SETTINGS, STORE_REQUEST_TIMEOUT_SECONDS: '600' },
    });
    api = `${sandbox.host.url}/api`;
  });
  afterAll(() => sandbox?.stop());
  beforeEach(async () => {
    await sandbox.emulator.admin.reset('default');
  });

  it("POST starts the run for a zip in the container, answers 202 with the app's own status and cancel URLs, and starts one run only", async () => {
    const name = 'http/start.zip';
    const { id, answer } = await dropAndStart(name, appZip());
    // The app's URLs only: Durable's check-status payload would carry the extension's system key.
    expect(answer.body).toEqual({
      id,
      started: true,
      statusUrl: `${api}/submissions/${id}`,
      cancelUrl: `${api}/submissions/${id}/cancel`,
    });
    expect(answer.headers.get('location')).toBe(answer.body.statusUrl);
    expect(JSON.stringify(answer.body)).not.toMatch(/runtime\/webhooks|code=/);

    const again = await start(name);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ id, started: false });

    const doc = await sandbox.finished(id);
    expect(doc.status).toBe('Succeeded');
    // Once the run has stamped the zip (which changes its ETag), asking again still finds that run.
    const afterwards = await start(name);
    expect(afterwards.body).toMatchObject({ id, started: false });

    const listed = await call('GET', `/submissions?blob=${encodeURIComponent(name)}`);
    expect((listed.body.runs as Json[]).map((r) => r.instanceId)).toEqual([id]);
    const state = await sandbox.emulator.admin.state();
    expect(apiSubmissionsOf(state, SEED_IDS.demoApp, [SEED_IDS.demoAppPublishedSubmission])).toHaveLength(1);
    expect(requestsOf(state, /^POST .*\/submissions$/)).toHaveLength(1);

    // The status URL is the app's status document; the Durable built-in endpoint still answers.
    // With a host key: the URL itself carries none.
    const byLink = await sandbox.host.fetch(String(answer.body.statusUrl));
    expect(byLink.status).toBe(200);
    expect(await byLink.json()).toMatchObject({ instanceId: id, status: 'Succeeded' });
    const direct = await sandbox.host.fetch(`/runtime/webhooks/durabletask/instances/${id}`);
    expect(direct.status).toBe(200);
    expect(await direct.json()).toMatchObject({ instanceId: id, name: 'submitToStore', runtimeStatus: 'Completed' });
  });

  it("options in the body override the manifest's", async () => {
    const { id } = await dropAndStart('http/override.zip', appZip({ dryRun: false }), { dryRun: true });
    const doc = await sandbox.finished(id);
    expect(doc).toMatchObject({ status: 'Succeeded', outcome: 'DryRunSucceeded', dryRun: true });
    const state = await sandbox.emulator.admin.state();
    expect(requestsOf(state, /commit|\(upload\)/)).toEqual([]);
    expect(apiSubmissionsOf(state, SEED_IDS.demoApp, [SEED_IDS.demoAppPublishedSubmission])).toEqual([]);
  });

  it('refuses bad requests with a 4xx that says what is wrong, and starts nothing', async () => {
    await sandbox.drop('http/exists.zip', appZip());
    const container = sandbox.submissions.containerName;
    const cases: Array<[string, () => Promise<Answer>, number, string, RegExp]> = [
      [
        'malformed JSON',
        () => call('POST', '/submissions', '{"blob": "http/exists.zip",'),
        400,
        'InvalidBody',
        /must be JSON/,
      ],
      ['a JSON array', () => call('POST', '/submissions', ['http/exists.zip']), 400, 'InvalidBody', /JSON object/],
      [
        'an unknown body field',
        () => call('POST', '/submissions', { blob: 'http/exists.zip', dryRun: true }),
        400,
        'InvalidBody',
        /Unknown field\(s\) in the body: dryRun/,
      ],
      [
        'an unknown option',
        () => start('http/exists.zip', { dryrun: true }),
        400,
        'InvalidOptions',
        /dryrun.*did you mean "dryRun"/,
      ],
      [
        'an option of the wrong type',
        () => start('http/exists.zip', { waitFor: 'forever' }),
        400,
        'InvalidOptions',
        /waitFor/,
      ],
      ['no blob', () => call('POST', '/submissions', { options: {} }), 400, 'InvalidBlobName', /body\.blob must be/],
      [
        'a name outside the container',
        () => start(`../${container}-other/x.zip`),
        400,
        'InvalidBlobName',
        /not a plain blob name inside the submissions container/,
      ],
      [
        'a URL to another host',
        () => start(`https://storage.example.com/${container}/http/exists.zip`),
        400,
        'InvalidBlobName',
        new RegExp(`URL outside the submissions container "${container}"`),
      ],
      ['not a zip', () => start('http/notes.txt'), 400, 'InvalidBlobName', /is not a \.zip/],
      [
        'a missing blob',
        () => start('http/missing.zip'),
        404,
        'BlobNotFound',
        new RegExp(`No blob named "http/missing.zip" in container "${container}"`),
      ],
    ];
    for (const [what, send, status, code, message] of cases) {
      const answer = await send();
      expect({ what, status: answer.status, code: (answer.body.error as Json | undefined)?.code }).toEqual({
        what,
        status,
        code,
      });
      expect(String((answer.body.error as Json).message)).toMatch(message);
    }
    // A URL into the container itself is fine.
    const byUrl = await start(`${sandbox.submissions.url}/http/exists.zip`);
    expect(byUrl.status).toBe(202);
    expect(byUrl.body.started).toBe(true);
    await sandbox.finished(String(byUrl.body.id));
    // None of the refused requests started a run.
    const runs = await call('GET', '/submissions?blob=http/exists.zip');
    expect((runs.body.runs as Json[]).map((r) => r.instanceId)).toEqual([byUrl.body.id]);
  });

  it('GET answers 404 with a message for an id that is not a submission run', async () => {
    const unknown = await call('GET', '/submissions/zip-0000000000000000000000000000000000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toEqual({
      code: 'RunNotFound',
      message: 'No submission run has the id "zip-0000000000000000000000000000000000000000".',
    });
  });

  it('lists the runs of a zip, filters them by status, and refuses an unknown status', async () => {
    const name = 'http/listed.zip';
    const first = await dropAndStart(name, goodZip({ target: { kind: 'app' } }));
    const failed = await sandbox.finished(first.id);
    expect(failed.status).toBe('Failed');
    // A new upload of the same name is a new version: a second run.
    const second = await dropAndStart(name, appZip());
    const succeeded = await sandbox.finished(second.id);
    expect(succeeded.status).toBe('Succeeded');
    const other = await dropAndStart('http/other.zip', appZip({ dryRun: true }, 'other'));
    await sandbox.finished(other.id);

    const ofBlob = await call('GET', `/submissions?blob=${encodeURIComponent(name)}`);
    expect(ofBlob.status).toBe(200);
    const runs = ofBlob.body.runs as Array<Partial<StatusDocument>>;
    // Newest first.
    expect(runs.map((r) => [r.instanceId, r.status])).toEqual([
      [second.id, 'Succeeded'],
      [first.id, 'Failed'],
    ]);
    expect(runs[0]).toMatchObject({ blob: { name }, kind: 'app', submissionId: succeeded.submissionId });

    const onlyFailed = await call('GET', `/submissions?blob=${encodeURIComponent(name)}&status=Failed`);
    expect((onlyFailed.body.runs as Json[]).map((r) => r.instanceId)).toEqual([first.id]);
    const anyFailed = await call('GET', '/submissions?status=Failed,Canceled');
    const failedIds = (anyFailed.body.runs as Json[]).map((r) => r.instanceId);
    expect(failedIds).toContain(first.id);
    expect(failedIds).not.toContain(second.id);
    expect(failedIds).not.toContain(other.id);

    const bogus = await call('GET', '/submissions?status=Bogus');
    expect(bogus.status).toBe(400);
    expect(bogus.body.error).toMatchObject({
      code: 'InvalidStatus',
      message: expect.stringMatching(
        /Unknown status Bogus; use any of Pending, Running, Succeeded, Failed, Canceling, Canceled/,
      ),
    });
  });

  it('cancel stops a running run, deletes its uncommitted submission and reports Canceled', async () => {
    // The upload never gets an answer, so the run sits in Uploading with a submission of its own.
    await sandbox.emulator.admin.fault({ match: { server: 'upload' }, hang: true, times: 'always' });
    const name = 'http/cancel.zip';
    const { id } = await dropAndStart(name, appZip());
    const uploading = await sandbox.waitFor(id, (d) => d.phase === 'Uploading' && !!d.submissionId);
    const submissionId = uploading.submissionId!;
    expect((await sandbox.emulator.admin.state()).submissions.find((s) => s.id === submissionId)?.status).toBe(
      'PendingCommit',
    );

    const canceled = await call('POST', `/submissions/${id}/cancel?reason=${encodeURIComponent('wrong build')}`);
    expect(canceled.status).toBe(202);
    expect(canceled.body).toMatchObject({
      instanceId: id,
      status: 'Canceling',
      committed: false,
      submissionId,
      message: `Submission ${submissionId} was not committed; it is deleted.`,
    });
    // Until the submission is deleted (the clean-up first lets the upload in flight settle): Canceling.
    const canceling = (await sandbox.status(id))!;
    expect({
      status: canceling.status,
      deleted: !(await sandbox.emulator.admin.state()).submissions.some((x) => x.id === submissionId),
    }).toEqual({
      status: 'Canceling',
      deleted: false,
    });
    const listed = await call('GET', `/submissions?blob=${encodeURIComponent(name)}`);
    expect((listed.body.runs as Json[]).find((r) => r.instanceId === id)).toMatchObject({ status: 'Canceling' });

    const state = await emulatorUntil(sandbox, (s) => !s.submissions.some((x) => x.id === submissionId));
    expect(state.applications.find((a) => a.id === SEED_IDS.demoApp)!.pendingApplicationSubmission).toBeUndefined();
    expect(requestsOf(state, /commit/)).toEqual([]);
    expect(requestsOf(state, new RegExp(`^DELETE .*/submissions/${submissionId}$`))).toHaveLength(1);

    const doc = await sandbox.waitFor(id, (d) => d.status === 'Canceled' && !!d.reportBlob);
    expect(doc).toMatchObject({ status: 'Canceled', phase: 'Canceled', outcome: 'Canceled', submissionId });
    expect(stepsOf(doc)).toEqual(expect.arrayContaining(['canceled: wrong build', 'discardSubmission', 'writeReport']));
    // The upload the cancel cut says so, with an end, instead of "ok" forever.
    expect(doc.timeline.find((s) => s.step === 'uploadPackageZip')).toMatchObject({
      result: 'interrupted',
      endedAt: expect.any(String),
      detail: expect.stringContaining('interrupted: canceled (wrong build)'),
    });
    const report = JSON.parse((await sandbox.reports.getBlobClient(doc.reportBlob!).downloadToBuffer()).toString());
    expect(report).toMatchObject({ instanceId: id, status: 'Canceled', outcome: 'Canceled', submissionId });

    const builtIn = await sandbox.host.fetch(`/runtime/webhooks/durabletask/instances/${id}`);
    expect(await builtIn.json()).toMatchObject({ runtimeStatus: 'Terminated' });
    await sandbox.emulator.admin.clearFaults();
  });

  it('three cancels of one run sent at once all answer 202 Canceling; one clean-up runs; later ones say Canceled', async () => {
    await sandbox.emulator.admin.fault({ match: { server: 'upload' }, hang: true, times: 'always' });
    const { id } = await dropAndStart('http/cancel-thrice.zip', appZip());
    const uploading = await sandbox.waitFor(id, (d) => d.phase === 'Uploading' && !!d.submissionId);
    const answers = await Promise.all([1, 2, 3].map(() => call('POST', `/submissions/${id}/cancel`)));
    expect(answers.map((a) => ({ status: a.status, body: a.body }))).toEqual(
      [1, 2, 3].map(() => ({ status: 202, body: expect.objectContaining({ instanceId: id, status: 'Canceling' }) })),
    );
    const doc = await sandbox.waitFor(id, (d) => d.status === 'Canceled' && !!d.reportBlob);
    expect(doc).toMatchObject({ outcome: 'Canceled', submissionId: uploading.submissionId });
    const state = await sandbox.emulator.admin.state();
    expect(requestsOf(state, new RegExp(`^DELETE .*/submissions/${uploading.submissionId}$`))).toHaveLength(1);
    const after = await call('POST', `/submissions/${id}/cancel`);
    expect({ status: after.status, error: after.body.error }).toEqual({
      status: 409,
      error: { code: 'RunFinished', message: `Run ${id} has already ended (Canceled); there is nothing to cancel.` },
    });
    await sandbox.emulator.admin.clearFaults();
  });

  it('cancel while the create is in flight finds the submission the Store made and deletes it', async () => {
    // The Store creates the submission, but its answer never arrives: the run never learns the id.
    await sandbox.emulator.admin.fault({
      match: { method: 'POST', path: 'applications/*/submissions', server: 'api' },
      hang: true,
      after: true,
    });
    const { id } = await dropAndStart('http/cancel-creating.zip', appZip());
    await sandbox.waitFor(id, (d) => d.phase === 'CreatingSubmission');
    const made = await emulatorUntil(
      sandbox,
      (s) => apiSubmissionsOf(s, SEED_IDS.demoApp, [SEED_IDS.demoAppPublishedSubmission]).length === 1,
    );
    const submissionId = apiSubmissionsOf(made, SEED_IDS.demoApp, [SEED_IDS.demoAppPublishedSubmission])[0]!.id;

    expect((await call('POST', `/submissions/${id}/cancel`)).status).toBe(202);
    const doc = await sandbox.waitFor(id, (d) => d.status === 'Canceled' && !!d.reportBlob);
    expect(doc).toMatchObject({ outcome: 'Canceled', submissionId });
    const state = await sandbox.emulator.admin.state();
    expect(state.submissions.some((s) => s.id === submissionId)).toBe(false);
    expect(state.applications.find((a) => a.id === SEED_IDS.demoApp)!.pendingApplicationSubmission).toBeUndefined();
  });

  it('cancel while following a committed submission stops following and leaves the submission to the Store', async () => {
    await sandbox.emulator.admin.fault({ kind: 'stuck', status: 'Certification', productId: SEED_IDS.demoApp });
    const { id } = await dropAndStart('http/cancel-waiting.zip', appZip({ waitFor: 'published' }));
    const waiting = await sandbox.waitFor(
      id,
      (d) => d.phase === 'WaitingForStore' && d.storeStatus === 'Certification',
    );
    const submissionId = waiting.submissionId!;

    const answer = await call('POST', `/submissions/${id}/cancel`);
    const truth = `The Store had already taken submission ${submissionId} (status Certification) and goes on processing it: canceling the run stops only the following. To stop the submission, use Partner Center.`;
    // The answer, the status and the report say that the Store goes on with the committed submission.
    expect({ status: answer.status, body: answer.body }).toEqual({
      status: 202,
      body: expect.objectContaining({
        status: 'Canceling',
        committed: true,
        submissionId,
        storeStatus: 'Certification',
        message: truth,
      }),
    });
    const doc = await sandbox.waitFor(id, (d) => d.status === 'Canceled' && !!d.reportBlob);
    expect(doc).toMatchObject({ outcome: 'Canceled', submissionId });
    expect(doc.canceled).toEqual({
      reason: 'canceled through the API',
      committed: true,
      submissionId,
      storeStatus: 'Certification',
      message: truth,
    });
    const report = JSON.parse((await sandbox.reports.getBlobClient(doc.reportBlob!).downloadToBuffer()).toString());
    expect(report.canceled).toEqual(doc.canceled);
    const state = await sandbox.emulator.admin.state();
    expect(state.submissions.find((s) => s.id === submissionId)?.status).toBe('Certification');
    expect(requestsOf(state, /^DELETE /)).toEqual([]);
    const follower = await sandbox.host.fetch(`/runtime/webhooks/durabletask/instances/${id}-follow`);
    expect(await follower.json()).toMatchObject({ runtimeStatus: 'Terminated' });
  });

  it('cancel answers 409 for a run that has ended and 404 for an unknown id', async () => {
    const { id } = await dropAndStart('http/finished.zip', appZip({ dryRun: true }));
    await sandbox.finished(id);
    const late = await call('POST', `/submissions/${id}/cancel`);
    expect(late.status).toBe(409);
    // In the API's own words (Succeeded), not the Durable runtime's (Completed).
    expect(late.body.error).toEqual({
      code: 'RunFinished',
      message: `Run ${id} has already ended (Succeeded); there is nothing to cancel.`,
    });
    expect((await sandbox.status(id))?.status).toBe('Succeeded');

    const unknown = await call('POST', '/submissions/zip-ffffffffffffffffffffffffffffffffffffffff/cancel');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'RunNotFound' });
  });

  it('lists runs by time window a page at a time: the pages cover every run once, and a window leaves out the rest', async () => {
    const before = new Date();
    const started: string[] = [];
    for (let n = 1; n <= 7; n++)
      started.push((await dropAndStart(`paging/${n}.zip`, appZip({ dryRun: true }, `p${n}`))).id);
    const after = new Date();
    // The runs created in the window, two at a time, following each next as it was answered.
    const seen: string[] = [];
    let url: string | undefined =
      `${api}/submissions?since=${before.toISOString()}&until=${after.toISOString()}&top=2&code=${sandbox.host.keys!.host.default}`;
    let pages = 0;
    while (url) {
      // The first URL carries the caller's key; each next carries none, and the caller adds its own.
      const response = await sandbox.host.fetch(url);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { runs: Json[]; next?: string; since: string; until: string };
      expect(body.runs.length).toBeLessThanOrEqual(2);
      expect({ since: body.since, until: body.until }).toEqual({
        since: before.toISOString(),
        until: after.toISOString(),
      });
      seen.push(...body.runs.map((r) => String(r.instanceId)));
      if (body.next) {
        const next = new URL(body.next);
        expect(next.searchParams.has('code')).toBe(false);
        expect(body.next).not.toContain('callers-key');
        expect(next.searchParams.get('top')).toBe('2');
      }
      url = body.next;
      expect(++pages).toBeLessThan(20);
    }
    expect(pages).toBeGreaterThanOrEqual(4);
    expect([...seen].sort()).toEqual([...started].sort());

    // A window before the first and one after the last hold none of them.
    const earlier = await call('GET', `/submissions?until=${new Date(before.getTime() - 1).toISOString()}`);
    const later = await call('GET', `/submissions?since=${new Date(after.getTime() + 1).toISOString()}`);
    for (const answer of [earlier, later]) {
      expect(answer.status).toBe(200);
      expect(
        (answer.body.runs as Json[]).map((r) => r.instanceId).filter((id) => started.includes(String(id))),
      ).toEqual([]);
    }
  });

  it('refuses a malformed window, page size or continuation with a 400 that says which', async () => {
    for (const [query, code] of [
      ['since=yesterday', 'InvalidSince'],
      ['until=2026-12-01T10:00:00', 'InvalidUntil'],
      ['since=2026-12-02&until=2026-12-01', 'InvalidWindow'],
      ['top=0', 'InvalidTop'],
      ['top=1000', 'InvalidTop'],
      ['since=2026-12-01&until=2026-12-02&continuation=garbage!', 'InvalidContinuation'],
      ['continuation=eyJ0IjoieCJ9', 'InvalidContinuation'],
    ]) {
      const answer = await call('GET', `/submissions?${query}`);
      expect([query, answer.status, (answer.body.error as Json | undefined)?.code]).toEqual([query, 400, code]);
    }
  });
});
