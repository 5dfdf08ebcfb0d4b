import { AsyncLocalStorage } from 'node:async_hooks';
import { sanitizedFailure } from './sanitizer';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { formatTimeSpan } from '../../lib/hostPlan';
import { globFiles, isGlob } from './glob';
import type { Logger } from './log';

/*
 * The part of the Node worker that `@azure/functions` talks to: the `@azure/functions-core`
 * module (registrations, programming model, hooks, logs) and the invocation sequence of the
 * worker's InvocationHandler. Shapes follow the worker's RPC types, written out here because
 * the worker's type package is not installed.
 */

export interface RpcTypedData {
  string?: string | null;
  json?: string | null;
  bytes?: Uint8Array | null;
  stream?: Uint8Array | null;
  http?: RpcHttpData | null;
  int?: number | null;
  double?: number | null;
  modelBindingData?: { version?: string; source?: string; contentType?: string; content?: Uint8Array } | null;
}

export interface RpcHttpData {
  method?: string | null;
  url?: string | null;
  headers?: Record<string, string> | null;
  body?: RpcTypedData | null;
  params?: Record<string, string> | null;
  statusCode?: string | null;
  query?: Record<string, string> | null;
  cookies?: Array<Record<string, unknown>> | null;
}

export interface RpcBindingInfo {
  type?: string | null;
  direction?: 'in' | 'out' | 'inout' | null;
  dataType?: string | null;
  properties?: Record<string, string> | null;
  [key: string]: unknown;
}

export interface FunctionMetadata {
  name: string;
  bindings: Record<string, RpcBindingInfo>;
  retryOptions?: unknown;
}

export interface ParameterBinding {
  name: string;
  data?: RpcTypedData | null;
}

export interface InvocationResponse {
  invocationId?: string;
  outputData?: ParameterBinding[] | null;
  returnValue?: RpcTypedData | null;
}

type FunctionCallback = (...args: unknown[]) => unknown;

interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], callback: FunctionCallback): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<InvocationResponse>;
}

interface ProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(coreCtx: unknown): InvocationModel;
  getCapabilities?(capabilities: Record<string, string>): Promise<Record<string, string>>;
}

type HookCallback = (context: Record<string, unknown>) => unknown;
const HOOK_NAMES = ['appStart', 'appTerminate', 'preInvocation', 'postInvocation', 'log'] as const;
type HookName = (typeof HOOK_NAMES)[number];

export interface RegisteredFunction {
  name: string;
  metadata: FunctionMetadata;
  callback: FunctionCallback;
  triggerBindingName: string;
  trigger: RpcBindingInfo;
}

export interface InvocationRequest {
  inputData: ParameterBinding[];
  triggerMetadata?: Record<string, RpcTypedData>;
  /** Why the host runs it, for the `Executing` line (never the inputs themselves). */
  reason: string;
}

class Disposable {
  #callOnDispose: (() => unknown) | undefined;
  constructor(callOnDispose: () => unknown) {
    this.#callOnDispose = callOnDispose;
  }
  static from(...items: Array<{ dispose(): unknown }>): Disposable {
    return new Disposable(() => items.forEach((d) => d.dispose()));
  }
  dispose(): unknown {
    const fn = this.#callOnDispose;
    this.#callOnDispose = undefined;
    return fn?.();
  }
}

// TypeScript turns `import()` into `require()` under CommonJS, which cannot load ES modules.
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

interface CurrentInvocation {
  functionName: string;
  invocationId: string;
}

const RPC_LEVELS: Record<string, string> = {
  trace: 'trace',
  debug: 'debug',
  information: 'information',
  warning: 'warning',
  error: 'error',
  critical: 'critical',
  none: 'none',
};

export class Worker {
  readonly functions = new Map<string, RegisteredFunction>();
  private programmingModel: ProgrammingModel | undefined;
  private readonly hooks: Record<HookName, HookCallback[]> = {
    appStart: [],
    appTerminate: [],
    preInvocation: [],
    postInvocation: [],
    log: [],
  };
  private readonly appHookData: Record<string, unknown> = {};
  private acceptingRegistrations = true;
  private readonly current = new AsyncLocalStorage<CurrentInvocation>();
  /**
   * host.json's `functionTimeout` as the plan applies it (lib/hostPlan.ts), in ms; null: none.
   * An invocation still running after it fails as on the real host (see `withFunctionTimeout`).
   */
  functionTimeoutMs: number | null = null;

  constructor(
    private readonly logger: Logger,
    readonly appDir: string,
  ) {}

  /** The object the app's `@azure/functions` finds when it requires `@azure/functions-core`. */
  coreApi(): Record<string, unknown> {
    return {
      version: '3.10.1-sandbox',
      hostVersion: '4.1040.0-sandbox',
      registerFunction: (metadata: FunctionMetadata, callback: FunctionCallback) =>
        this.registerFunction(metadata, callback),
      setProgrammingModel: (model: ProgrammingModel) => {
        this.programmingModel = model;
        this.logger.log('debug', 'Worker', `Programming model set to ${model.name}@${model.version}`);
      },
      getProgrammingModel: () => this.programmingModel,
      registerHook: (name: string, callback: HookCallback) => this.registerHook(name, callback),
      log: (level: string, category: string, message: string) => this.logSystemOrUser(level, category, message),
      Disposable,
    };
  }

  /** Must run before anything in the app loads: `@azure/functions` caches its look-up of the core module. */
  installCoreModule(): void {
    const api = this.coreApi();
    const proto = Module.prototype as unknown as { require: (this: unknown, id: string) => unknown };
    const original = proto.require;
    proto.require = function (this: unknown, id: string): unknown {
      if (id === '@azure/functions-core') return api;
      // eslint-disable-next-line prefer-rest-params
      return original.apply(this, arguments as unknown as [string]);
    };
  }

  /** Console output of the app becomes log lines too, attributed to the invocation that wrote it. */
  captureConsole(): void {
    const levels: Array<[keyof Console, string]> = [
      ['log', 'information'],
      ['info', 'information'],
      ['debug', 'debug'],
      ['trace', 'trace'],
      ['warn', 'warning'],
      ['error', 'error'],
    ];
    for (const [method, level] of levels) {
      (console as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
        const inv = this.current.getStore();
        this.logger.log(
          level,
          inv ? inv.functionName : 'Worker',
          format(...args),
          inv ? { invocationId: inv.invocationId } : {},
        );
      };
    }
  }

  private registerFunction(metadata: FunctionMetadata, callback: FunctionCallback): Disposable {
    if (!this.acceptingRegistrations) throw new Error('A function can only be registered during app startup.');
    if (this.functions.has(metadata.name))
      throw new Error(`A function with name "${metadata.name}" has already been registered.`);
    const entry = Object.entries(metadata.bindings).find(([, b]) => /trigger$/i.test(b.type ?? ''));
    if (!entry) throw new Error(`Function "${metadata.name}" has no trigger binding.`);
    const [triggerBindingName, trigger] = entry;
    this.functions.set(metadata.name, { name: metadata.name, metadata, callback, triggerBindingName, trigger });
    return new Disposable(() => this.functions.delete(metadata.name));
  }

  private registerHook(name: string, callback: HookCallback): Disposable {
    if (!(HOOK_NAMES as readonly string[]).includes(name)) throw new RangeError(`Unrecognized hook "${name}"`);
    const list = this.hooks[name as HookName];
    list.push(callback);
    return new Disposable(() => {
      const at = list.indexOf(callback);
      if (at >= 0) list.splice(at, 1);
    });
  }

  private logSystemOrUser(level: string, category: string, message: string): void {
    const inv = this.current.getStore();
    this.logger.log(
      RPC_LEVELS[level] ?? level,
      category === 'user' && inv ? inv.functionName : 'Worker',
      message,
      inv ? { invocationId: inv.invocationId } : {},
    );
  }

  /** Loads the files named by package.json `main` as the worker does: a glob, matched in sorted order. */
  async loadApp(): Promise<string[]> {
    const pkgPath = join(this.appDir, 'package.json');
    if (!existsSync(pkgPath)) throw new Error(`No package.json in ${this.appDir}`);
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { main?: string; type?: string };
    const main = pkg.main ?? 'index.js';
    let files: string[];
    if (isGlob(main)) {
      files = globFiles(this.appDir, main);
      if (files.length === 0)
        throw new Error(
          `Found zero files matching the supplied pattern "${main}" of package.json "main" in ${this.appDir} (is the app built?)`,
        );
    } else {
      files = [main];
    }
    for (const file of files) {
      const full = resolve(this.appDir, file);
      if (!existsSync(full))
        throw new Error(`package.json "main" names ${file}, which does not exist in ${this.appDir}`);
      const isEsm = full.endsWith('.mjs') || (pkg.type === 'module' && full.endsWith('.js'));
      if (isEsm) await importEsm(pathToFileURL(full).href);
      else createRequire(pkgPath)(full);
    }
    this.acceptingRegistrations = false;
    if (this.functions.size > 0 && !this.programmingModel)
      throw new Error('Functions were registered but no programming model was set.');
    // As the worker does after loading: this also locks `app.setup()`.
    const capabilities = (await this.programmingModel?.getCapabilities?.({})) ?? {};
    if (capabilities.HttpUri) {
      throw new Error('app.setup({ enableHttpStream: true }): HTTP streaming is not implemented by the sandbox host');
    }
    return files;
  }

  /** appStart hooks run before the host serves anything; a throwing hook fails the start. */
  async runAppStart(): Promise<void> {
    for (const hook of this.hooks.appStart) {
      await hook({ hookData: {}, appHookData: this.appHookData, functionAppDirectory: this.appDir });
    }
  }

  async runAppTerminate(): Promise<void> {
    for (const hook of this.hooks.appTerminate) {
      try {
        await hook({ hookData: {}, appHookData: this.appHookData });
      } catch (e) {
        this.logger.error('Worker', `appTerminate hook failed: ${(e as Error).message}`);
      }
    }
  }

  /** Runs one invocation the way the worker's InvocationHandler does. Throws what the function threw. */
  async invoke(functionName: string, request: InvocationRequest): Promise<InvocationResponse> {
    const fn = this.functions.get(functionName);
    if (!fn) throw new Error(`The function '${functionName}' doesn't exist.`);
    const model = this.programmingModel;
    if (!model) throw new Error('No programming model was set by the app.');
    const invocationId = randomUUID();
    const started = Date.now();
    this.logger.info(
      'Host.Function',
      `Executing 'Functions.${functionName}' (Reason='${request.reason}', Id=${invocationId})`,
      {
        invocationId,
        functionName,
      },
    );
    let invocationContext: unknown;
    const coreCtx = {
      invocationId,
      request: {
        invocationId,
        functionId: functionName,
        inputData: request.inputData,
        triggerMetadata: request.triggerMetadata ?? {},
      },
      metadata: fn.metadata,
      state: undefined as string | undefined,
      log: (level: string, category: string, message: string) => {
        let entry = { level, category, message };
        if (this.hooks.log.length > 0) entry = this.runLogHooks(entry, invocationContext);
        const who = category === 'user' ? functionName : 'Worker';
        this.logger.log(RPC_LEVELS[entry.level] ?? entry.level, who, entry.message, { invocationId });
      },
    };
    return this.current.run({ functionName, invocationId }, async () => {
      try {
        const invocModel = model.getInvocationModel(coreCtx);
        const hookData: Record<string, unknown> = {};
        const args = await invocModel.getArguments();
        invocationContext = args.context;
        let inputs = args.inputs;
        let callback = fn.callback;
        if (this.hooks.preInvocation.length > 0) {
          const pre: Record<string, unknown> = {
            hookData,
            appHookData: this.appHookData,
            invocationContext,
            inputs,
            functionCallback: callback,
          };
          coreCtx.state = 'preInvocationHooks';
          for (const hook of this.hooks.preInvocation) await hook(pre);
          inputs = pre.inputs as unknown[];
          callback = pre.functionCallback as FunctionCallback;
        }
        coreCtx.state = 'invocation';
        let result: unknown;
        let error: unknown;
        try {
          result = await this.withFunctionTimeout(functionName, invocationId, () =>
            invocModel.invokeFunction(invocationContext, inputs, callback),
          );
        } catch (e) {
          error = e;
        }
        if (this.hooks.postInvocation.length > 0) {
          const post: Record<string, unknown> = {
            hookData,
            appHookData: this.appHookData,
            invocationContext,
            inputs,
            result,
            error,
          };
          coreCtx.state = 'postInvocationHooks';
          for (const hook of this.hooks.postInvocation) await hook(post);
          result = post.result;
          error = post.error;
        }
        coreCtx.state = undefined;
        if (error !== undefined) throw error as Error;
        const response = await invocModel.getResponse(invocationContext, result);
        this.logger.info(
          'Host.Function',
          `Executed 'Functions.${functionName}' (Succeeded, Id=${invocationId}, Duration=${Date.now() - started}ms)`,
          {
            invocationId,
            functionName,
          },
        );
        return response;
      } catch (e) {
        this.logger.error(
          'Host.Function',
          `Executed 'Functions.${functionName}' (Failed, Id=${invocationId}, Duration=${Date.now() - started}ms): ${describeFailure(e)}`,
          {
            invocationId,
            functionName,
          },
        );
        // What the worker reports crosses the host's credential filter before anyone sees it.
        throw sanitizedFailure(e);
      }
    });
  }

  /**
   * The real host's timeout (azure-webjobs-sdk `src/Microsoft.Azure.WebJobs.Host/Executors/FunctionExecutor.cs`,
   * `TryHandleTimeoutAsync`): it logs `Timeout value of <t> exceeded by function '<name>' (Id: '<id>').
   * Initiating cancellation.`, then fails the invocation with a `FunctionTimeoutException` whose
   * message is `Timeout value of <t> was exceeded by function: Functions.<name>`; Durable hands that to
   * the orchestration as the activity's failure. The real host then restarts the worker process; this
   * one cannot (the engine lives in it), so the abandoned call keeps running unseen and its result is dropped.
   */
  private async withFunctionTimeout<T>(functionName: string, invocationId: string, run: () => Promise<T>): Promise<T> {
    const ms = this.functionTimeoutMs;
    if (ms === null) return run();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const t = formatTimeSpan(ms);
        this.logger.error(
          'Host.Function',
          `Timeout value of ${t} exceeded by function 'Functions.${functionName}' (Id: '${invocationId}'). Initiating cancellation.`,
          { invocationId, functionName },
        );
        const err = new Error(`Timeout value of ${t} was exceeded by function: Functions.${functionName}`);
        err.name = 'FunctionTimeoutException';
        reject(err);
      }, ms);
    });
    try {
      return await Promise.race([run(), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  private runLogHooks(
    entry: { level: string; category: string; message: string },
    invocationContext: unknown,
  ): typeof entry {
    const init: Record<string, unknown> = { ...entry, invocationContext, hookData: {}, appHookData: this.appHookData };
    for (const hook of this.hooks.log) {
      try {
        hook(init);
      } catch (e) {
        this.logger.error('Worker', `log hook failed: ${(e as Error).message}`);
      }
    }
    return { level: String(init.level), category: entry.category, message: String(init.message) };
  }
}

/**
 * One line about what a function threw. A failing orchestrator throws its whole state behind
 * `$OutOfProcData$:`; the user's error is in it, the rest is not worth a log line.
 */
export function describeFailure(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const at = message.indexOf('$OutOfProcData$:');
  if (at >= 0) {
    try {
      const state = JSON.parse(message.slice(at + '$OutOfProcData$:'.length)) as { error?: string };
      return `orchestrator failed: ${firstLine(state.error ?? 'no error message')}`;
    } catch {
      return 'orchestrator failed';
    }
  }
  return firstLine(message);
}

function firstLine(message: string): string {
  const at = message.indexOf('\n');
  return at < 0 ? message : message.slice(0, at);
}

/** Value of an RpcTypedData as the Durable extension would see it, as JSON text. */
export function typedDataToJsonText(data: RpcTypedData | null | undefined): string {
  if (!data) return 'null';
  if (data.json !== undefined && data.json !== null) return data.json;
  if (data.string !== undefined && data.string !== null) return JSON.stringify(data.string);
  if (data.int !== undefined && data.int !== null) return String(data.int);
  if (data.double !== undefined && data.double !== null) return String(data.double);
  if (data.bytes) return JSON.stringify(Buffer.from(data.bytes).toString('base64'));
  return 'null';
}
