/**
 * The Node half of the reference host. The sandbox Functions host (sandbox/host) loads the app as
 * always; with `--durable real` it starts the .NET reference host beside it (this file) instead of
 * its own Durable engine: the real Durable Task extension then owns the task hub, replays the
 * orchestrations and schedules the activities, and calls back here for every orchestrator episode
 * and activity, which run in this process through the same worker invocation as every other
 * function. See sandbox/refhost/README.md.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { extraInputs } from '../host/bindings';
import type { ParameterBinding, RegisteredFunction, RpcTypedData, Worker } from '../host/core';
import type { ApiRequest, ApiResponse } from '../host/durable/api';
import { readBody } from '../host/http';
import type { Logger } from '../host/log';
import { machineLock } from '../processes';

/** Where the .NET project lives, from the TypeScript source or its build in dist/. */
export function refHostProjectDir(): string {
  for (const candidate of [join(__dirname), resolve(__dirname, '..', '..', '..', 'sandbox', 'refhost')]) {
    if (existsSync(join(candidate, 'RefHost.csproj'))) return candidate;
  }
  throw new Error(`sandbox/refhost/RefHost.csproj not found from ${__dirname}`);
}

const DOTNET_HELP =
  'The reference host (--durable real) runs the real Durable Task extension on .NET and needs the .NET SDK 8 or later ' +
  '(`dotnet --version`). Install it from https://dot.net (Debian/Ubuntu: `apt-get install dotnet-sdk-8.0`), ' +
  'or leave out --durable real to use the sandbox host’s own Durable engine, which needs only Node.';

/** The .NET SDK's version, or undefined when `dotnet` is not installed. */
export function dotnetVersion(): string | undefined {
  const r = spawnSync('dotnet', ['--version'], { encoding: 'utf8', timeout: 60_000 });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout.trim() || undefined;
}

export function requireDotnet(): string {
  const v = dotnetVersion();
  if (!v) throw new Error(DOTNET_HELP);
  return v;
}

function newestMtime(dir: string, skip: Set<string>): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    if (skip.has(name)) continue;
    const full = join(dir, name);
    const st = statSync(full);
    newest = Math.max(newest, st.isDirectory() ? newestMtime(full, skip) : st.mtimeMs);
  }
  return newest;
}

/**
 * Restores and builds the .NET project (from NuGet) unless its build is newer than its sources.
 * Returns the path of RefHost.dll. The first build takes a minute; later ones are skipped.
 */
export function buildRefHost(log: (line: string) => void = () => undefined): string {
  requireDotnet();
  const dir = refHostProjectDir();
  const out = join(dir, 'bin', 'sandbox');
  const dll = join(out, 'RefHost.dll');
  const sources = newestMtime(dir, new Set(['bin', 'obj', 'README.md']));
  if (existsSync(dll) && statSync(dll).mtimeMs >= sources) return dll;
  log('Building the reference host (dotnet build sandbox/refhost; the first build restores packages from NuGet)');
  const r = spawnSync('dotnet', ['build', dir, '-c', 'Release', '-o', out, '--nologo', '-v', 'quiet'], {
    encoding: 'utf8',
    timeout: 15 * 60_000,
    env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' },
  });
  if (r.status !== 0 || !existsSync(dll)) {
    throw new Error(`dotnet build of the reference host failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  }
  return dll;
}

export interface RefHostOptions {
  worker: Worker;
  logger: Logger;
  /** The app's folder (its host.json configures the extension). */
  appDir: string;
  /** The environment the app runs with: app settings, handed to the .NET host as they are. */
  env: NodeJS.ProcessEnv;
  /** The public origin of the Functions host (the Node HTTP port): management URLs point there. */
  publicOrigin: string;
  taskHub?: string;
  /** The extension's `storageProvider.maxQueuePollingInterval`, so an idle hub notices new work quickly. */
  queuePollingMs: number;
  /** `storageProvider.workItemQueueVisibilityTimeout`, when given. */
  visibilityTimeoutMs?: number;
}

export interface RunningRefHost {
  /** The extension's Durable client binding value (its JSON, its URLs). */
  clientData(): Record<string, unknown>;
  /** Forwards a request under `/runtime/webhooks/durabletask` to the extension's HTTP API. */
  handle(req: ApiRequest): Promise<ApiResponse>;
  /** The extension serves the client's RPC API on its own loopback port, not on the public one. */
  servesRpcOnPublicPort: false;
  stop(): Promise<void>;
}

interface InvokeBody {
  function: string;
  kind: 'orchestrator' | 'activity';
  input: string | null;
}

/** RpcTypedData in JSON: bytes as base64. */
function typedDataJson(data: RpcTypedData | null | undefined): Record<string, unknown> | null {
  if (!data) return null;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    if (v === null || v === undefined) continue;
    out[k] = v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v;
  }
  return Object.keys(out).length > 0 ? out : null;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** The functions the extension must know: every orchestrator and activity the app registered. */
export function durableFunctionsOf(worker: Worker): Array<{ name: string; kind: 'orchestrator' | 'activity' }> {
  const out: Array<{ name: string; kind: 'orchestrator' | 'activity' }> = [];
  for (const fn of worker.functions.values()) {
    const type = (fn.trigger.type ?? '').toLowerCase();
    if (type === 'orchestrationtrigger') out.push({ name: fn.name, kind: 'orchestrator' });
    else if (type === 'activitytrigger') out.push({ name: fn.name, kind: 'activity' });
  }
  return out;
}

export async function startRefHost(o: RefHostOptions): Promise<RunningRefHost> {
  // Started one at a time (below), reference hosts no longer race each other for the extension's
  // RPC port; a port taken by some other process between the extension's bind and listen fails
  // the start the same way, and a new start picks another port.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRefHostOnce(o);
    } catch (e) {
      if (attempt >= 3 || !/Address already in use/.test(String(e))) throw e;
      o.logger.warn(
        'Host',
        `the reference host could not open its local RPC port (attempt ${attempt}); starting it again`,
      );
    }
  }
}

async function startRefHostOnce(o: RefHostOptions): Promise<RunningRefHost> {
  const dll = buildRefHost((line) => o.logger.info('Host', line));
  let client: Record<string, unknown> | undefined;
  const clientData = (): Record<string, unknown> => {
    if (!client) throw new Error('the reference host has not handed over its Durable client yet');
    return client;
  };

  const invoke = async (body: InvokeBody): Promise<Record<string, unknown>> => {
    const fn: RegisteredFunction | undefined = o.worker.functions.get(body.function);
    const expected = body.kind === 'orchestrator' ? 'orchestrationtrigger' : 'activitytrigger';
    if (!fn || (fn.trigger.type ?? '').toLowerCase() !== expected) {
      return {
        ok: false,
        message: `The function '${body.function}' doesn't exist, is disabled, or is not an ${body.kind} function.`,
        stack: '',
      };
    }
    const inputs: ParameterBinding[] = [
      { name: fn.triggerBindingName, data: body.input === null ? undefined : { string: body.input } },
    ];
    if (body.kind === 'activity') inputs.push(...extraInputs(fn, clientData));
    try {
      const response = await o.worker.invoke(fn.name, {
        inputData: inputs,
        reason:
          body.kind === 'orchestrator'
            ? 'OrchestrationTrigger from the Durable Task extension'
            : 'ActivityTrigger from the Durable Task extension',
      });
      return { ok: true, returnValue: typedDataJson(response.returnValue) };
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      return { ok: false, message: err.message, stack: err.stack ?? '' };
    }
  };

  const bridge: Server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'POST' || req.url !== '/invoke') return reply(res, 404, { message: 'not found' });
      const body = JSON.parse((await readBody(req)).toString('utf8')) as InvokeBody;
      reply(res, 200, await invoke(body));
    })().catch((e: Error) => {
      o.logger.error('Host', `reference host bridge: ${e.message}`);
      if (!res.headersSent) reply(res, 500, { message: e.message });
      else res.end();
    });
  });
  bridge.keepAliveTimeout = 60_000;
  await new Promise<void>((done, fail) => {
    bridge.once('error', fail);
    bridge.listen(0, '127.0.0.1', () => done());
  });
  const bridgeUrl = `http://127.0.0.1:${(bridge.address() as AddressInfo).port}`;

  const work = mkdtempSync(join(tmpdir(), 'refhost-'));
  const functionsFile = join(work, 'functions.json');
  writeFileSync(functionsFile, JSON.stringify(durableFunctionsOf(o.worker)));
  const args = [
    dll,
    '--bridge',
    bridgeUrl,
    '--functions',
    functionsFile,
    '--public-origin',
    o.publicOrigin,
    '--host-json',
    join(o.appDir, 'host.json'),
    '--queue-polling-ms',
    String(o.queuePollingMs),
  ];
  if (o.taskHub) args.push('--task-hub', o.taskHub);
  if (o.visibilityTimeoutMs !== undefined) args.push('--visibility-timeout-ms', String(o.visibilityTimeoutMs));
  const env: NodeJS.ProcessEnv = {
    ...o.env,
    FUNCTIONS_WORKER_RUNTIME: o.env.FUNCTIONS_WORKER_RUNTIME ?? 'node',
    DOTNET_CLI_TELEMETRY_OPTOUT: '1',
    DOTNET_NOLOGO: '1',
  };
  // The Node-only variable would make .NET look for a CA bundle it does not need.
  delete env.NODE_OPTIONS;
  // The extension opens its local RPC endpoint on 127.0.0.1:17071 first, and only a failed bind
  // sends it to another port; two hosts starting together can both bind it and then one fails
  // in listen() with "Address already in use", which the extension does not retry
  // (LocalHttpListener.StartAsync in Azure/azure-functions-durable-extension catches IOException
  // only). So reference hosts on this machine start one at a time: once one listens on 17071,
  // the next one's bind fails cleanly and it takes another port.
  const release = await machineLock('store-submitter-refhost-start');
  const child: ChildProcess = spawn('dotnet', args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let webhookUrl = '';
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-8000);
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));

  const ready = new Promise<void>((done, fail) => {
    const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    // The extension's own loopback RPC server (Kestrel) logs to the console in plain text, two lines
    // per request: keep what it says at warning and above, drop its request traces.
    let plainLevel: string | undefined;
    rl.on('line', (text) => {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        const head = /^(trce|dbug|info|warn|fail|crit): /.exec(text);
        if (head) plainLevel = { warn: 'warning', fail: 'error', crit: 'critical' }[head[1] as string];
        if (plainLevel && text.trim() !== '') o.logger.log(plainLevel, 'Host.RefHost', text.trim());
        return;
      }
      const level = typeof line.level === 'string' ? line.level : 'information';
      const category = typeof line.category === 'string' ? line.category : 'Host.RefHost';
      o.logger.log(level, category, typeof line.message === 'string' ? line.message : JSON.stringify(line.message));
      if (line.event === 'ready') {
        webhookUrl = String(line.webhookUrl);
        client = JSON.parse(String(line.client)) as Record<string, unknown>;
        done();
      } else if (line.event === 'startFailed') fail(new Error(String(line.message)));
    });
    child.once('exit', (code, signal) =>
      fail(new Error(`the reference host exited (${signal ?? code}) before it was ready. ${stderr}`.trim())),
    );
  });

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.stdin?.end('stop\n');
      await exited;
      clearTimeout(timer);
    }
    await new Promise<void>((done) => {
      bridge.close(() => done());
      bridge.closeAllConnections();
    });
    rmSync(work, { recursive: true, force: true });
  };

  try {
    await ready;
  } catch (e) {
    if (child.exitCode === null) child.kill('SIGKILL');
    await stop();
    throw e;
  } finally {
    release();
  }
  o.logger.info(
    'Host.Triggers.DurableTask',
    `Durable Task extension on task hub '${String(client?.taskHubName)}' (reference host, pid ${child.pid})`,
  );

  return {
    clientData,
    servesRpcOnPublicPort: false,
    stop,
    async handle(req: ApiRequest): Promise<ApiResponse> {
      const url = new URL(req.rawUrl ?? '/', webhookUrl);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (v === undefined || ['host', 'connection', 'content-length', 'transfer-encoding'].includes(k)) continue;
        headers[k] = Array.isArray(v) ? v.join(', ') : v;
      }
      const response = await fetch(url, {
        method: req.method,
        headers,
        body: ['GET', 'HEAD'].includes(req.method) || req.body.length === 0 ? undefined : req.body,
        redirect: 'manual',
      });
      const out: Record<string, string> = {};
      response.headers.forEach((v, k) => {
        if (!['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date', 'server'].includes(k))
          out[k] = v;
      });
      return { status: response.status, headers: out, body: Buffer.from(await response.arrayBuffer()) };
    },
  };
}
