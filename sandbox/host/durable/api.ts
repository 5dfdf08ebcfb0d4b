import type { DurableEngine } from './engine';
import { EVENT_NAMES, EventType, HistoryEvent, InstanceState, RuntimeStatus, TERMINAL } from './types';

export interface ApiRequest {
  method: string;
  /** Decoded path segments after the API base (`/durabletask/` or `/runtime/webhooks/durabletask/`). */
  segments: string[];
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Path and query as the request gave them (what a proxy forwards). */
  rawUrl?: string;
}

export interface ApiResponse {
  status: number;
  headers?: Record<string, string>;
  /** Serialized as JSON unless it is a string. */
  body?: unknown;
}

export const WEBHOOK_BASE = '/runtime/webhooks/durabletask';
export const RPC_BASE = '/durabletask';

/** `2018-02-28T05:18:49Z`: the extension prints times without fractions. */
function time(isoText: string): string {
  return isoText.replace(/\.\d+Z$/, 'Z');
}

function parseJson(text: string | null | undefined): unknown {
  if (text === null || text === undefined || text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function flag(query: URLSearchParams, name: string, fallback: boolean): boolean {
  const v = query.get(name);
  return v === null ? fallback : v.toLowerCase() === 'true';
}

/** Request body as JSON text for the task hub; empty means no input. */
function bodyAsJsonText(body: Buffer): { ok: true; text: string | null } | { ok: false } {
  const raw = body.toString('utf8');
  if (raw.trim() === '') return { ok: true, text: null };
  try {
    return { ok: true, text: JSON.stringify(JSON.parse(raw)) };
  } catch {
    return { ok: false };
  }
}

function validInstanceId(id: string): boolean {
  return id.length > 0 && id.length <= 256 && !/[/\\#?\u0000-\u001f\u007f]/.test(id);
}

/**
 * The Durable extension's HTTP surface: the public webhook API and the RPC API that the
 * durable-functions client calls (`rpcBaseUrl`). Both share handlers, as in the extension.
 */
export class DurableApi {
  constructor(
    private readonly engine: DurableEngine,
    private readonly origin: () => string,
    /** When keys are enforced, the key management URLs carry as `code`. */
    private readonly systemKey?: string,
  ) {}

  private commonQuery(): string {
    const q = `taskHub=${encodeURIComponent(this.engine.taskHub)}&connection=Storage`;
    return this.systemKey ? `${q}&code=${encodeURIComponent(this.systemKey)}` : q;
  }

  /** The `durableClient` input binding value. */
  clientData(): Record<string, unknown> {
    const base = `${this.origin()}${WEBHOOK_BASE}`;
    const qs = this.commonQuery();
    return {
      taskHubName: this.engine.taskHub,
      creationUrls: {
        createNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?${qs}`,
        createAndWaitOnNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${qs}`,
      },
      managementUrls: this.managementUrls('INSTANCEID'),
      baseUrl: base,
      requiredQueryStringParameters: qs,
      rpcBaseUrl: `${this.origin()}${RPC_BASE}/`,
    };
  }

  private managementUrls(id: string): Record<string, string> {
    const base = `${this.origin()}${WEBHOOK_BASE}/instances/${id}`;
    const qs = this.commonQuery();
    return {
      id,
      statusQueryGetUri: `${base}?${qs}`,
      sendEventPostUri: `${base}/raiseEvent/{eventName}?${qs}`,
      terminatePostUri: `${base}/terminate?reason={text}&${qs}`,
      rewindPostUri: `${base}/rewind?reason={text}&${qs}`,
      purgeHistoryDeleteUri: `${base}?${qs}`,
      restartPostUri: `${base}/restart?${qs}`,
      suspendPostUri: `${base}/suspend?reason={text}&${qs}`,
      resumePostUri: `${base}/resume?reason={text}&${qs}`,
    };
  }

  private checkStatusResponse(instanceId: string): ApiResponse {
    const urls = this.managementUrls(encodeURIComponent(instanceId));
    urls.id = instanceId;
    return { status: 202, headers: { Location: urls.statusQueryGetUri as string, 'Retry-After': '10' }, body: urls };
  }

  async handle(req: ApiRequest): Promise<ApiResponse> {
    const [head, id, action, arg] = req.segments;
    const method = req.method.toUpperCase();
    if (head === 'orchestrators' && id && method === 'POST' && req.segments.length <= 3)
      return this.start(id, action, req);
    if (head === 'instances') {
      if (!id) {
        if (method === 'GET') return this.query(req);
        if (method === 'DELETE') return this.purgeBy(req);
      } else if (!action) {
        if (method === 'GET') return this.status(id, req);
        if (method === 'DELETE') return this.purge(id);
      } else if (method === 'POST') {
        switch (action) {
          case 'raiseEvent':
            if (arg) return this.raise(id, arg, req);
            break;
          case 'terminate':
            return this.outcome(id, await this.engine.terminate(id, req.query.get('reason') ?? ''));
          case 'suspend':
            return this.outcome(id, await this.engine.suspend(id, req.query.get('reason') ?? ''));
          case 'resume':
            return this.outcome(id, await this.engine.resume(id, req.query.get('reason') ?? ''));
          case 'rewind':
          case 'restart':
            return { status: 501, body: { Message: `${action} is not implemented by the sandbox host` } };
          default:
            break;
        }
      }
    }
    if (head === 'entities')
      return { status: 501, body: { Message: 'Durable entities are not implemented by the sandbox host' } };
    return { status: 404, body: { Message: `No Durable Task API at ${req.method} /${req.segments.join('/')}` } };
  }

  private async start(name: string, instanceId: string | undefined, req: ApiRequest): Promise<ApiResponse> {
    if (!this.engine.isOrchestrator(name)) {
      return {
        status: 400,
        body: { Message: `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function.` },
      };
    }
    if (instanceId !== undefined && !validInstanceId(instanceId)) {
      return {
        status: 400,
        body: {
          Message: `Invalid instance ID '${instanceId}': it must be 1 to 256 characters without /, \\, #, ? or control characters.`,
        },
      };
    }
    const input = bodyAsJsonText(req.body);
    if (!input.ok) return { status: 400, body: { Message: 'Invalid JSON content' } };
    const started = await this.engine.startNew(name, instanceId, input.text);
    if (started.conflict) {
      // The extension's StartNewAsync throws here; its HTTP handler does not catch it.
      return {
        status: 500,
        body: {
          Message: 'An error has occurred.',
          ExceptionMessage: started.conflict,
          ExceptionType: 'System.InvalidOperationException',
        },
      };
    }
    const timeoutSeconds = Number(req.query.get('timeout'));
    if (timeoutSeconds > 0)
      return this.waitFor(started.instanceId, timeoutSeconds, Number(req.query.get('pollingInterval')) || 1);
    return this.checkStatusResponse(started.instanceId);
  }

  private async waitFor(instanceId: string, timeoutSeconds: number, intervalSeconds: number): Promise<ApiResponse> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const st = this.engine.get(instanceId);
      if (st && st.runtimeStatus === 'Completed') return { status: 200, body: parseJson(st.output) };
      if (st && TERMINAL.has(st.runtimeStatus)) return { status: 200, body: this.statusJson(st, false, false, true) };
      if (Date.now() >= deadline) return this.checkStatusResponse(instanceId);
      await new Promise((r) => setTimeout(r, Math.min(intervalSeconds * 1000, Math.max(0, deadline - Date.now()))));
    }
  }

  private status(instanceId: string, req: ApiRequest): ApiResponse {
    const st = this.engine.get(instanceId);
    if (!st) return { status: 404, body: '' };
    const body = this.statusJson(
      st,
      flag(req.query, 'showHistory', false),
      flag(req.query, 'showHistoryOutput', false),
      flag(req.query, 'showInput', true),
    );
    const running: RuntimeStatus[] = ['Pending', 'Running', 'ContinuedAsNew', 'Suspended'];
    if (running.includes(st.runtimeStatus)) {
      return {
        status: 202,
        headers: {
          Location: this.managementUrls(encodeURIComponent(instanceId)).statusQueryGetUri as string,
          'Retry-After': '10',
        },
        body,
      };
    }
    return { status: 200, body };
  }

  statusJson(
    st: InstanceState,
    showHistory: boolean,
    showHistoryOutput: boolean,
    showInput: boolean,
  ): Record<string, unknown> {
    const json: Record<string, unknown> = {
      name: st.name,
      instanceId: st.instanceId,
      runtimeStatus: st.runtimeStatus,
      input: showInput ? parseJson(st.input) : null,
      customStatus: parseJson(st.customStatus),
      output: parseJson(st.output),
      createdTime: time(st.createdTime),
      lastUpdatedTime: time(st.lastUpdatedTime),
    };
    if (showHistory) json.historyEvents = historyForDisplay(st.history, showHistoryOutput, showInput);
    return json;
  }

  private matches(st: InstanceState, query: URLSearchParams): boolean {
    const statuses = (query.get('runtimeStatus') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (statuses.length > 0 && !statuses.includes(st.runtimeStatus)) return false;
    const from = query.get('createdTimeFrom');
    if (from && Date.parse(st.createdTime) < Date.parse(from)) return false;
    const to = query.get('createdTimeTo');
    if (to && Date.parse(st.createdTime) > Date.parse(to)) return false;
    const prefix = query.get('instanceIdPrefix');
    if (prefix && !st.instanceId.startsWith(prefix)) return false;
    return true;
  }

  /**
   * Pages through `top` instances at a time with `x-ms-continuation-token`, as the extension does
   * (HttpApiHandler.cs: `top` is the page size, the token comes in and goes out in that header; no
   * `top` means the query's default of 100). On Azure Storage the instances come from the Instances
   * table, whose PartitionKey is the instance id: a table query answers in PartitionKey order and its
   * continuation names the next key (Query Entities, "Query timeout and pagination"). So here too:
   * ordered by instance id, the token is the last id answered, and the next page starts after it,
   * whatever was created or purged meanwhile.
   */
  private query(req: ApiRequest): ApiResponse {
    const tokenHeader = req.headers['x-ms-continuation-token'];
    const token = Array.isArray(tokenHeader) ? tokenHeader[0] : tokenHeader;
    const after = token ? Buffer.from(token, 'base64').toString('utf8') : undefined;
    const all = this.engine
      .instances()
      .filter((st) => this.matches(st, req.query) && (after === undefined || st.instanceId > after))
      .sort((a, b) => (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0));
    const top = Number(req.query.get('top')) > 0 ? Number(req.query.get('top')) : 100;
    const page = all.slice(0, top);
    const showInput = flag(req.query, 'showInput', true);
    const headers: Record<string, string> = {};
    if (page.length < all.length)
      headers['x-ms-continuation-token'] = Buffer.from(page[page.length - 1]!.instanceId, 'utf8').toString('base64');
    return { status: 200, headers, body: page.map((st) => this.statusJson(st, false, false, showInput)) };
  }

  private async purge(instanceId: string): Promise<ApiResponse> {
    const result = await this.engine.purge(instanceId);
    if (result === 'notFound') return { status: 404, body: '' };
    return { status: 200, body: { instancesDeleted: result === 'deleted' ? 1 : 0 } };
  }

  /**
   * Purge by filter, as the extension's HandleDeleteHistoryWithFiltersRequestAsync (HttpApiHandler.cs):
   * createdTimeFrom is required (400 without it), createdTimeTo defaults to now, 404 when nothing
   * was deleted.
   */
  private async purgeBy(req: ApiRequest): Promise<ApiResponse> {
    const from = req.query.get('createdTimeFrom');
    if (!from || Number.isNaN(Date.parse(from)))
      return { status: 400, body: "Please provide value for 'createdTimeFrom' parameter." };
    let deleted = 0;
    for (const st of this.engine.instances().filter((s) => this.matches(s, req.query))) {
      if ((await this.engine.purge(st.instanceId)) === 'deleted') deleted++;
    }
    if (deleted === 0) return { status: 404, body: '' };
    return { status: 200, body: { instancesDeleted: deleted } };
  }

  private async raise(instanceId: string, eventName: string, req: ApiRequest): Promise<ApiResponse> {
    const input = bodyAsJsonText(req.body);
    if (!input.ok) return { status: 400, body: { Message: 'Invalid JSON content' } };
    return this.outcome(instanceId, await this.engine.raiseEvent(instanceId, eventName, input.text));
  }

  private outcome(instanceId: string, outcome: 'ok' | 'notFound' | 'gone'): ApiResponse {
    if (outcome === 'notFound') return { status: 404, body: { Message: `No instance with ID '${instanceId}' found.` } };
    if (outcome === 'gone')
      return { status: 410, body: { Message: `The instance '${instanceId}' has already finished.` } };
    return { status: 202, body: '' };
  }
}

/** History as the status API shows it: scheduling folded into completions, outputs only when asked. */
function historyForDisplay(
  history: HistoryEvent[],
  showOutput: boolean,
  showInput: boolean,
): Array<Record<string, unknown>> {
  const scheduled = new Map<number, HistoryEvent>();
  const out: Array<Record<string, unknown>> = [];
  for (const e of history) {
    const type = EVENT_NAMES[e.EventType] ?? String(e.EventType);
    switch (e.EventType) {
      case EventType.OrchestratorStarted:
      case EventType.OrchestratorCompleted:
        break;
      case EventType.TaskScheduled:
      case EventType.SubOrchestrationInstanceCreated:
      case EventType.TimerCreated:
        scheduled.set(e.EventId, e);
        break;
      case EventType.ExecutionStarted:
        out.push({
          EventType: type,
          FunctionName: e.Name,
          Timestamp: e.Timestamp,
          ...(showInput ? { Input: parseJson(e.Input as string) } : {}),
        });
        break;
      case EventType.TaskCompleted:
      case EventType.SubOrchestrationInstanceCompleted:
      case EventType.TaskFailed:
      case EventType.SubOrchestrationInstanceFailed: {
        const s = scheduled.get(e.TaskScheduledId as number);
        const failed = e.EventType === EventType.TaskFailed || e.EventType === EventType.SubOrchestrationInstanceFailed;
        out.push({
          EventType: type,
          FunctionName: s?.Name,
          ScheduledTime: s?.Timestamp,
          Timestamp: e.Timestamp,
          // A failure always says why; a result only when outputs are asked for.
          ...(failed
            ? { Reason: e.Reason, Details: e.Details }
            : showOutput
              ? { Result: parseJson(e.Result as string) }
              : {}),
        });
        break;
      }
      case EventType.TimerFired:
        out.push({ EventType: type, FireAt: e.FireAt, Timestamp: e.Timestamp });
        break;
      case EventType.EventRaised:
        out.push({
          EventType: type,
          Name: e.Name,
          Timestamp: e.Timestamp,
          ...(showOutput ? { Input: parseJson(e.Input as string) } : {}),
        });
        break;
      case EventType.ExecutionCompleted:
        out.push({
          EventType: type,
          OrchestrationStatus: e.OrchestrationStatus,
          Timestamp: e.Timestamp,
          ...(showOutput ? { Result: parseJson(e.Result as string) } : {}),
        });
        break;
      default:
        out.push({ EventType: type, Timestamp: e.Timestamp });
    }
  }
  return out;
}
