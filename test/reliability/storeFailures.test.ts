/**
 * Guarantee 6: when the Store turns a submission down, the run fails with a message that says
 * what happened and what to do, the Store's codes and details, and the correlation ids (in the
 * status document and in the report), and leaves no uncommitted submission of ours behind.
 * Every scenario has its own product, so they all run side by side.
 */
import type { EmulatorState, FaultSpec, SeedApplication } from '../../sandbox/emulator';
import type { StatusDocument } from '../../lib/statusDocument';
import { findLeakedSecrets } from '../helpers/secrets';
import {
  apiCalls,
  apiSubmissions,
  appIds,
  appZip,
  createCalls,
  describeCalls,
  drop,
  pendingOf,
  seedApp,
  seedOf,
  startReliabilitySandbox,
  type Json,
  type ReliabilitySandbox,
} from './support';

const ids = appIds('FAIL', 8);
const REPORT_URL = 'https://partner.microsoft.com/dashboard/products/certification-report/reliability';
const PORTAL_PENDING = '1152921504900000001';

interface Scenario {
  name: string;
  app: string;
  seed?: Partial<SeedApplication>;
  faults?: (app: string) => FaultSpec[];
  options?: Json;
  /** What the message must say happened. */
  message: RegExp;
  /** What the advice (or, when the Store's own message says it, the message) must tell the user to do. */
  advice: RegExp;
  code: string;
  storeErrors?: Array<{ code: string; details: RegExp }>;
  /** A submission of ours was created and must be gone (deleted) at the end, or kept because it is committed. */
  ours: 'none' | 'deleted' | 'kept committed';
  /**
   * Runs in a sandbox of its own with a one-minute commit deadline (about a second of real time
   * at the sandbox's clock): the others keep the default, so a busy machine's slow commit
   * processing never turns their failure into a missed deadline.
   */
  shortDeadline?: true;
}

const scenarios: Scenario[] = [
  {
    name: 'CommitFailed with MissingFiles',
    app: ids[0]!,
    faults: (app) => [
      {
        kind: 'commitFailed',
        productId: app,
        codes: ['MissingFiles'],
        details: 'These files were not found in the uploaded archive: packages/App_2.0.0.0_x64.msixupload',
      },
    ],
    message: /could not process the commit \(status CommitFailed\)/,
    advice: /MissingFiles: a fileName in submission\.json is not in the zip/,
    code: 'MissingFiles',
    storeErrors: [{ code: 'MissingFiles', details: /not found in the uploaded archive/ }],
    ours: 'deleted',
  },
  {
    name: 'CommitFailed with InvalidArchive',
    app: ids[1]!,
    faults: (app) => [
      {
        kind: 'commitFailed',
        productId: app,
        codes: ['InvalidArchive'],
        details: 'The uploaded file is not a readable zip archive.',
      },
    ],
    message: /could not process the commit \(status CommitFailed\)/,
    advice: /InvalidArchive: the zip is damaged/,
    code: 'InvalidArchive',
    storeErrors: [{ code: 'InvalidArchive', details: /not a readable zip archive/ }],
    ours: 'deleted',
  },
  {
    name: 'the commit falling back from CommitStarted to PendingCommit',
    app: ids[2]!,
    faults: (app) => [{ kind: 'commitFallback', productId: app }],
    message: /started the commit and then returned the submission to PendingCommit/,
    advice: /Upload the zip again/,
    code: 'CommitFellBack',
    ours: 'deleted',
  },
  {
    name: 'PreProcessingFailed',
    app: ids[3]!,
    // The emulator has no pre-processing failure of its own: its status answers say so.
    faults: (app) => [
      { kind: 'stuck', status: 'PreProcessing', productId: app },
      {
        match: { server: 'api', method: 'GET', path: `applications/${app}/submissions/*/status` },
        times: 'always',
        status: 200,
        body: {
          status: 'PreProcessingFailed',
          statusDetails: {
            errors: [
              { code: 'PackageValidationFailed', details: 'The package manifest declares an unknown capability.' },
            ],
            warnings: [],
            certificationReports: [],
          },
        },
      },
    ],
    message: /rejected the packages during pre-processing \(status PreProcessingFailed\)/,
    advice: /rebuild the packages/,
    code: 'PackageValidationFailed',
    storeErrors: [{ code: 'PackageValidationFailed', details: /unknown capability/ }],
    ours: 'kept committed',
  },
  {
    name: 'CertificationFailed with a report link',
    app: ids[4]!,
    options: { waitFor: 'published' },
    faults: (app) => [
      {
        kind: 'certificationFailed',
        productId: app,
        codes: ['InvalidMicrosoftAgeRating'],
        details: 'The age rating questionnaire is incomplete.',
        reportUrl: REPORT_URL,
      },
    ],
    message: /failed certification \(status CertificationFailed\)/,
    advice: /certification report/,
    code: 'InvalidMicrosoftAgeRating',
    storeErrors: [{ code: 'InvalidMicrosoftAgeRating', details: /age rating questionnaire/ }],
    ours: 'kept committed',
  },
  {
    name: 'a pending submission made in Partner Center',
    app: ids[5]!,
    seed: { pending: { id: PORTAL_PENDING, createdIn: 'PartnerCenter' } },
    message: new RegExp(
      `${PORTAL_PENDING} \\(Store status PendingCommit\\) was created in Partner Center, and the Store API cannot delete it`,
    ),
    advice: /Delete it in Partner Center \(or finish it there\), then upload the zip again/,
    code: 'PendingSubmissionMadeInPortal',
    ours: 'none',
  },
  {
    name: 'an app the API refuses with 409 on every call',
    app: ids[6]!,
    seed: { unsupportedFeatures: true },
    message: /409 InvalidState/,
    // In the product's own words: the Store's message may say nothing of the kind.
    advice: /refuses every call on application \w+.*submit it in Partner Center/i,
    code: 'InvalidState',
    ours: 'none',
  },
  {
    name: "a status that never moves until the run's deadline",
    app: ids[7]!,
    faults: (app) => [{ kind: 'stuck', status: 'CommitStarted', productId: app }],
    message: /stayed CommitStarted until the run's deadline/,
    advice: /check it in Partner Center\. Raise COMMIT_DEADLINE_MINUTES/,
    code: 'DeadlineExceeded',
    ours: 'kept committed',
    shortDeadline: true,
  },
];

describe('Store-side failures', () => {
  const sandboxes: ReliabilitySandbox[] = [];
  const docs = new Map<Scenario, StatusDocument>();
  const states = new Map<Scenario, EmulatorState>();
  const sandboxOf = new Map<Scenario, ReliabilitySandbox>();

  /** Runs a group of scenarios side by side in one sandbox, and keeps what the tests read. */
  async function runAll(group: Scenario[], settings: Record<string, string>): Promise<void> {
    const sandbox = await startReliabilitySandbox({
      emulator: { seed: seedOf(group.map((s) => seedApp(s.app, s.seed))) },
      settings,
    });
    sandboxes.push(sandbox);
    for (const s of group) for (const f of s.faults?.(s.app) ?? []) await sandbox.emulator.admin.fault(f);
    const runs = await Promise.all(group.map((s) => drop(sandbox, `failures/${s.app}.zip`, appZip(s.app, s.options))));
    const finished = await Promise.all(runs.map((r) => sandbox.finished(r)));
    const state = await sandbox.emulator.admin.state();
    group.forEach((s, i) => {
      docs.set(s, finished[i]!);
      states.set(s, state);
      sandboxOf.set(s, sandbox);
    });
  }

  beforeAll(async () => {
    await Promise.all([
      runAll(
        scenarios.filter((s) => !s.shortDeadline),
        {},
      ),
      runAll(
        scenarios.filter((s) => s.shortDeadline),
        { COMMIT_DEADLINE_MINUTES: '1' },
      ),
    ]);
  });
  afterAll(() => Promise.all(sandboxes.map((sandbox) => sandbox.stop())));

  describe.each(scenarios)('$name', (s) => {
    it('fails saying what happened and what to do, with the Store codes and correlation ids', async () => {
      const doc = docs.get(s)!;
      const state = states.get(s)!;
      expect(doc.status).toBe('Failed');
      const failure = doc.failure!;
      expect(failure.message).toMatch(s.message);
      expect(`${failure.message} ${failure.advice ?? ''}`).toMatch(s.advice);
      const codes = [failure.facts.code, ...(failure.facts.storeErrors ?? []).map((e) => e.code)];
      expect(codes).toContain(s.code);
      for (const expected of s.storeErrors ?? []) {
        // In the failure and in the document's Store errors, code and details.
        for (const list of [failure.facts.storeErrors ?? [], doc.storeErrors]) {
          expect(list).toEqual(
            expect.arrayContaining([{ code: expected.code, details: expect.stringMatching(expected.details) }]),
          );
        }
      }
      // The correlation ids of the Store calls behind the failure: the failing step's, or the
      // polls' when the Store said no while the run waited.
      const logged = new Set(apiCalls(state, s.app).map((c) => c.correlationId));
      const shown = [
        failure.facts.correlationId,
        ...doc.timeline.filter((t) => t.result === 'failed').flatMap((t) => t.correlationIds ?? []),
      ].filter((c): c is string => !!c);
      expect(shown.length).toBeGreaterThan(0);
      for (const id of shown) expect(logged.has(id)).toBe(true);

      // The report holds the same verdict.
      const report = JSON.parse(
        (await sandboxOf.get(s)!.reports.getBlobClient(doc.reportBlob!).downloadToBuffer()).toString('utf8'),
      ) as StatusDocument;
      expect({ status: report.status, failure: report.failure }).toEqual({ status: 'Failed', failure });
    });

    it('leaves no uncommitted submission of ours behind', () => {
      const doc = docs.get(s)!;
      const state = states.get(s)!;
      const ours = apiSubmissions(state, s.app);
      const creates = createCalls(state, s.app).filter((c) => c.status === 201);
      const calls = describeCalls(apiCalls(state, s.app));
      expect({ uncommitted: ours.filter((o) => ['PendingCommit', 'CommitFailed'].includes(o.status)), calls }).toEqual({
        uncommitted: [],
        calls,
      });
      if (s.ours === 'none') {
        expect(creates).toHaveLength(0);
        expect(ours).toEqual([]);
      } else if (s.ours === 'deleted') {
        expect(creates).toHaveLength(1);
        expect(ours).toEqual([]);
        expect(pendingOf(state, s.app)).toBeUndefined();
      } else {
        expect(ours.map((o) => o.id)).toEqual([doc.submissionId]);
      }
      if (s.seed?.pending) expect(pendingOf(state, s.app)).toBe(PORTAL_PENDING);
    });
  });

  it('shows the certification report link', () => {
    const doc = docs.get(scenarios.find((s) => s.name.startsWith('CertificationFailed'))!)!;
    expect(doc.certificationReports.map((r) => r.reportUrl)).toContain(REPORT_URL);
  });

  it('leaks no secret anywhere', async () => {
    for (const sandbox of sandboxes) {
      const texts = sandbox.responses.map((r) => ({ where: r.url, text: r.body }));
      expect(await findLeakedSecrets(sandbox, { texts, taskHub: sandbox.taskHub })).toEqual([]);
    }
  });
});
