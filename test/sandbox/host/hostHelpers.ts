import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import type { RunningHost } from '../../../sandbox/host';
import { eventually } from '../../helpers/eventually';

const REPO = resolve(__dirname, '..', '..', '..');

export function fixture(name: string): string {
  return join(__dirname, 'fixtures', name);
}

/** The host runs from dist/: refuse to test a build older than the sources. */
export function ensureBuilt(): void {
  const src = join(REPO, 'sandbox', 'host');
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
    );
  for (const file of walk(src)) {
    const built = join(REPO, 'dist', relative(REPO, file)).replace(/\.ts$/, '.js');
    if (!existsSync(built) || statSync(built).mtimeMs < statSync(file).mtimeMs) {
      throw new Error(
        `${relative(REPO, built)} is missing or older than its source: run \`npx tsc -p tsconfig.json\` first`,
      );
    }
  }
}

/** A copy of a fixture app outside the repo that still resolves the repo's node_modules. */
export function tempApp(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `host-${name}-`));
  cpSync(fixture(name), dir, { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

export function uniqueHub(): string {
  return `T${randomBytes(6).toString('hex')}`;
}

/** Polls `probe` with the suite's patience; errors while the host starts count as not yet. */
export function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  options: { everyMs?: number } = {},
): Promise<T> {
  return eventually(what, probe, { everyMs: options.everyMs ?? 100, retryErrors: true });
}

export interface StatusJson {
  name: string;
  instanceId: string;
  runtimeStatus: string;
  input: unknown;
  output: unknown;
  customStatus: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  historyEvents?: Array<Record<string, unknown>>;
}

export async function status(host: RunningHost, id: string, query = ''): Promise<{ code: number; body: StatusJson }> {
  const res = await host.fetch(`/runtime/webhooks/durabletask/instances/${encodeURIComponent(id)}?taskHub=x${query}`);
  const text = await res.text();
  return { code: res.status, body: (text ? JSON.parse(text) : undefined) as StatusJson };
}

export function waitForStatus(host: RunningHost, id: string, wanted: string[], query = ''): Promise<StatusJson> {
  return waitFor(`instance ${id} to be ${wanted.join('/')}`, async () => {
    const s = await status(host, id, query);
    return s.body && wanted.includes(s.body.runtimeStatus) ? s.body : undefined;
  });
}

export async function startOrchestration(
  host: RunningHost,
  name: string,
  input?: unknown,
  instanceId?: string,
): Promise<string> {
  const res = await host.fetch(
    `/runtime/webhooks/durabletask/orchestrators/${name}${instanceId ? `/${instanceId}` : ''}`,
    {
      method: 'POST',
      body: input === undefined ? '' : JSON.stringify(input),
    },
  );
  if (res.status !== 202) throw new Error(`start ${name}: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

/** The host's persisted state of an instance, to check the exact history it delivered. */
export async function persistedState(
  connectionString: string,
  taskHub: string,
  instanceId: string,
): Promise<{ history: Array<Record<string, unknown>> }> {
  const container = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(
    `${taskHub.toLowerCase()}-sandboxhost`,
  );
  const buf = await container.getBlobClient(`instances/${encodeURIComponent(instanceId)}.json`).downloadToBuffer();
  return JSON.parse(buf.toString('utf8')) as { history: Array<Record<string, unknown>> };
}
