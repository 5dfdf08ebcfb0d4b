/**
 * Guarantee 3: transient faults on every Store call (429 with Retry-After, 500, 503, a dropped
 * connection, a hung request) and on the upload to the Store's storage are ridden out: the run
 * completes, with exactly one submission. Every (call, fault) pair gets its own product, so all
 * of them run side by side in one sandbox, each fault matched to its own product's path.
 */
import type { HttpFaultSpec } from '../../sandbox/emulator';
import { findLeakedSecrets } from '../helpers/secrets';
import {
  apiCalls,
  apiSubmissions,
  appIds,
  appZip,
  createCalls,
  describeCalls,
  drop,
  seedApp,
  seedOf,
  startReliabilitySandbox,
  type ReliabilitySandbox,
} from './support';

type FaultAction = Pick<HttpFaultSpec, 'status' | 'body' | 'headers' | 'hang' | 'drop'>;

/** What each fault looks like when the Store or its front door sends it. */
const FAULTS: Record<string, FaultAction> = {
  '429 with Retry-After': {
    status: 429,
    headers: { 'Retry-After': '1' },
    body: { statusCode: 429, message: 'Rate limit is exceeded. Try again in 1 seconds.' },
  },
  '500': { status: 500, body: { code: 'UnknownInternalFailure', message: 'An unexpected error occurred.' } },
  '503': { status: 503, body: { code: 'InvalidOperation', message: 'Please retry using exponential backoff.' } },
  'dropped connection': { drop: true },
  'hung request': { hang: true },
};

const publishedIdOf = (index: number): string => `1152921504700${String(index).padStart(6, '0')}`;
const pendingIdOf = (index: number): string => `1152921504800${String(index).padStart(6, '0')}`;

/** Every Store call a run makes, as the fault's match on that product's paths. */
const CALLS: Record<string, (appId: string, index: number) => HttpFaultSpec['match']> = {
  'GET the product': (id) => ({ method: 'GET', path: `applications/${id}` }),
  'GET the published submission': (id, i) => ({
    method: 'GET',
    path: `applications/${id}/submissions/${publishedIdOf(i)}`,
  }),
  'DELETE the pending submission': (id) => ({ method: 'DELETE', path: `applications/${id}/submissions/*` }),
  'POST create': (id) => ({ method: 'POST', path: `applications/${id}/submissions` }),
  'GET our submission': (id, i) => ({
    method: 'GET',
    path: `/^applications/${id}/submissions/(?!${publishedIdOf(i)}|${pendingIdOf(i)})\\d+$/`,
  }),
  'PUT the submission': (id) => ({ method: 'PUT', path: `applications/${id}/submissions/*` }),
  'POST commit': (id) => ({ method: 'POST', path: `applications/${id}/submissions/*/commit` }),
  'GET the status': (id) => ({ method: 'GET', path: `applications/${id}/submissions/*/status` }),
};

interface Scenario {
  call: string;
  fault: string;
  appId: string;
  index: number;
}

const scenarios: Scenario[] = [];
const ids = appIds('TRNS', Object.keys(CALLS).length * Object.keys(FAULTS).length + 1);
for (const call of Object.keys(CALLS)) {
  for (const fault of Object.keys(FAULTS)) {
    const index = scenarios.length;
    scenarios.push({ call, fault, appId: ids[index]!, index });
  }
}
const uploadApp = ids[ids.length - 1]!;

describe('transient faults on every Store call', () => {
  let sandbox: ReliabilitySandbox;
  beforeAll(async () => {
    sandbox = await startReliabilitySandbox({
      emulator: {
        seed: seedOf([
          ...scenarios.map((s) => {
            const app = seedApp(s.appId);
            app.published!.id = publishedIdOf(s.index);
            // The product's pending submission (made by an earlier API run) must go first: a DELETE.
            if (s.call === 'DELETE the pending submission') app.pending = { id: pendingIdOf(s.index) };
            return app;
          }),
          seedApp(uploadApp),
        ]),
      },
    });
  });
  afterAll(() => sandbox?.stop());

  it('completes every run, with exactly one submission, whichever call fails and however', async () => {
    const faultIds = new Map<Scenario, string>();
    for (const s of scenarios) {
      const fault = await sandbox.emulator.admin.fault({
        match: { server: 'api', ...CALLS[s.call]!(s.appId, s.index) },
        ...FAULTS[s.fault],
      });
      faultIds.set(s, fault.id);
    }
    const runs = await Promise.all(scenarios.map((s) => drop(sandbox, `transient/${s.appId}.zip`, appZip(s.appId))));
    const docs = await Promise.all(runs.map((id) => sandbox.finished(id)));
    const state = await sandbox.emulator.admin.state();

    const problems: string[] = [];
    scenarios.forEach((s, i) => {
      const doc = docs[i]!;
      const label = `${s.call} answered ${s.fault} (${s.appId})`;
      const calls = apiCalls(state, s.appId);
      const fired = calls.some((c) => c.fault === faultIds.get(s));
      const ours = apiSubmissions(state, s.appId);
      const created = createCalls(state, s.appId).filter((c) => c.status === 201);
      if (!fired) problems.push(`${label}: the fault never fired`);
      if (doc.status !== 'Succeeded') problems.push(`${label}: ${doc.status}: ${doc.failure?.message}`);
      if (ours.length !== 1 || ours[0]!.id !== doc.submissionId)
        problems.push(
          `${label}: submissions ${ours.map((o) => `${o.id} ${o.status}`).join(', ')}; run's ${doc.submissionId}`,
        );
      if (created.length !== 1) problems.push(`${label}: ${created.length} creates answered 201`);
      if (ours[0]?.status === 'PendingCommit') problems.push(`${label}: the submission was never committed`);
      if (problems.at(-1)?.startsWith(label)) problems.push(`  its calls:\n    ${describeCalls(calls).join('\n    ')}`);
    });
    expect(problems).toEqual([]);
  });

  it('completes a run whose upload to the Store storage meets each fault in turn', async () => {
    for (const action of Object.values(FAULTS)) {
      await sandbox.emulator.admin.fault({ match: { server: 'upload', method: 'PUT' }, ...action });
    }
    const run = await drop(sandbox, `transient/${uploadApp}.zip`, appZip(uploadApp));
    const doc = await sandbox.finished(run);
    const state = await sandbox.emulator.admin.state();
    expect({ status: doc.status, failure: doc.failure }).toEqual({ status: 'Succeeded', failure: undefined });
    // Every fault was met: none is left armed.
    expect(state.faults.filter((f) => (f as HttpFaultSpec).match?.server === 'upload')).toEqual([]);
    expect(apiSubmissions(state, uploadApp)).toHaveLength(1);
    expect(apiSubmissions(state, uploadApp)[0]!.upload?.exists).toBe(true);
  });

  it('leaks no secret anywhere', async () => {
    const texts = sandbox.responses.map((r) => ({ where: r.url, text: r.body }));
    expect(await findLeakedSecrets(sandbox, { texts, taskHub: sandbox.taskHub })).toEqual([]);
  });
});
