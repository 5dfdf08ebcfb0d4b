import { existsSync, readFileSync } from 'node:fs';
import { DURABLE_SYSTEM_KEY, generateKeys, loadOrCreateKeys, type HostKeys } from './keys';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { BlobTriggerListener } from './blobTrigger';
import { TimerTriggerListener } from './timerTrigger';
import { checkSupportedBindings, extraInputs, usesDurable } from './bindings';
import { Worker, type RegisteredFunction } from './core';
import { DurableApi } from './durable/api';
import { DurableEngine, VirtualClock } from './durable/engine';
import { HttpHost, type DurableHttp } from './http';
import type { Logger } from './log';
import { blobService, connectionString, containerNameFor, queueService, resolveSettingExpressions } from './storage';
import { startRefHost, type RunningRefHost } from '../refhost';
import { effectiveFunctionTimeoutMs, functionTimeoutProblem, type HostingPlan } from '../../lib/hostPlan';
import { text } from './bindings';

export interface RunOptions {
  appDir: string;
  port: number;
  taskHub?: string;
  clockSpeed: number;
  blobPollIntervalMs: number;
  /**
   * Keys are required (as in Azure) when set: read from, or generated into, AzureWebJobsStorage at
   * start (keys.ts); `masterKey` replaces the master key.
   */
  enforceKeys?: { masterKey?: string };
  /**
   * Who runs orchestrations and activities: `home`, this host's own engine (durable/engine.ts), or
   * `real`, the Durable Task extension in the .NET reference host (sandbox/refhost).
   */
  durable?: 'home' | 'real';
  /** With `durable: 'real'`: the extension's maxQueuePollingInterval. */
  queuePollingMs?: number;
  /** The work items' visibility timeout (both engines): when a killed host's activity runs again. */
  workItemVisibilityMs?: number;
  /**
   * The hosting plan this host plays (default `premium`): what it refuses at start (a
   * `functionTimeout` over the plan's maximum; on `flex` a blob trigger whose source is not
   * EventGrid) and the timeout every invocation gets (lib/hostPlan.ts).
   */
  plan?: HostingPlan;
}

export interface Running {
  url: string;
  port: number;
  /** The keys this host requires, when it requires keys. */
  keys?: HostKeys;
  stop(): Promise<void>;
}

interface HostJson {
  functionTimeout?: unknown;
  extensions?: {
    http?: { routePrefix?: string };
    durableTask?: {
      hubName?: string;
      maxConcurrentActivityFunctions?: number;
      storageProvider?: { workItemQueueVisibilityTimeout?: string };
    };
    blobs?: { maxDegreeOfParallelism?: number };
  };
}

// The Durable extension's rule (azure-functions-durable-extension Options/AzureStorageOptions.cs: 3 to 45, alphanumeric, a letter first).
const TASK_HUB_RE = /^[A-Za-z][A-Za-z0-9]{2,44}$/;

/** A host.json TimeSpan (`[d.]hh:mm:ss[.fff]`) in milliseconds; undefined when absent. */
export function timeSpanMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(value.trim());
  if (!m) throw new Error(`host.json: '${value}' is not a TimeSpan (hh:mm:ss)`);
  return Math.round(((Number(m[1] ?? 0) * 24 + Number(m[2])) * 3600 + Number(m[3]) * 60 + Number(m[4])) * 1000);
}

/** The host id blob receipts are keyed by: stable for one machine (or site), as in the real host. */
export function hostIdFor(env: NodeJS.ProcessEnv): string {
  const explicit = env.AzureFunctionsWebHost__hostid ?? env.AzureFunctionsWebHost__hostId;
  const raw = explicit ?? env.WEBSITE_SITE_NAME ?? hostname();
  return (
    raw
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '')
      .slice(0, 32) || 'sandbox-host'
  );
}

/** Loads the app and serves it: the child process's whole job. */
export async function runHost(o: RunOptions, logger: Logger): Promise<Running> {
  const appDir = resolve(o.appDir);
  const env = process.env;
  const hostJsonPath = join(appDir, 'host.json');
  const hostJson: HostJson = existsSync(hostJsonPath)
    ? (JSON.parse(readFileSync(hostJsonPath, 'utf8')) as HostJson)
    : {};

  // host.json may name its hub by an app setting (`"hubName": "%TASK_HUB_NAME%"`), resolved as the
  // host resolves it; the taskHub option then stands for that setting, so the app reads the name
  // its instances really live under.
  const hubFromJson = hostJson.extensions?.durableTask?.hubName;
  const hubSetting = hubFromJson ? /^%([^%]+)%$/.exec(hubFromJson.trim())?.[1] : undefined;
  if (o.taskHub && hubSetting) env[hubSetting] = o.taskHub;

  // As the real host, the timeout is checked when its options are set up, before any function loads.
  const plan = o.plan ?? 'premium';
  const timeoutProblem = functionTimeoutProblem(plan, hostJson.functionTimeout);
  if (timeoutProblem) throw new Error(`host.json on the ${plan} plan: ${timeoutProblem}`);

  const worker = new Worker(logger, appDir);
  worker.functionTimeoutMs = effectiveFunctionTimeoutMs(plan, hostJson.functionTimeout);
  worker.installCoreModule();
  worker.captureConsole();
  env.FUNCTIONS_WORKER_RUNTIME ??= 'node';
  env.AzureWebJobsScriptRoot ??= appDir;
  const files = await worker.loadApp();
  logger.info(
    'Host',
    `Loaded ${files.length} file(s) from package.json "main"; ${worker.functions.size} function(s) registered: ${[...worker.functions.keys()].join(', ')}`,
  );
  if (plan === 'flex') checkFlexBlobTriggers(worker.functions.values());
  checkSupportedBindings(worker.functions.values());
  logger.info(
    'Host',
    `Plan ${plan}; functionTimeout ${worker.functionTimeoutMs === null ? 'none' : `${worker.functionTimeoutMs} ms`}`,
  );

  await worker.runAppStart();

  const hostId = hostIdFor(env);
  const http = new HttpHost({
    worker,
    logger,
    routePrefix: hostJson.extensions?.http?.routePrefix ?? 'api',
    hostId,
  });
  let keys: HostKeys | undefined;
  if (o.enforceKeys) {
    // With no AzureWebJobsStorage the real host keeps its keys in files of its own; here they live
    // as long as the process.
    keys = env.AzureWebJobsStorage
      ? await loadOrCreateKeys(blobService(connectionString(undefined, env, 'Host keys')), hostId, http.functionNames())
      : generateKeys(http.functionNames());
    if (o.enforceKeys.masterKey) keys.master = o.enforceKeys.masterKey;
    http.setKeys(keys);
  }
  const port = await http.listen(o.port);
  const origin = `http://127.0.0.1:${port}`;
  // The durable client rewrites management URLs to localhost:7071 unless the host names itself.
  env.WEBSITE_HOSTNAME ??= `127.0.0.1:${port}`;

  let engine: DurableEngine | undefined;
  let durableApi: DurableHttp | undefined;
  let refHost: RunningRefHost | undefined;
  let blobs: BlobTriggerListener | undefined;
  let timers: TimerTriggerListener | undefined;
  try {
    if (usesDurable(worker.functions.values())) {
      const taskHub =
        o.taskHub ??
        (hubFromJson ? resolveSettingExpressions(hubFromJson, env, 'host.json durableTask.hubName') : 'TestHubName');
      if (!TASK_HUB_RE.test(taskHub))
        throw new Error(`Task hub name '${taskHub}' is invalid: 3 to 45 letters and digits, starting with a letter`);
      if (o.durable === 'real') {
        if (o.clockSpeed !== 1)
          logger.warn('Host', `clock speed ${o.clockSpeed} ignored: the Durable Task extension keeps real time`);
        refHost = await startRefHost({
          worker,
          logger,
          appDir,
          env,
          publicOrigin: origin,
          taskHub,
          queuePollingMs: o.queuePollingMs ?? 500,
          visibilityTimeoutMs: o.workItemVisibilityMs,
        });
        durableApi = refHost;
        http.setDurable(refHost);
      } else {
        const storage = blobService(connectionString('AzureWebJobsStorage', env, 'Durable Functions'));
        engine = new DurableEngine({
          worker,
          logger,
          container: storage.getContainerClient(containerNameFor(taskHub, 'sandboxhost')),
          taskHub,
          clock: new VirtualClock(o.clockSpeed),
          maxConcurrentActivities: hostJson.extensions?.durableTask?.maxConcurrentActivityFunctions ?? 10,
          workItemVisibilityMs:
            o.workItemVisibilityMs ??
            timeSpanMs(hostJson.extensions?.durableTask?.storageProvider?.workItemQueueVisibilityTimeout),
        });
        const loaded = await engine.load();
        const api = new DurableApi(engine, () => origin, keys?.system[DURABLE_SYSTEM_KEY]);
        durableApi = api;
        engine.setExtraInputs((fn) => extraInputs(fn, () => api.clientData()));
        http.setDurable(api);
        logger.info(
          'Host.Triggers.DurableTask',
          `Task hub '${taskHub}' loaded with ${loaded} instance(s); clock speed ${o.clockSpeed}`,
        );
      }
    }
    const api = durableApi;
    const clientData = api ? () => api.clientData() : undefined;
    blobs = new BlobTriggerListener({
      worker,
      logger,
      env,
      hostId,
      pollIntervalMs: o.blobPollIntervalMs,
      maxParallel: hostJson.extensions?.blobs?.maxDegreeOfParallelism ?? 8,
      hostStorage: lazyHostStorage(env),
      extraInputs: (fn) => extraInputs(fn, clientData),
    });
    timers = new TimerTriggerListener({ worker, logger, env, extraInputs: (fn) => extraInputs(fn, clientData) });
    const timerListener = timers;
    http.setAdminInvoker((name) => timerListener.invokeNow(name));
    const listener = blobs;
    http.setBlobWebhook(listener.eventGridFunctionIds(), (functionId, blob) => listener.deliver(functionId, blob));
    http.setReady();
    engine?.resumeAll();
    await blobs.start();
    timers.start();
  } catch (e) {
    timers?.stop();
    await http.close();
    engine?.stop();
    await blobs?.stop();
    await refHost?.stop();
    throw e;
  }

  for (const line of http.describeRoutes(origin)) logger.info('Host', line);
  return {
    url: origin,
    keys,
    port,
    async stop() {
      timers?.stop();
      await blobs?.stop();
      engine?.stop();
      await http.close();
      await refHost?.stop();
      await worker.runAppTerminate();
    },
  };
}

/**
 * Flex Consumption takes blob triggers only with Event Grid as their source: its host stops with
 * "The Flex Consumption SKU only supports EventGrid as the source for BlobTrigger functions"
 * (azure-functions-host `src/WebJobs.Script/Host/ScriptHost.cs`, shared/reference/host-fidelity.md §1;
 * Microsoft's Flex Consumption plan docs, "Considerations": only the Event Grid-based blob trigger).
 */
export function checkFlexBlobTriggers(functions: Iterable<RegisteredFunction>): void {
  const polling = [...functions].filter(
    (fn) =>
      (fn.trigger.type ?? '').toLowerCase() === 'blobtrigger' && text(fn.trigger.source).toLowerCase() !== 'eventgrid',
  );
  if (polling.length > 0)
    throw new Error(
      `The Flex Consumption SKU only supports EventGrid as the source for BlobTrigger functions. Please update function(s): ${polling.map((f) => f.name).join(', ')}.`,
    );
}

/** Receipts and the poison queue live in AzureWebJobsStorage; only needed when a blob trigger exists. */
function lazyHostStorage(env: NodeJS.ProcessEnv): ConstructorParameters<typeof BlobTriggerListener>[0]['hostStorage'] {
  let cached: ConstructorParameters<typeof BlobTriggerListener>[0]['hostStorage'] | undefined;
  const get = (): NonNullable<typeof cached> => {
    if (!cached) {
      const conn = connectionString('AzureWebJobsStorage', env, 'blob trigger receipts');
      cached = { receipts: blobService(conn).getContainerClient('azure-webjobs-hosts'), queues: queueService(conn) };
    }
    return cached;
  };
  return {
    get receipts() {
      return get().receipts;
    },
    get queues() {
      return get().queues;
    },
  };
}
