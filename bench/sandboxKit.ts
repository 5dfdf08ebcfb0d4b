/**
 * What the sandbox benchmarks share: a seed with many apps, the host's log as a stream of
 * facts to wait on, and where the built fixtures live.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultSeed, type SeedData } from '../sandbox/emulator';
import type { HostLogLine } from '../sandbox/host';
import type { HostingPlan } from '../lib/hostPlan';
import type { Azurite } from '../sandbox/azurite';
import { repoRoot, startSandbox, type Sandbox } from '../sandbox/stack';

/** `n` apps like the seed's demo app (one published submission, two packages), ids 9NBENCH00000…; the demo app too. */
/** The package identity of a bench app (`9NBENCH00003` → `Contoso.Bench3`), or the demo app's. */
export function benchIdentity(applicationId: string): { name: string; publisher: string } {
  const n = /^9NBENCH(\d{5})$/.exec(applicationId)?.[1];
  return { name: n === undefined ? 'Contoso.Demo' : `Contoso.Bench${Number(n)}`, publisher: 'CN=Contoso Ltd.' };
}

export function benchSeed(n: number): { seed: SeedData; appIds: string[] } {
  const base = defaultSeed();
  const demo = base.applications![0]!;
  const appIds = Array.from({ length: n }, (_, i) => `9NBENCH${String(i).padStart(5, '0')}`);
  const apps = appIds.map((id, i) => ({
    id,
    primaryName: `Bench App ${i}`,
    packageFamilyName: `Contoso.Bench${i}_8wekyb3d8bbwe`,
    packageIdentityName: `Contoso.Bench${i}`,
    publisherName: 'CN=Contoso Ltd.',
    published: { ...structuredClone(demo.published!), id: undefined },
  }));
  return { seed: { applications: [{ ...demo, flights: [] }, ...apps], inAppProducts: [] }, appIds };
}

/** The compiled file of a bench module, also when running under ts-jest (npm test builds dist/ first). */
export function builtFile(relativeToBench: string): string {
  const beside = join(__dirname, relativeToBench);
  if (__filename.endsWith('.js') && existsSync(beside)) return beside;
  const built = resolve(repoRoot(), 'dist', 'bench', relativeToBench);
  if (!existsSync(built)) throw new Error(`${built} does not exist: build first (npx tsc -p tsconfig.json)`);
  return built;
}

type Waiter = { test: (l: HostLogLine) => boolean; resolve: (l: HostLogLine) => void };

/** The host's log lines as they arrive, with waits on the ones that say something happened. */
export class HostLog {
  readonly lines: HostLogLine[] = [];
  private waiters: Waiter[] = [];

  readonly onLog = (line: HostLogLine): void => {
    this.lines.push(line);
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.test(line)) w.resolve(line);
      else still.push(w);
    }
    this.waiters = still;
  };

  /** The first line (already seen or still to come) that passes `test`. */
  waitFor(test: (l: HostLogLine) => boolean, timeoutMs: number, what: string): Promise<HostLogLine> {
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const waiter: Waiter = {
        test,
        resolve: (l) => {
          clearTimeout(timer);
          resolvePromise(l);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Completed or failed: the engine logs one of these when an instance ends. */
  waitForEnd(instanceId: string, timeoutMs: number): Promise<{ ok: boolean; line: HostLogLine }> {
    return this.waitFor(
      (l) =>
        l.message.startsWith(`${instanceId}: `) &&
        (/: orchestration '.*' completed$/.test(l.message) ||
          l.message.includes('failed') ||
          l.message.endsWith(': terminated')),
      timeoutMs,
      `instance ${instanceId} to end`,
    ).then((line) => ({ ok: /completed$/.test(line.message), line }));
  }

  clear(): void {
    this.lines.length = 0;
  }
}

/**
 * App settings that keep a benchmark's sandbox to itself on a shared Azurite: its own zip and
 * report containers and host id (blob receipts), as the end-to-end tests do.
 */
export function isolatedSettings(prefix: string): Record<string, string> {
  const id = `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  return {
    SUBMISSIONS_CONTAINER: `${id}-zips`,
    REPORTS_CONTAINER: `${id}-reports`,
    AzureFunctionsWebHost__hostid: id,
    // The app paces Store calls to 20 a minute (the Store's quota); with the emulator's limit off,
    // that pacing would be the only thing measured.
    STORE_MAX_REQUESTS_PER_MINUTE: '10000',
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Zero delays everywhere in the emulator, rate limit off: only the machinery is left to measure. */
export const INSTANT_STORE = {
  commitProcessingMs: 0,
  preProcessingMs: 0,
  certificationMs: 0,
  releaseMs: 0,
  publishingMs: 0,
  rateLimitEnabled: false,
};

/**
 * The sandbox the pipeline and many-products benchmarks run on: instant Store, the host on the
 * given clock and blob scan, its own containers and task hub, the host log fed to `hostLog`.
 */
export function startBenchSandbox(o: {
  name: string;
  seed: SeedData;
  hostLog: HostLog;
  azurite?: Pick<Azurite, 'connectionString' | 'ingestConnectionString'>;
  blobPollIntervalMs: number;
  clockSpeed?: number;
  /** The hosting plan the host plays (default the sandbox's, Premium); Flex takes Event Grid as the trigger's source. */
  plan?: HostingPlan;
}): Promise<Sandbox> {
  return startSandbox({
    azurite: o.azurite,
    emulator: { seed: o.seed, config: INSTANT_STORE },
    host: {
      blobPollIntervalMs: o.blobPollIntervalMs,
      clockSpeed: o.clockSpeed ?? 1,
      onLog: o.hostLog.onLog,
      taskHub: `${o.name}${Date.now().toString(36)}`,
      ...(o.plan ? { plan: o.plan } : {}),
    },
    // Includes the app's own Store call pacer at its maximum: "rate limit off".
    settings: isolatedSettings(o.name),
  });
}
