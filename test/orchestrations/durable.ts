/**
 * Reading orchestrations on the sandbox host: instance status and history through the Durable
 * status API (as an operator would), the raw history the host keeps in its task hub storage
 * (which alone shows TimerCreated and TaskScheduled events: the status API folds them into
 * the completions), and seeds with products of their own so runs in one sandbox never share
 * a product's single pending submission.
 */
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { instanceIdFor } from '../../lib/instanceId';
import { defaultSeed, type SeedApplication, type SeedData } from '../../sandbox/emulator';
import { containerNameFor } from '../../sandbox/host/storage';
import { EventType } from '../../sandbox/host/durable/types';
import type { TestSandbox } from '../helpers/sandbox';

/** One event of `historyEvents` as the status API shows it. */
export interface ShownEvent {
  EventType: string;
  FunctionName?: string;
  Timestamp: string;
  ScheduledTime?: string;
  FireAt?: string;
  Reason?: string;
  Details?: string;
  Input?: unknown;
  Result?: unknown;
  OrchestrationStatus?: string;
}

export interface InstanceStatus {
  name: string;
  instanceId: string;
  runtimeStatus: string;
  input: unknown;
  customStatus: unknown;
  output: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  historyEvents?: ShownEvent[];
}

/** A history event as the host stores it (EventType numbered as durable-functions reads them). */
export interface RawEvent {
  EventType: number;
  EventId: number;
  Timestamp: string;
  Name?: string;
  FireAt?: string;
  TaskScheduledId?: number;
  TimerId?: number;
  [key: string]: unknown;
}

export const RAW = {
  ExecutionStarted: 0,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
} as const;

const WEBHOOK = '/runtime/webhooks/durabletask/instances';

/** Status of one instance with its full history, or undefined when the host does not know it. */
export async function instance(sandbox: TestSandbox, instanceId: string): Promise<InstanceStatus | undefined> {
  const response = await sandbox.host.fetch(
    `${WEBHOOK}/${encodeURIComponent(instanceId)}?showHistory=true&showHistoryOutput=true&showInput=true`,
  );
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`GET instance ${instanceId}: ${response.status} ${await response.text()}`);
  return (await response.json()) as InstanceStatus;
}

/** Every instance of the sandbox's task hub (no history). */
export async function allInstances(sandbox: TestSandbox): Promise<InstanceStatus[]> {
  const out: InstanceStatus[] = [];
  let token: string | null = null;
  do {
    const response: Response = await sandbox.host.fetch(`${WEBHOOK}?top=100`, {
      headers: token ? { 'x-ms-continuation-token': token } : {},
    });
    if (!response.ok) throw new Error(`GET instances: ${response.status} ${await response.text()}`);
    out.push(...((await response.json()) as InstanceStatus[]));
    token = response.headers.get('x-ms-continuation-token');
  } while (token);
  return out;
}

/** Activity and sub-orchestration names in the order they ended, as the shown history lists them. */
export function taskSequence(history: ShownEvent[]): string[] {
  return history
    .filter((e) => /^(TaskCompleted|TaskFailed|SubOrchestrationInstance(Completed|Failed))$/.test(e.EventType))
    .map((e) => `${e.FunctionName}`);
}

const HOME_HUB = /^Task hub '([^']+)' loaded/;
const REAL_HUB = /^Durable Task extension on task hub '([^']+)'/;

/** The task hub the sandbox's host logged at start, and which engine serves it. */
export function taskHubOf(sandbox: TestSandbox): { taskHub: string; engine: 'home' | 'real' } {
  for (const l of sandbox.logs) {
    const home = HOME_HUB.exec(l.message)?.[1];
    if (home) return { taskHub: home, engine: 'home' };
    const real = REAL_HUB.exec(l.message)?.[1];
    if (real) return { taskHub: real, engine: 'real' };
  }
  throw new Error('the host did not log its task hub');
}

/** The current execution's history as the engine stores it. */
export async function rawHistory(sandbox: TestSandbox, instanceId: string): Promise<RawEvent[]> {
  const { taskHub, engine } = taskHubOf(sandbox);
  return engine === 'real' ? extensionHistory(sandbox, taskHub, instanceId) : homeHistory(sandbox, taskHub, instanceId);
}

async function homeHistory(sandbox: TestSandbox, taskHub: string, instanceId: string): Promise<RawEvent[]> {
  const container = BlobServiceClient.fromConnectionString(sandbox.settings.AzureWebJobsStorage!).getContainerClient(
    containerNameFor(taskHub, 'sandboxhost'),
  );
  // One GET: downloadToBuffer reads the size first and then the bytes, which tears when the
  // host rewrites the blob in between.
  const response = await container.getBlobClient(`instances/${encodeURIComponent(instanceId)}.json`).download();
  const chunks: Buffer[] = [];
  for await (const chunk of response.readableStreamBody!) chunks.push(Buffer.from(chunk as Buffer));
  return (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { history: RawEvent[] }).history;
}

const iso = (v: unknown): string | undefined =>
  v instanceof Date ? v.toISOString() : typeof v === 'string' ? new Date(v).toISOString() : undefined;

/**
 * The Azure Storage provider's History table (`<TaskHub>History`): one row per event of the
 * instance, keyed by sequence number, the event's own Timestamp stored as `_Timestamp` (the
 * table reserves the name); rows of the current execution only (the sentinel row names it).
 */
async function extensionHistory(sandbox: TestSandbox, taskHub: string, instanceId: string): Promise<RawEvent[]> {
  const table = TableClient.fromConnectionString(sandbox.settings.AzureWebJobsStorage!, `${taskHub}History`, {
    allowInsecureConnection: true,
  });
  const rows: Array<Record<string, unknown>> = [];
  const escaped = instanceId.replace(/'/g, "''");
  for await (const row of table.listEntities({ queryOptions: { filter: `PartitionKey eq '${escaped}'` } }))
    rows.push(row);
  const executionId = rows.find((r) => r.rowKey === 'sentinel')?.ExecutionId;
  return rows
    .filter((r) => r.rowKey !== 'sentinel' && (executionId === undefined || r.ExecutionId === executionId))
    .sort((a, b) => String(a.rowKey).localeCompare(String(b.rowKey)))
    .map((r) => {
      const type = r.EventType;
      const { partitionKey: _p, rowKey: _r, etag: _e, timestamp: _t, _Timestamp, EventType: _type, ...rest } = r;
      return {
        ...rest,
        EventType: typeof type === 'number' ? type : EventType[String(type) as keyof typeof EventType],
        EventId: Number(r.EventId ?? -1),
        Timestamp: iso(_Timestamp) ?? '',
        ...(r.FireAt !== undefined ? { FireAt: iso(r.FireAt) } : {}),
      };
    });
}

/** Drops a zip and resolves to the run's instance id. */
export async function dropRun(sandbox: TestSandbox, name: string, zip: Buffer): Promise<string> {
  const etag = await sandbox.drop(name, zip);
  return instanceIdFor(sandbox.submissions.containerName, name, etag);
}

/**
 * The default seed plus one app per id, each a copy of the demo app with its own published
 * submission: runs on different apps can go side by side.
 */
export function seedWithApps(...ids: string[]): SeedData {
  const seed = defaultSeed();
  const demo = seed.applications!.find((a) => a.id === '9NBLGGH4R315')!;
  const copies: SeedApplication[] = ids.map((id) => {
    const { id: _publishedId, ...published } = demo.published!;
    // The demo app's identity, so the sandbox's test packages (packageFor) belong to every copy.
    return {
      id,
      primaryName: `Test app ${id}`,
      packageIdentityName: demo.packageIdentityName,
      publisherName: demo.publisherName,
      published,
    };
  });
  return { ...seed, applications: [...seed.applications!, ...copies] };
}

/** Virtual milliseconds between two ISO times. */
export function msBetween(from: string, to: string): number {
  return Date.parse(to) - Date.parse(from);
}
