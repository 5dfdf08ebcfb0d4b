/**
 * The local Azure Functions host of the sandbox. `func` cannot be used here, so this runs the
 * app's own registered functions (Node v4 programming model) with the real `@azure/functions`
 * and `durable-functions` libraries, in a child process, over the protocol the Functions and
 * Durable hosts speak. See sandbox/host/README.md.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { HostingPlan } from '../../lib/hostPlan';
import { DURABLE_SYSTEM_KEY, type HostKeys } from './keys';
import { parseLogLine, type HostLogLine } from './log';

export type { HostLogLine } from './log';
export type { HostKeys } from './keys';

export interface HostOptions {
  /** Folder with the app's package.json; `main` (a glob) names the built files to load. */
  appDir: string;
  /** HTTP port (default 0 = a free port; the sandbox CLI uses 7071). */
  port?: number;
  /** App settings: they become the child's environment, as in Azure. */
  settings: Record<string, string>;
  /**
   * Durable task hub; state of different hubs never mixes. Default: host.json's hubName (its
   * `%SETTING%` resolved from the settings), else "TestHubName". When hubName is `%SETTING%`, this
   * option sets that setting too, so the app reads the hub it really runs on.
   */
  taskHub?: string;
  /** Durable timers fire N times sooner; the orchestration sees a consistent virtual clock. */
  clockSpeed?: number;
  /** Blob trigger scan period (default 1000 ms). */
  blobPollIntervalMs?: number;
  /** Every log line (host and every invocation's context.log) is appended here, one JSON object per line. */
  logFile?: string;
  /** Parsed lines from the child's stdout. */
  onLog?: (line: HostLogLine) => void;
  /**
   * Keys are required as in Azure (default): the host generates them at start (sandbox/host/keys.ts)
   * and hands them over on its ready line (`RunningHost.keys`); `masterKey` replaces the generated
   * master key, so a restarted host keeps it, as the real host keeps its keys in storage. `false`
   * opens every route without a key, which no deployed app does: only for tests of the host's
   * other parts, never for the app's.
   */
  enforceKeys?: false | { masterKey?: string };
  /**
   * `home`: the host's own Durable engine. `real`: the Durable Task extension in the .NET reference
   * host (sandbox/refhost; needs the .NET SDK). Default: `real` when SANDBOX_DURABLE=real, else `home`.
   */
  durable?: DurableEngineKind;
  /** With the real engine: the extension's maxQueuePollingInterval in ms (default 500). */
  queuePollingMs?: number;
  /**
   * How long a work item a host took stays invisible (both engines): an activity a killed host was
   * running runs again only after it. Default: host.json's, else 5 minutes, as on the extension.
   */
  workItemVisibilityMs?: number;
  /**
   * The hosting plan the host plays (default `premium`): it refuses at start what that plan's host
   * refuses and gives every invocation the plan's `functionTimeout` (lib/hostPlan.ts).
   */
  plan?: HostingPlan;
}

export type DurableEngineKind = 'home' | 'real';

/** The engine tests and the sandbox use unless told otherwise: SANDBOX_DURABLE=real picks the real extension. */
export function defaultDurableEngine(env: NodeJS.ProcessEnv = process.env): DurableEngineKind {
  return env.SANDBOX_DURABLE === 'real' ? 'real' : 'home';
}

export interface RunningHost {
  url: string;
  /** The keys the host generated (master, host, per function, system); absent with `enforceKeys: false`. */
  keys?: HostKeys;
  /**
   * `fetch` of a path on the host (or a full URL on it) with the key a user of that path would
   * hold: a host key for the app's routes (as the CLI sends one), the Durable extension's system
   * key for its webhooks, the master key for /admin. An `x-functions-key` in `init` is kept.
   */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  port: number;
  pid: number;
  logs(): HostLogLine[];
  stop(): Promise<void>;
  /** SIGKILL, to test restarts. */
  kill(): Promise<void>;
}

/** Variables a Node process needs to run at all; everything else comes from `settings`. */
const PASSED_THROUGH = [
  'PATH',
  'HOME',
  'TMPDIR',
  'TEMP',
  'TMP',
  'SystemRoot',
  'LANG',
  'TZ',
  'USER',
  // The reference host's `dotnet` finds its SDK and package cache through these.
  'DOTNET_ROOT',
  'NUGET_PACKAGES',
];

function mainScript(): string {
  // Compiled: dist/sandbox/host/index.js sits beside main.js. From ts-jest: the repo's dist/.
  const beside = join(__dirname, 'main.js');
  if (__filename.endsWith('.js') && existsSync(beside)) return beside;
  const built = resolve(__dirname, '..', '..', 'dist', 'sandbox', 'host', 'main.js');
  if (!existsSync(built)) throw new Error(`${built} does not exist: build first (npx tsc -p tsconfig.json)`);
  return built;
}

export async function startHost(options: HostOptions): Promise<RunningHost> {
  const args = [
    mainScript(),
    '--app',
    resolve(options.appDir),
    '--port',
    String(options.port ?? 0),
    '--exit-with-parent',
  ];
  if (options.taskHub) args.push('--task-hub', options.taskHub);
  if (options.clockSpeed !== undefined) args.push('--clock-speed', String(options.clockSpeed));
  args.push('--blob-poll-ms', String(options.blobPollIntervalMs ?? 1000));
  if (options.logFile) args.push('--log-file', resolve(options.logFile));
  const durable = options.durable ?? defaultDurableEngine();
  args.push('--durable', durable);
  if (options.queuePollingMs !== undefined) args.push('--queue-polling-ms', String(options.queuePollingMs));
  if (options.workItemVisibilityMs !== undefined)
    args.push('--work-item-visibility-ms', String(options.workItemVisibilityMs));
  if (options.plan) args.push('--plan', options.plan);
  const env: NodeJS.ProcessEnv = {};
  for (const name of PASSED_THROUGH) if (process.env[name] !== undefined) env[name] = process.env[name];
  Object.assign(env, options.settings);
  if (options.enforceKeys === false) args.push('--no-keys');
  else if (options.enforceKeys?.masterKey) env.SANDBOX_HOST_MASTER_KEY = options.enforceKeys.masterKey;

  // stdin is the child's parent-death watch (--exit-with-parent): it reads end-of-file when we die.
  const child = spawn(process.execPath, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: HostLogLine[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8000);
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));

  const ready = new Promise<{ url: string; port: number; keys?: HostKeys }>((resolveReady, reject) => {
    const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    rl.on('line', (text) => {
      if (text.trim() === '') return;
      const { keys, ...line } = parseLogLine(text) as HostLogLine & { keys?: HostKeys };
      lines.push(line);
      try {
        options.onLog?.(line);
      } catch {
        // a broken listener must not break the host
      }
      if (line.event === 'ready') resolveReady({ url: String(line.url), port: Number(line.port), keys });
      if (line.event === 'startFailed') reject(new Error(line.message));
    });
    child.once('exit', (code, signal) => {
      const errors = lines.filter((l) => l.level === 'error' || l.level === 'critical').map((l) => l.message);
      reject(
        new Error(
          `Functions host exited (${signal ?? code}) before it was ready. ${errors.join(' | ')} ${stderr}`.trim(),
        ),
      );
    });
  });

  let info: { url: string; port: number; keys?: HostKeys };
  try {
    info = await ready;
    child.once('exit', (code, signal) => {
      // After a crash nothing else would say so; kill() and stop() leave this line too, harmlessly.
      const line: HostLogLine = {
        time: new Date().toISOString(),
        level: code === 0 ? 'information' : 'critical',
        category: 'Host',
        message: `Host process exited (${signal ?? code})`,
      };
      lines.push(line);
      try {
        options.onLog?.(line);
      } catch {
        // a broken listener must not break the caller
      }
    });
  } catch (e) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    throw e;
  }

  return {
    url: info.url,
    port: info.port,
    keys: info.keys,
    fetch: (path, init) => fetchWithKey(info.url, info.keys, path, init),
    pid: child.pid as number,
    logs: () => [...lines],
    stop: () => stopChild(child, exited, 10000),
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The key a caller of `path` holds (see RunningHost.fetch); undefined when the host takes none. */
export function keyForPath(keys: HostKeys | undefined, path: string): string | undefined {
  if (!keys) return undefined;
  if (path.startsWith('/runtime/webhooks/durabletask')) return keys.system[DURABLE_SYSTEM_KEY];
  if (path.startsWith('/admin')) return keys.master;
  return keys.host.default;
}

function fetchWithKey(
  base: string,
  keys: HostKeys | undefined,
  target: string,
  init: RequestInit = {},
): Promise<Response> {
  const url = new URL(target, base);
  const headers = new Headers(init.headers);
  const key = keyForPath(keys, url.pathname);
  if (key && !headers.has('x-functions-key') && !url.searchParams.has('code')) headers.set('x-functions-key', key);
  return fetch(url, { ...init, headers });
}

async function stopChild(child: ChildProcess, exited: Promise<void>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  child.kill('SIGTERM');
  await exited;
  clearTimeout(timer);
}
