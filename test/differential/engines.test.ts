/**
 * The differential check: the same scenarios on the sandbox host's own Durable engine and on the
 * real Durable Task extension (the .NET reference host), side by side. For each run, the status
 * document and the report blob must match apart from ids and times, and the history each engine
 * recorded must hold the same events, kind by kind and name by name. Every difference this found
 * is in the table of sandbox/host/README.md with what was changed.
 *
 * Needs the .NET SDK: it runs in the real-engine tier (`npm run test:real`, and in CI).
 */
import type { StatusDocument } from '../../lib/statusDocument';
import { EVENT_NAMES, EventType } from '../../sandbox/host/durable/types';
import { ON_REAL_ENGINE } from '../helpers/engine';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import { BAD_INPUTS, goodZip, packageFor } from '../helpers/zips';
import { dropRun, instance, rawHistory, seedWithApps, type RawEvent } from '../orchestrations/durable';

const HAPPY_APP = '9NBLGGH4DHPY';
const FAILING_APP = '9NBLGGH4DFAL';
const RETRIED_APP = '9NBLGGH4DRTY';
const CANCELED_APP = '9NBLGGH4DCNL';
// A real minimal package with the seeded apps' identity: the emulator reads its manifest at PreProcessing.
const PACKAGE = 'packages/Contoso.Demo_4.0.0.0_x64.msixupload';

/** Followed to Published: where a wait for the commit ends depends on when its last poll landed. */
function appZip(applicationId: string, options: Record<string, unknown> = { waitFor: 'published' }): Buffer {
  return goodZip(
    {
      target: { kind: 'app', applicationId },
      submission: {
        listings: { 'en-us': { baseListing: { releaseNotes: 'Same on both engines.' } } },
        applicationPackages: [{ fileName: PACKAGE }],
      },
      options,
    },
    { [PACKAGE]: packageFor(PACKAGE) },
  );
}

type Json = unknown;

const ID_KEYS = new Set(['instanceId', 'submissionId', 'etag', 'correlationIds', 'container', 'queuedBehind']);
const TIME_KEYS = new Set([
  'startedAt',
  'endedAt',
  'createdTime',
  'lastUpdatedTime',
  'nextPollAt',
  'durationMs',
  'date',
  'fileUploadUrl',
  // How many polls a wait took depends on when each one landed in the Store's progression.
  'polls',
]);

/** A document with ids and times replaced by what they are, so two runs can be compared. */
export function comparable(value: Json, ids: Map<string, string>): Json {
  if (Array.isArray(value)) return value.map((v) => comparable(v, ids));
  if (value && typeof value === 'object') {
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value as Record<string, Json>)) {
      if (ID_KEYS.has(k)) out[k] = v === undefined ? v : '<id>';
      else if (TIME_KEYS.has(k)) out[k] = v === undefined ? v : '<time>';
      else out[k] = comparable(v, ids);
    }
    return out;
  }
  if (typeof value === 'string') {
    let s = value;
    for (const [id, label] of ids) s = s.split(id).join(label);
    return s
      .replace(/\b\d{19}\b/g, '<submission>')
      .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, '<uuid>')
      .replace(/\b\d+ polls\b/g, '<n> polls')
      .replace(/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\b/g, '<time>')
      .replace(/\b\d+(\.\d+)? (ms|s)\b/g, '<duration>');
  }
  return value;
}

/** `Kind name` for each event that says what the orchestration did or was told. */
export function eventsByKindAndName(history: RawEvent[]): string[] {
  const names = new Map<number, string>();
  const out: string[] = [];
  for (const e of history) {
    const kind = EVENT_NAMES[e.EventType] ?? String(e.EventType);
    switch (e.EventType) {
      case EventType.OrchestratorStarted:
      case EventType.OrchestratorCompleted:
        // Episode boundaries: how many events one episode sees is the engine's business (below).
        break;
      case EventType.TaskScheduled:
      case EventType.SubOrchestrationInstanceCreated:
        names.set(e.EventId, String(e.Name));
        out.push(`${kind} ${e.Name}`);
        break;
      case EventType.TaskCompleted:
      case EventType.TaskFailed:
      case EventType.SubOrchestrationInstanceCompleted:
      case EventType.SubOrchestrationInstanceFailed:
        out.push(`${kind} ${names.get(e.TaskScheduledId as number) ?? `#${e.TaskScheduledId}`}`);
        break;
      case EventType.ExecutionStarted:
      case EventType.EventRaised:
        out.push(`${kind} ${e.Name ?? ''}`.trim());
        break;
      default:
        out.push(kind);
    }
  }
  return out;
}

interface EngineRun {
  instanceId: string;
  doc: StatusDocument;
  report: Json;
  history: string[];
}

const describeOnBoth = ON_REAL_ENGINE ? describe : describe.skip;

describeOnBoth('the same runs on the home engine and on the Durable Task extension', () => {
  const engines: Record<'home' | 'real', TestSandbox | undefined> = { home: undefined, real: undefined };

  beforeAll(async () => {
    const seed = seedWithApps(HAPPY_APP, FAILING_APP, RETRIED_APP, CANCELED_APP);
    const start = (durable: 'home' | 'real') =>
      startTestSandbox({
        emulator: { seed },
        // Real time on both: the home engine's fast clock would change how often a run polls.
        // The engines are compared on one plan; Premium's polling trigger keeps the topic out of it.
        host: { durable, clockSpeed: 1, plan: 'premium' },
      });
    [engines.home, engines.real] = await Promise.all([start('home'), start('real')]);
  });
  afterAll(async () => {
    await Promise.all([engines.home?.stop(), engines.real?.stop()]);
  });

  async function runOn(
    which: 'home' | 'real',
    name: string,
    zip: Buffer,
    before?: (s: TestSandbox) => Promise<void>,
    during?: (s: TestSandbox, instanceId: string) => Promise<void>,
  ): Promise<EngineRun> {
    const sandbox = engines[which]!;
    await before?.(sandbox);
    const instanceId = await dropRun(sandbox, name, zip);
    await during?.(sandbox, instanceId);
    await sandbox.finished(instanceId);
    // The report is written last; the status document names it once it is there.
    const doc = await sandbox.waitFor(instanceId, (d) => d.reportBlob !== undefined);
    const report = JSON.parse((await sandbox.reports.getBlobClient(doc.reportBlob!).downloadToBuffer()).toString());
    const history = eventsByKindAndName(await rawHistory(sandbox, instanceId));
    return { instanceId, doc, report, history };
  }

  async function both(
    name: string,
    zip: Buffer,
    before?: (s: TestSandbox) => Promise<void>,
    during?: (s: TestSandbox, instanceId: string) => Promise<void>,
  ): Promise<{ home: EngineRun; real: EngineRun }> {
    const [home, real] = await Promise.all([
      runOn('home', name, zip, before, during),
      runOn('real', name, zip, before, during),
    ]);
    return { home, real };
  }

  function expectSame(runs: { home: EngineRun; real: EngineRun }): void {
    const ids = (r: EngineRun) => new Map([[r.instanceId, '<run>']]);
    const view = (r: EngineRun) => ({
      doc: comparable(r.doc, ids(r)),
      report: comparable(r.report, ids(r)),
      history: r.history,
    });
    expect(view(runs.home)).toEqual(view(runs.real));
  }

  it('an app run that succeeds', async () => {
    const runs = await both('diff/happy.zip', appZip(HAPPY_APP));
    expect(runs.real.doc.status).toBe('Succeeded');
    expectSame(runs);
  });

  it('a zip that fails validation', async () => {
    const runs = await both('diff/bad.zip', BAD_INPUTS.missingFile!.bytes());
    expect(runs.real.doc.status).toBe('Failed');
    expectSame(runs);
  });

  it('a commit the Store fails', async () => {
    const runs = await both('diff/commit-failed.zip', appZip(FAILING_APP), async (s) => {
      await s.emulator.admin.fault({ kind: 'commitFailed', productId: FAILING_APP, codes: ['MissingFiles'] });
    });
    expect(runs.real.doc.status).toBe('Failed');
    expectSame(runs);
  });

  it('a create retried on a durable timer after a 503', async () => {
    const runs = await both('diff/retried.zip', appZip(RETRIED_APP), async (s) => {
      await s.emulator.admin.fault({
        match: { server: 'api', method: 'POST', path: `applications/${RETRIED_APP}/submissions` },
        status: 503,
        headers: { 'Retry-After': '1' },
        body: { code: 'ServiceUnavailable', message: 'The service is temporarily unavailable.' },
      });
    });
    expect(runs.real.doc.status).toBe('Succeeded');
    expectSame(runs);
  });

  it('a run canceled while it waits to retry', async () => {
    const runs = await both(
      'diff/canceled.zip',
      appZip(CANCELED_APP),
      async (s) => {
        await s.emulator.admin.fault({
          match: { server: 'api', method: 'PUT', path: `applications/${CANCELED_APP}/submissions/*` },
          status: 429,
          headers: { 'Retry-After': '3600' },
          body: { statusCode: 429, message: 'Rate limit is exceeded. Try again in 3600 seconds.' },
        });
      },
      async (s, instanceId) => {
        await s.waitFor(instanceId, (d) =>
          d.timeline.some((t) => t.step === 'updateSubmission' && t.result === 'retrying'),
        );
        const response = await s.host.fetch(`/api/submissions/${instanceId}/cancel`, { method: 'POST' });
        expect(response.status).toBe(202);
      },
    );
    expect(runs.real.doc.status).toBe('Canceled');
    expectSame(runs);
    // The cleanup instance ran the same steps on both.
    const cleanup = async (r: EngineRun, s: TestSandbox) =>
      eventsByKindAndName(await rawHistory(s, `${r.instanceId}-cancel`));
    expect(await cleanup(runs.home, engines.home!)).toEqual(await cleanup(runs.real, engines.real!));
    expect((await instance(engines.real!, `${runs.real.instanceId}-cancel`))?.runtimeStatus).toBe('Completed');
  });
});
