/**
 * What the reliability tests share: a sandbox whose host can be killed and started again on
 * the same storage and task hub, seeds with many products (so scenarios run side by side,
 * each on its own product, each fault matched to its own product's paths), and readers of
 * the emulator's request log and the host's Durable state.
 */
import { randomBytes } from 'node:crypto';
import type {
  EmulatorState,
  RequestLogEntry,
  SeedApplication,
  SeedData,
  SubmissionState,
} from '../../sandbox/emulator';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { startHost, type HostLogLine, type RunningHost } from '../../sandbox/host';
import type { StatusDocument } from '../../lib/statusDocument';
import { repoRoot, type SandboxOptions } from '../../sandbox/stack';
import { instanceIdFor } from '../../lib/instanceId';
import { goodZip, packageFor } from '../helpers/zips';
import { ON_REAL_ENGINE } from '../helpers/engine';
import { eventually } from '../helpers/eventually';
import { STORE_LIMITS, StatusEndpointError, startTestSandbox, type TestSandbox } from '../helpers/sandbox';

export type Json = Record<string, unknown>;

export interface ReliabilitySandbox extends TestSandbox {
  taskHub: string;
  /** SIGKILL, as a crashed worker dies: nothing is flushed, in-flight activities are lost. */
  killHost(): Promise<void>;
  /** A new host process on the same port, storage, task hub and host id: it resumes what the killed one left. */
  startHostAgain(): Promise<void>;
  /** Every request the test made to the host's HTTP API, with the answer's body, for the secrets check. */
  responses: Array<{ url: string; status: number; body: string }>;
  /** A call on the host's HTTP API (`/api/...`), recorded in `responses`. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json; text: string }>;
  /**
   * One more host process on the same storage, task hub, host id and settings, as a scaled-out
   * instance, watching its own submissions container `container` (created): the sandbox's
   * polling blob trigger lets the first host to scan a container take every new blob, so each
   * host gets its share of runs by having its own. Start every extra host before the first run:
   * a host runs the instances it starts (sandbox/host/README.md, several hosts on a task hub).
   */
  addHost(container: string): Promise<ExtraHost>;
}

/** A scaled-out host of a ReliabilitySandbox: its own runs, dropped into its own container. */
export interface ExtraHost {
  host: RunningHost;
  logs: HostLogLine[];
  submissions: ContainerClient;
  /** Drops a zip into this host's container; resolves to the id of its run. */
  drop(name: string, zip: Buffer): Promise<string>;
  /** Polls this host's status endpoint until the run has ended. */
  finished(instanceId: string): Promise<StatusDocument>;
}

/**
 * Timings for the reliability suite: the Durable clock runs fast (retries and settle waits are
 * durable timers) while the Store's answers and the client's own waits stay in real time.
 */
export async function startReliabilitySandbox(options: SandboxOptions = {}): Promise<ReliabilitySandbox> {
  const taskHub = options.host?.taskHub ?? `rel${randomBytes(4).toString('hex')}`;
  // A killed host's activities run again once their work items are visible again: 5 s here, not
  // the 5 minutes of the Azure Storage provider's default.
  const hostOptions = {
    clockSpeed: 60,
    blobPollIntervalMs: 150,
    workItemVisibilityMs: 5_000,
    // Premium: these scenarios kill and restart hosts and add hosts to one task hub, each host
    // scanning with the polling trigger; the Event Grid path's redelivery and dedup have their
    // own tests (test/sandbox/host/eventGrid.test.ts), and the e2e tier runs on Flex.
    plan: 'premium' as const,
    ...options.host,
    taskHub,
  };
  const base = await startTestSandbox({
    ...options,
    // Every guarantee is shown with the Store's rate limits on (a scenario may tighten them).
    emulator: { ...options.emulator, config: { ...STORE_LIMITS, ...options.emulator?.config } },
    host: hostOptions,
    // Short, so a hung call (a fault) is given up on soon; long enough that a busy machine's slow
    // answer is not taken for one (2 s was not: retries piled up on an oversubscribed machine).
    settings: { STORE_REQUEST_TIMEOUT_SECONDS: '10', ...options.settings },
  });
  let host = base.host;
  const extraHosts: RunningHost[] = [];
  const responses: ReliabilitySandbox['responses'] = [];
  const sandbox: ReliabilitySandbox = {
    ...base,
    taskHub,
    responses,
    killHost: async () => {
      await host.kill();
    },
    startHostAgain: async () => {
      host = await startHost({
        appDir: repoRoot(),
        port: base.host.port,
        settings: base.settings,
        ...hostOptions,
        onLog: (line) => base.logs.push(line),
      });
    },
    api: async (method, path, body) => {
      const url = `${base.host.url}${path}`;
      const response = await host.fetch(path, {
        method,
        headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      responses.push({ url, status: response.status, body: text });
      let parsed: Json = {};
      try {
        parsed = text ? (JSON.parse(text) as Json) : {};
      } catch {
        // not JSON: the text is there for the assertion to show
      }
      return { status: response.status, body: parsed, text };
    },
    addHost: async (container) => {
      const submissions = BlobServiceClient.fromConnectionString(base.azurite.connectionString).getContainerClient(
        container,
      );
      await submissions.createIfNotExists();
      const logs: HostLogLine[] = [];
      const extra = await startHost({
        appDir: repoRoot(),
        settings: { ...base.settings, SUBMISSIONS_CONTAINER: container },
        queuePollingMs: 200,
        ...hostOptions,
        // As startTestSandbox: the real extension keeps real time.
        ...(ON_REAL_ENGINE ? { clockSpeed: 1 } : {}),
        onLog: (line) => logs.push(line),
      });
      extraHosts.push(extra);
      return {
        host: extra,
        logs,
        submissions,
        drop: async (name, zip) => {
          const result = await submissions.getBlockBlobClient(name).upload(zip, zip.length);
          return instanceIdFor(container, name, result.etag!);
        },
        finished: (instanceId) => finishedOn(extra, logs, instanceId),
      };
    },
    stop: async () => {
      for (const extra of extraHosts) await extra.stop().catch(() => undefined);
      if (host !== base.host) await host.stop().catch(() => undefined);
      await base.stop();
    },
  };
  // The status document the tests read is an HTTP response too: record it for the secrets check.
  const readStatus = (instanceId: string) => base.status(instanceId);
  sandbox.status = async (instanceId) => {
    const doc = await readStatus(instanceId);
    if (doc) responses.push({ url: `/api/submissions/${instanceId}`, status: 200, body: JSON.stringify(doc) });
    return doc;
  };
  return sandbox;
}

/** A run's end on one host's status endpoint, with the suite's patience (a 5xx or a broken connection passes). */
async function finishedOn(host: RunningHost, logs: HostLogLine[], instanceId: string): Promise<StatusDocument> {
  let last: StatusDocument | undefined;
  return eventually(
    `run ${instanceId} to end on the host at ${host.url}`,
    async () => {
      const response = await host.fetch(`/api/submissions/${instanceId}`).catch((e: Error) => {
        throw new StatusEndpointError(0, e.message);
      });
      if (response.status === 404) return undefined;
      if (!response.ok) throw new StatusEndpointError(response.status, `${response.status} ${await response.text()}`);
      last = (await response.json()) as StatusDocument;
      return ['Succeeded', 'Failed', 'Canceled', 'Rejected'].includes(last.status) ? last : undefined;
    },
    {
      everyMs: 100,
      lastSeen: () => last,
      retryErrors: (e) => e instanceof StatusEndpointError && (e.status === 0 || e.status >= 500),
      progress: () => [last, logs.length],
    },
  );
}

/** 12-character Store ids, distinct per test file and index: `9N` + tag + index. */
export function appIds(tag: string, count: number): string[] {
  if (!/^[0-9A-Z]{4}$/.test(tag)) throw new Error('tag: 4 characters of [0-9A-Z]');
  return Array.from({ length: count }, (_, i) => `9N${tag}${String(i).padStart(6, '0')}`);
}

/** An app like the emulator's demo app: published once, with one package and an en-us listing. */
export function seedApp(id: string, extra: Partial<SeedApplication> = {}): SeedApplication {
  return {
    id,
    primaryName: `Reliability ${id}`,
    packageFamilyName: `Contoso.R${id}_8wekyb3d8bbwe`,
    packageIdentityName: `Contoso.R${id}`,
    publisherName: 'CN=Contoso Ltd.',
    firstPublishedDate: '2024-03-01T10:00:00Z',
    published: {
      applicationCategory: 'Productivity',
      visibility: 'Public',
      targetPublishMode: 'Immediate',
      listings: {
        'en-us': {
          baseListing: { title: `Reliability ${id}`, description: 'A product for the reliability tests.', images: [] },
          platformOverrides: {},
        },
      },
      applicationPackages: [
        { fileName: `Packages/App_1.0.0.0_x64.msix`, fileStatus: 'Uploaded', version: '1.0.0.0', architecture: 'X64' },
      ],
    },
    ...extra,
  };
}

export function seedOf(apps: SeedApplication[]): SeedData {
  return { applications: apps, inAppProducts: [] };
}

/**
 * A valid zip for an app that changes only its listing: no package, so no release version, and
 * the newest-release rule (README guarantee 13) neither supersedes it nor lets it supersede.
 */
export function listingZip(applicationId: string, options: Json = {}): Buffer {
  return goodZip({
    target: { kind: 'app', applicationId },
    submission: { listings: { 'en-us': { baseListing: { releaseNotes: 'Reliability run: listing only.' } } } },
    options,
  });
}

/** A valid zip for an app: one new package (at `version`, above the seeded 1.0.0.0), release notes, and the given options. */
export function appZip(applicationId: string, options: Json = {}, version = '2.0.0.0'): Buffer {
  const PACKAGE = `packages/App_${version}_x64.msixupload`;
  return goodZip(
    {
      target: { kind: 'app', applicationId },
      submission: {
        listings: { 'en-us': { baseListing: { releaseNotes: 'Reliability run.' } } },
        applicationPackages: [{ fileName: PACKAGE }],
      },
      options,
    },
    { [PACKAGE]: packageFor(PACKAGE, { name: `Contoso.R${applicationId}` }) },
  );
}

/** The id of the run of one blob version (what the trigger and HTTP both derive). */
export function runIdOf(sandbox: TestSandbox, name: string, etag: string): string {
  return instanceIdFor(sandbox.submissions.containerName, name, etag);
}

/** Drops a zip and returns the id of the run the blob trigger gives it. */
export async function drop(sandbox: TestSandbox, name: string, zip: Buffer): Promise<string> {
  const etag = await sandbox.drop(name, zip);
  return instanceIdFor(sandbox.submissions.containerName, name, etag);
}

/** Store API requests of the emulator's log (not token, not upload), optionally for one product. */
export function apiCalls(state: EmulatorState, productId?: string): RequestLogEntry[] {
  return state.requests.filter(
    (r) => r.server === 'api' && (!productId || r.path.toLowerCase().includes(`/${productId.toLowerCase()}`)),
  );
}

/** `METHOD path-below-/v1.0/my/ -> status`, for readable failure messages. */
export function describeCalls(calls: RequestLogEntry[]): string[] {
  return calls.map(
    (r) => `${r.time} ${r.method} ${r.path.replace('/v1.0/my/', '')} -> ${r.status}${r.fault ? ` (${r.fault})` : ''}`,
  );
}

/** Creates (POST .../submissions, the call that is not idempotent) for a product, whatever the answer. */
export function createCalls(state: EmulatorState, productId: string): RequestLogEntry[] {
  const path = `/v1.0/my/applications/${productId}/submissions`.toLowerCase();
  return state.requests.filter((r) => r.server === 'api' && r.method === 'POST' && r.path.toLowerCase() === path);
}

export function commitCalls(state: EmulatorState, productId: string): RequestLogEntry[] {
  return apiCalls(state, productId).filter((r) => r.method === 'POST' && /\/commit$/i.test(r.path));
}

/** Submissions the API made for a product (the seeded published one is made by the seed, as Partner Center). */
export function apiSubmissions(state: EmulatorState, productId: string): SubmissionState[] {
  return state.submissions.filter(
    (s) => s.productId.toLowerCase() === productId.toLowerCase() && s.createdIn === 'API' && !isSeeded(s),
  );
}

/** A seeded published submission starts life Published; one the API creates starts PendingCommit. */
function isSeeded(s: SubmissionState): boolean {
  return s.statusHistory[0]?.status === 'Published';
}

/** The product's pending submission id in the emulator, if any. */
export function pendingOf(state: EmulatorState, productId: string): string | undefined {
  const app = state.applications.find((a) => String(a.id).toLowerCase() === productId.toLowerCase());
  const pending = app?.pendingApplicationSubmission as { id?: string } | undefined;
  return pending?.id;
}

export interface DurableInstance {
  instanceId: string;
  name: string;
  runtimeStatus: string;
  input: unknown;
  customStatus: unknown;
  output: unknown;
}

/** The submitToStore instances whose input names this blob. */
export async function runsOfBlob(sandbox: TestSandbox, name: string): Promise<string[]> {
  return (await durableInstances(sandbox))
    .filter((i) => i.name === 'submitToStore' && (i.input as { blob?: { name?: string } } | null)?.blob?.name === name)
    .map((i) => i.instanceId);
}

/** Every orchestration instance of the task hub, through the Durable HTTP API. */
export async function durableInstances(sandbox: TestSandbox): Promise<DurableInstance[]> {
  const all: DurableInstance[] = [];
  let token: string | null = null;
  do {
    const response: Response = await sandbox.host.fetch(`/runtime/webhooks/durabletask/instances?top=200`, {
      headers: token ? { 'x-ms-continuation-token': token } : undefined,
    });
    if (!response.ok) throw new Error(`listing instances: ${response.status}`);
    all.push(...((await response.json()) as typeof all));
    token = response.headers.get('x-ms-continuation-token');
  } while (token);
  return all;
}

export { pause as sleep } from '../helpers/eventually';

/** Polls `check` until it returns something truthy, with the suite's patience. */
export function until<T>(what: string, check: () => Promise<T | undefined | false>): Promise<T> {
  return eventually(what, check);
}
