/**
 * The sandbox for end-to-end tests: the shared Azurite, a Store emulator with short timings
 * and a local Functions host with a fast clock, running the built app. Each sandbox has its
 * own containers, task hub and host id, so test files can run side by side on one Azurite.
 */
import { randomBytes } from 'node:crypto';
import type { HostingPlan } from '../../lib/hostPlan';
import type { StatusDocument } from '../../lib/statusDocument';
import { DEFAULT_CONFIG, type EmulatorConfig, type Win32Config } from '../../sandbox/emulator';
import type { HostLogLine } from '../../sandbox/host';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/stack';
import { testStorage } from './azurite';
import { ON_REAL_ENGINE, REAL_ENGINE_SETTINGS } from './engine';
import { eventually } from './eventually';

/** Store timings short enough that a run reaches Published in well under a second. */
export const FAST_STORE: Partial<EmulatorConfig> = {
  commitProcessingMs: 40,
  preProcessingMs: 40,
  certificationMs: 60,
  releaseMs: 30,
  publishingMs: 30,
  rateLimitEnabled: false,
};

/**
 * The Store's rate limits, every one on, with the window shortened to a second so a suite of
 * many runs stays quick: 20 calls per window per tenant, commits 5 per window, and a daily cap
 * (no number is published; this one is far above what a suite makes). The product is told the
 * same numbers through its settings (see `pacing` below).
 */
export const STORE_LIMITS: Partial<EmulatorConfig> = {
  rateLimitEnabled: true,
  rateLimitPerMinute: 20,
  rateLimitWindowMs: 1000,
  commitRateLimitPerMinute: 5,
  dailyRateLimit: 100_000,
};

/** The MSI/EXE API's steps in tens of milliseconds, its rate limit off. */
export const FAST_WIN32: Partial<Win32Config> = {
  moduleProcessingMs: 30,
  packageProcessingMs: 30,
  submissionStartMs: 30,
  certificationMs: 80,
  rateLimitEnabled: false,
};

export interface TestSandbox extends Sandbox {
  logs: HostLogLine[];
  /** Uploads a zip into the sandbox's submissions container; resolves to its ETag. */
  drop(name: string, zip: Buffer): Promise<string>;
  /** The status document of a run, or undefined while the run does not exist yet. */
  status(instanceId: string): Promise<StatusDocument | undefined>;
  /** Polls the status document until the run has ended (Succeeded, Failed or Canceled), with the suite's patience. */
  finished(instanceId: string): Promise<StatusDocument>;
  /** Polls until `check` holds for the status document, with the suite's patience (helpers/eventually.ts). */
  waitFor(instanceId: string, check: (doc: StatusDocument) => boolean): Promise<StatusDocument>;
}

/**
 * The status endpoint did not answer with 200 or 404: `status` is its HTTP status, or 0 when the
 * connection broke. The pollers retry both a 5xx and a broken connection, as the CLI's follow
 * does: the sandbox host closes kept-alive connections after 5 s idle (Node's default
 * keepAliveTimeout, sandbox/host/http.ts), and a client whose event loop a busy machine holds
 * up for a second reuses one that is just being closed: ECONNRESET, in this process's fetch or
 * in the durable client inside the host (which then answers 500). The Functions host keeps
 * idle connections 130 s (Kestrel's default), so clients drop them first there.
 */
export class StatusEndpointError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'StatusEndpointError';
  }
}

/**
 * The CLI's options for the sandbox's Functions app: its URL and a host key, the key the README
 * tells users to give the CLI (it calls several functions; a function key opens only its own).
 */
export function functionsApp(sandbox: Pick<Sandbox, 'host'>): string[] {
  const key = sandbox.host.keys?.host.default;
  return ['--functions-url', sandbox.host.url, ...(key ? ['--function-key', key] : [])];
}

export async function startTestSandbox(options: SandboxOptions = {}): Promise<TestSandbox> {
  const id = randomBytes(4).toString('hex');
  const logs: HostLogLine[] = [];
  // The product paces its Store calls to the rate limit it is told (lib/store/pacing.ts): tell it
  // the emulator's, or with the limit off it would still hold every test to 20 calls a minute.
  const store = { ...FAST_STORE, ...options.emulator?.config };
  const pacing: Record<string, string> = store.rateLimitEnabled
    ? {
        STORE_MAX_REQUESTS_PER_MINUTE: String(store.rateLimitPerMinute ?? 20),
        STORE_RATE_WINDOW_SECONDS: String(Math.max(1, Math.round((store.rateLimitWindowMs ?? 60_000) / 1000))),
        STORE_MAX_COMMITS_PER_MINUTE: String(
          (store.commitRateLimitPerMinute ?? DEFAULT_CONFIG.commitRateLimitPerMinute) || 10000,
        ),
      }
    : { STORE_MAX_REQUESTS_PER_MINUTE: '10000', STORE_MAX_COMMITS_PER_MINUTE: '10000' };
  const sandbox = await startSandbox({
    ...options,
    azurite: testStorage(),
    emulator: {
      ...options.emulator,
      config: { ...FAST_STORE, ...options.emulator?.config },
      win32: { ...options.emulator?.win32, config: { ...FAST_WIN32, ...options.emulator?.win32?.config } },
    },
    host: {
      clockSpeed: 60,
      blobPollIntervalMs: 150,
      taskHub: `e2e${id}`,
      queuePollingMs: 200,
      // Flex Consumption by default, the plan the docs and infra/ recommend, and the strictest: the
      // blob trigger only on Event Grid (the sandbox's topic delivers BlobCreated to the blob
      // extension's webhook). SANDBOX_PLAN=premium (or a test's host.plan) runs the polling trigger.
      plan: (process.env.SANDBOX_PLAN as HostingPlan | undefined) ?? 'flex',
      ...options.host,
      // The real extension keeps real time: no clock speed reaches it.
      ...(ON_REAL_ENGINE ? { clockSpeed: 1 } : {}),
      onLog: (line) => {
        logs.push(line);
        options.host?.onLog?.(line);
      },
    },
    settings: {
      SUBMISSIONS_CONTAINER: `zips-${id}`,
      REPORTS_CONTAINER: `reports-${id}`,
      AzureFunctionsWebHost__hostid: `e2e-${id}`,
      POLL_FIRST_INTERVAL_SECONDS: '5',
      POLL_MAX_INTERVAL_SECONDS: '30',
      // The durable clock runs fast and the Store's answers keep real time: the default three
      // hours after the commit would be three real minutes at 60x, which a burst of runs on a
      // busy machine can use up while every run still moves. Tests of the deadline set their own.
      COMMIT_DEADLINE_MINUTES: String(60 * 24 * 30),
      ...(ON_REAL_ENGINE ? REAL_ENGINE_SETTINGS : {}),
      ...pacing,
      ...options.settings,
    },
  });

  const status = async (instanceId: string): Promise<StatusDocument | undefined> => {
    // A host key, as the CLI sends one: it opens every function-level route of the app.
    const response = await sandbox.host.fetch(`/api/submissions/${instanceId}`).catch((e: Error) => {
      throw new StatusEndpointError(0, `GET /api/submissions/${instanceId}: ${e.message} (${String(e.cause)})`);
    });
    if (response.status === 404) return undefined;
    if (!response.ok) {
      // The host's own account of a failed invocation is in its log, not in the empty 500.
      const errors = logs
        .filter((l) => l.level === 'error' || l.level === 'critical')
        .slice(-5)
        .map((l) => `  ${l.time} ${l.category}: ${l.message}`);
      throw new StatusEndpointError(
        response.status,
        `GET /api/submissions/${instanceId}: ${response.status} ${await response.text()}\nlast host errors:\n${errors.join('\n')}`,
      );
    }
    return (await response.json()) as StatusDocument;
  };

  const waitFor = (instanceId: string, check: (doc: StatusDocument) => boolean): Promise<StatusDocument> => {
    let last: StatusDocument | undefined;
    return eventually(
      `run ${instanceId} to get there`,
      async () => {
        last = await status(instanceId);
        return last && check(last) ? last : undefined;
      },
      // A 5xx or a broken connection passes, as the CLI's own follow lets it pass (see StatusEndpointError).
      {
        everyMs: 100,
        lastSeen: () => last,
        retryErrors: (e) => e instanceof StatusEndpointError && (e.status === 0 || e.status >= 500),
        // The run moved, or the host did anything at all (it may be busy with other runs first).
        progress: () => [last, logs.length],
      },
    );
  };

  return {
    ...sandbox,
    logs,
    status,
    waitFor,
    finished: (instanceId) =>
      waitFor(instanceId, (d) => ['Succeeded', 'Failed', 'Canceled', 'Rejected'].includes(d.status)),
    drop: async (name, zip) => {
      const result = await sandbox.submissions.getBlockBlobClient(name).upload(zip, zip.length);
      return result.etag!;
    },
  };
}
