/**
 * Guarantee 4: the Store's create and commit are not idempotent, and an answer that says
 * "failed" may hide a success. Whether the Store answers an error after doing the work, never
 * answers at all, or the activity dies after its call succeeded (and the host runs it again),
 * the run ends with exactly one committed submission: never a second pending one, never
 * stuck on the 409 that a blind retry gets.
 */
import type { EmulatorState } from '../../sandbox/emulator';
import { findLeakedSecrets } from '../helpers/secrets';
import {
  apiCalls,
  apiSubmissions,
  appIds,
  appZip,
  commitCalls,
  createCalls,
  describeCalls,
  drop,
  pendingOf,
  seedApp,
  seedOf,
  startReliabilitySandbox,
  until,
  type ReliabilitySandbox,
} from './support';

const ids = appIds('NIDM', 6);
const [create503, commit500, createHung, commitHung, createDies, commitDies] = ids as [
  string,
  string,
  string,
  string,
  string,
  string,
];

const createPath = (id: string) => `applications/${id}/submissions`;
const commitPath = (id: string) => `applications/${id}/submissions/*/commit`;

/** Exactly one submission of ours, committed, and nothing pending in front of it. */
function exactlyOneCommitted(state: EmulatorState, productId: string, submissionId: string | undefined): void {
  const ours = apiSubmissions(state, productId);
  expect({ product: productId, submissions: ours.map((s) => s.id) }).toEqual({
    product: productId,
    submissions: [submissionId],
  });
  expect(ours[0]!.statusHistory.map((h) => h.status)).toContain('CommitStarted');
  expect(ours[0]!.status).not.toBe('PendingCommit');
  const pending = pendingOf(state, productId);
  if (pending) expect(pending).toBe(submissionId);
}

/** The secrets check every reliability file ends with. */
function leaksNothing(sandbox: () => ReliabilitySandbox): void {
  it('leaks no secret anywhere', async () => {
    const texts = sandbox().responses.map((r) => ({ where: r.url, text: r.body }));
    expect(await findLeakedSecrets(sandbox(), { texts, taskHub: sandbox().taskHub })).toEqual([]);
  });
}

describe('calls that are not idempotent', () => {
  let sandbox: ReliabilitySandbox;
  beforeAll(async () => {
    sandbox = await startReliabilitySandbox({ emulator: { seed: seedOf(ids.map((id) => seedApp(id))) } });
  });
  afterAll(() => sandbox?.stop());

  it('adopts or confirms what the Store did when it answered an error, or nothing, after doing it', async () => {
    const cases = [
      {
        id: create503,
        fault: { match: { server: 'api' as const, method: 'POST', path: createPath(create503) }, status: 503 },
        body: { code: 'InvalidOperation', message: 'Please retry using exponential backoff.' },
      },
      {
        id: commit500,
        fault: { match: { server: 'api' as const, method: 'POST', path: commitPath(commit500) }, status: 500 },
        body: { code: 'UnknownInternalFailure', message: 'An unexpected error occurred.' },
      },
      {
        id: createHung,
        fault: { match: { server: 'api' as const, method: 'POST', path: createPath(createHung) }, hang: true },
      },
      {
        id: commitHung,
        fault: { match: { server: 'api' as const, method: 'POST', path: commitPath(commitHung) }, hang: true },
      },
    ];
    for (const c of cases) await sandbox.emulator.admin.fault({ ...c.fault, body: c.body, after: true });
    const runs = await Promise.all(cases.map((c) => drop(sandbox, `nonidempotent/${c.id}.zip`, appZip(c.id))));
    const docs = await Promise.all(runs.map((r) => sandbox.finished(r)));
    const state = await sandbox.emulator.admin.state();

    cases.forEach((c, i) => {
      const doc = docs[i]!;
      expect({ product: c.id, status: doc.status, failure: doc.failure }).toEqual({
        product: c.id,
        status: 'Succeeded',
        failure: undefined,
      });
      exactlyOneCommitted(state, c.id, doc.submissionId);
    });
    // The faults really hid a success: the one create (and the one commit) the Store answered
    // with an error or never answered had done its work; no second create or commit was made.
    for (const id of [create503, createHung]) {
      const creates = createCalls(state, id);
      expect({ id, creates: describeCalls(creates) }).toEqual({
        id,
        creates: [expect.stringMatching(id === create503 ? /-> 503 \(fault-/ : /-> 0 \(fault-/)],
      });
    }
    for (const id of [commit500, commitHung]) {
      const commits = commitCalls(state, id);
      expect({ id, commits: describeCalls(commits) }).toEqual({
        id,
        commits: [expect.stringMatching(id === commit500 ? /-> 500 \(fault-/ : /-> 0 \(fault-/)],
      });
      expect(createCalls(state, id)).toHaveLength(1);
    }
  });

  leaksNothing(() => sandbox);
});

describe('calls that are not idempotent, when the host dies', () => {
  let sandbox: ReliabilitySandbox;
  beforeAll(async () => {
    sandbox = await startReliabilitySandbox({
      emulator: { seed: seedOf(ids.map((id) => seedApp(id))) },
      // The hung calls must still hang when the test kills the host, however long the other run
      // takes to reach its commit on a busy machine: the client never gives up on its own here.
      settings: { STORE_REQUEST_TIMEOUT_SECONDS: '600' },
    });
  });
  afterAll(() => sandbox?.stop());

  it('adopts the submission or confirms the commit when the activity died after its call succeeded', async () => {
    // Both calls do their work and never answer; the host dies while they hang.
    await sandbox.emulator.admin.fault({
      match: { server: 'api', method: 'POST', path: createPath(createDies) },
      hang: true,
      after: true,
    });
    await sandbox.emulator.admin.fault({
      match: { server: 'api', method: 'POST', path: commitPath(commitDies) },
      hang: true,
      after: true,
    });
    const runCreate = await drop(sandbox, `nonidempotent/${createDies}.zip`, appZip(createDies));
    const runCommit = await drop(sandbox, `nonidempotent/${commitDies}.zip`, appZip(commitDies));
    await until('both calls to hang, their work done', async () => {
      const state = await sandbox.emulator.admin.state();
      const hanging = (id: string) => apiCalls(state, id).some((c) => c.fault && c.status === 0);
      return hanging(createDies) && hanging(commitDies);
    });
    await sandbox.killHost();
    await sandbox.startHostAgain();

    const [createDoc, commitDoc] = await Promise.all([sandbox.finished(runCreate), sandbox.finished(runCommit)]);
    const state = await sandbox.emulator.admin.state();
    expect([createDoc.status, commitDoc.status]).toEqual(['Succeeded', 'Succeeded']);
    exactlyOneCommitted(state, createDies, createDoc.submissionId);
    exactlyOneCommitted(state, commitDies, commitDoc.submissionId);

    // The host ran each activity again: its repeated call met the work already done (409) and
    // the run took the Store's word for it instead of stopping there.
    expect(describeCalls(createCalls(state, createDies))).toEqual([
      expect.stringMatching(/-> 0 \(fault-/),
      expect.stringMatching(/-> 409$/),
    ]);
    expect(describeCalls(commitCalls(state, commitDies))).toEqual([
      expect.stringMatching(/-> 0 \(fault-/),
      expect.stringMatching(/-> 409$/),
    ]);
  });

  leaksNothing(() => sandbox);
});
