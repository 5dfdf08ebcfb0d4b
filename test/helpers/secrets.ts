/**
 * The leak check: every secret the Store emulator ever handed out (the client secret, every
 * access token, every SAS signature), and the app's notification secrets when the sandbox has
 * them (the webhook HMAC secret, the Event Grid topic key), searched for in everything the product wrote or
 * answered: orchestration status and full history of every instance (through the status API
 * and in the task hub's own storage, which also holds activity inputs), the app's HTTP API,
 * report blobs, the zips' metadata, host log lines and the host log file.
 *
 *   afterEach(async () => expect(await findLeakedSecrets(sandbox)).toEqual([]));
 *
 * A finding names the kind of secret, the spelling it was found in and where, never the
 * secret itself (test output is a place too).
 */
import { readFile } from 'node:fs/promises';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { SETTINGS } from '../../lib/config';
import type { EmulatorSecrets } from '../../sandbox/emulator';
import type { HostLogLine } from '../../sandbox/host';
import { containerNameFor } from '../../sandbox/host/storage';
import type { Sandbox } from '../../sandbox/stack';

/** What the check needs of a sandbox; a TestSandbox's collected `logs` are used when present. */
export type LeakCheckedSandbox = Pick<Sandbox, 'emulator' | 'host' | 'settings' | 'reports' | 'submissions'> & {
  logs?: HostLogLine[];
};

export interface LeakText {
  /** Where the text came from, for the finding: "POST /api/submissions response". */
  where: string;
  text: string;
}

export interface LeakCheckOptions {
  /** Texts the test itself received (HTTP response bodies and headers, CLI output, ...). */
  texts?: Array<LeakText | string>;
  /** The host's log file, when it was started with one. */
  logFile?: string;
  /** The key to read the host's APIs with; default: the host's master key (it opens the app and the Durable webhooks). */
  functionKey?: string;
  /** Task hub of the host; read from the host's start-up log line when absent. */
  taskHub?: string;
}

export interface Needle {
  secret: string;
  /** "access token #2", "client secret", "SAS signature #1". */
  label: string;
  form: string;
  text: string;
}

/** A secret this long or longer is also looked for by its first PREFIX_LENGTH characters: a cut-off secret is still a leak. */
const PREFIX_LENGTH = 24;
const CONCURRENCY = 16;

/** Every spelling a secret may be written in: as is, percent-encoded (either case), form-decoded, base64. */
function needlesFor(secret: string, label: string): Needle[] {
  const forms = new Map<string, string>();
  const add = (form: string, text: string): void => {
    if (text && !forms.has(text)) forms.set(text, form);
  };
  add('raw', secret);
  const encoded = encodeURIComponent(secret);
  add('URL-encoded', encoded);
  add(
    'URL-encoded (lower-case hex)',
    encoded.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
  );
  add('URL-encoded but +', encoded.replace(/%2B/g, '+'));
  add('+ only encoded', secret.replace(/\+/g, '%2B'));
  if (secret.includes('+')) add('form-decoded (+ as space)', secret.replace(/\+/g, ' '));
  add('base64', Buffer.from(secret, 'utf8').toString('base64'));
  if (secret.length >= PREFIX_LENGTH + 8) add(`first ${PREFIX_LENGTH} characters`, secret.slice(0, PREFIX_LENGTH));
  return [...forms].map(([text, form]) => ({ secret, label, form, text }));
}

/** The app settings that hold secrets of the app's own (not the Store's), each with its label in a finding. */
const SECRET_SETTINGS: Record<string, string> = {
  [SETTINGS.notifyWebhookSecret]: 'webhook HMAC secret',
  [SETTINGS.notifyEventGridKey]: 'Event Grid topic key',
};

/** Every secret of the emulator with every spelling; `all` catches forms the emulator knows of that we do not. */
export function secretNeedles(secrets: EmulatorSecrets, settings: Record<string, string> = {}): Needle[] {
  const labelled = new Map<string, string>();
  for (const [name, label] of Object.entries(SECRET_SETTINGS)) if (settings[name]) labelled.set(settings[name], label);
  labelled.set(secrets.clientSecret, 'client secret');
  secrets.accessTokens.forEach((t, i) => labelled.set(t, `access token #${i + 1}`));
  secrets.sasSignatures.forEach((s, i) => labelled.set(s, `SAS signature #${i + 1}`));
  const needles = [...labelled].flatMap(([secret, label]) => needlesFor(secret, label));
  const known = new Set(needles.map((n) => n.text));
  for (const text of secrets.all) {
    if (!known.has(text)) needles.push({ secret: text, label: 'secret (emulator form)', form: 'as listed', text });
  }
  return needles;
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  });
  await Promise.all(workers);
  return out;
}

function headersText(headers: Headers): string {
  return [...headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n');
}

async function getText(
  url: string,
  key: string | undefined,
  init: RequestInit = {},
): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    ...init,
    headers: { ...(key ? { 'x-functions-key': key } : {}), ...init.headers },
  });
  return { status: response.status, text: `${headersText(response.headers)}\n\n${await response.text()}` };
}

const WEBHOOK = '/runtime/webhooks/durabletask/instances';

/** Every instance of the task hub through the status API's list query, following continuation tokens. */
async function listInstances(
  hostUrl: string,
  key: string | undefined,
  texts: LeakText[],
): Promise<Array<{ instanceId: string; name?: string }>> {
  const all: Array<{ instanceId: string; name?: string }> = [];
  let token: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const response: Response = await fetch(`${hostUrl}${WEBHOOK}?top=100&showInput=true`, {
      headers: { ...(key ? { 'x-functions-key': key } : {}), ...(token ? { 'x-ms-continuation-token': token } : {}) },
    });
    const body = await response.text();
    if (!response.ok) throw new Error(`GET ${WEBHOOK}: ${response.status} ${body}`);
    texts.push({ where: `instance list page ${page + 1}`, text: `${headersText(response.headers)}\n\n${body}` });
    all.push(...(JSON.parse(body) as Array<{ instanceId: string; name?: string }>));
    token = response.headers.get('x-ms-continuation-token');
    if (!token) break;
  }
  return all;
}

async function durableTexts(sandbox: LeakCheckedSandbox, key: string | undefined): Promise<LeakText[]> {
  const texts: LeakText[] = [];
  const listed = await listInstances(sandbox.host.url, key, texts);
  const ids = new Set(listed.map((i) => i.instanceId));
  // Sub-instances are listed too; asking for them by their derived ids as well costs little and
  // does not depend on the list's filters.
  for (const run of listed.filter((i) => i.name === 'submitToStore')) {
    ids.add(`${run.instanceId}-follow`);
    ids.add(`${run.instanceId}-cancel`);
  }
  const runs = listed.filter((i) => i.name === 'submitToStore').map((i) => i.instanceId);
  const query = 'showHistory=true&showHistoryOutput=true&showInput=true';
  const statuses = await mapLimited([...ids], CONCURRENCY, async (id) => {
    const { status, text } = await getText(`${sandbox.host.url}${WEBHOOK}/${encodeURIComponent(id)}?${query}`, key);
    if (status === 404) return undefined;
    return { where: `status and history of instance ${id}`, text };
  });
  // What users read: the app's own status documents.
  const documents = await mapLimited(runs, CONCURRENCY, async (id) => ({
    where: `GET /api/submissions/${id}`,
    text: (await getText(`${sandbox.host.url}/api/submissions/${encodeURIComponent(id)}`, key)).text,
  }));
  const list = {
    where: 'GET /api/submissions',
    text: (await getText(`${sandbox.host.url}/api/submissions`, key)).text,
  };
  return [...texts, ...statuses.filter((s): s is LeakText => !!s), ...documents, list];
}

function hostUnreachable(e: unknown): boolean {
  // fetch fails with a TypeError whose cause says why (several causes when it tried several addresses).
  const cause = (e as { cause?: { code?: string; errors?: Array<{ code?: string }> } }).cause;
  const codes = [cause?.code, ...(cause?.errors ?? []).map((x) => x.code)];
  return (
    (e as Error).name === 'TypeError' &&
    codes.some((c) => ['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET'].includes(c ?? ''))
  );
}

function taskHubOf(sandbox: LeakCheckedSandbox, lines: HostLogLine[], given?: string): string {
  if (given) return given;
  for (const line of lines) {
    const m = /^(?:Task hub '([^']+)' loaded|Durable Task extension on task hub '([^']+)')/.exec(line.message);
    if (m?.[1] ?? m?.[2]) return (m[1] ?? m[2])!;
  }
  throw new Error(
    `findLeakedSecrets: no task hub named in the logs of the host at ${sandbox.host.url}; pass options.taskHub`,
  );
}

/** The blob's text in one GET, so a blob rewritten meanwhile is read whole (downloadToBuffer reads size, then bytes). */
async function wholeBlob(container: ContainerClient, name: string): Promise<string> {
  const response = await container
    .getBlobClient(name)
    .download()
    .catch((e: unknown) => {
      // Gone since it was listed (a purged instance): nothing left to leak.
      if ((e as { statusCode?: number }).statusCode === 404) return undefined;
      throw e;
    });
  if (!response?.readableStreamBody) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of response.readableStreamBody) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** The container where the sandbox host keeps its task hub's instances (history, inputs, outbox). */
export function taskHubStorage(sandbox: LeakCheckedSandbox, taskHub?: string): ContainerClient {
  const lines = sandbox.logs ?? sandbox.host.logs();
  const storage = BlobServiceClient.fromConnectionString(sandbox.settings.AzureWebJobsStorage!);
  return storage.getContainerClient(containerNameFor(taskHubOf(sandbox, lines, taskHub), 'sandboxhost'));
}

async function containerTexts(container: ContainerClient, what: string, withContent: boolean): Promise<LeakText[]> {
  if (!(await container.exists())) return [];
  const items: Array<{ name: string; metadata?: Record<string, string> }> = [];
  for await (const item of container.listBlobsFlat({ includeMetadata: true })) items.push(item);
  return mapLimited(items, CONCURRENCY, async (item) => {
    const metadata = `metadata ${JSON.stringify(item.metadata ?? {})}`;
    const content = withContent ? await wholeBlob(container, item.name) : '';
    return { where: `${what} ${container.containerName}/${item.name}`, text: `${item.name}\n${metadata}\n${content}` };
  });
}

/** Whether the sandbox's host runs the real Durable Task extension (it logs its task hub that way). */
function onExtension(lines: HostLogLine[]): boolean {
  return lines.some((l) => /^Durable Task extension on task hub '/.test(l.message));
}

/**
 * The extension's task hub state on the Azure Storage provider: the History and Instances tables
 * (every event with its inputs and results, custom status, outputs) and the large-message blobs.
 */
async function extensionHubTexts(sandbox: LeakCheckedSandbox, taskHub: string): Promise<LeakText[]> {
  const conn = sandbox.settings.AzureWebJobsStorage!;
  const out: LeakText[] = [];
  for (const table of [`${taskHub}History`, `${taskHub}Instances`]) {
    const client = TableClient.fromConnectionString(conn, table, { allowInsecureConnection: true });
    try {
      for await (const row of client.listEntities())
        out.push({ where: `task hub table ${table} ${row.partitionKey}/${row.rowKey}`, text: JSON.stringify(row) });
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode !== 404) throw e;
    }
  }
  const blobs = BlobServiceClient.fromConnectionString(conn).getContainerClient(
    `${taskHub.toLowerCase()}-largemessages`,
  );
  out.push(...(await containerTexts(blobs, 'task hub large message', true)));
  return out;
}

/**
 * Searches everything the product persisted, logged or answered for the emulator's secrets.
 * Resolves to one line per finding (kind of secret, spelling, where), `[]` when nothing leaked.
 */
export async function findLeakedSecrets(
  sandbox: LeakCheckedSandbox,
  options: LeakCheckOptions = {},
): Promise<string[]> {
  const secrets = await sandbox.emulator.admin.secrets();
  const needles = secretNeedles(secrets, sandbox.settings);
  const lines = sandbox.logs ?? sandbox.host.logs();
  const extension = onExtension(lines);
  const hub = extension ? undefined : taskHubStorage(sandbox, options.taskHub);

  const given: LeakText[] = (options.texts ?? []).map((t, i) =>
    typeof t === 'string' ? { where: `text #${i + 1} given by the test`, text: t } : t,
  );
  const [durable, hubBlobs, reports, zips, logFile] = await Promise.all([
    // A host that was stopped or killed (reliability scenarios do that) cannot answer; everything
    // its API would show is in the task hub's storage, searched below either way.
    durableTexts(sandbox, options.functionKey ?? sandbox.host.keys?.master).catch((e: unknown) => {
      if (hostUnreachable(e)) return [];
      throw e;
    }),
    // The task hub's state holds what the status API folds away: activity inputs, timers, the outbox.
    hub
      ? containerTexts(hub, 'task hub state', true)
      : extensionHubTexts(sandbox, taskHubOf(sandbox, lines, options.taskHub)),
    containerTexts(sandbox.reports, 'report blob', true),
    // The zips are the user's: their content is not ours to search, their metadata is.
    containerTexts(sandbox.submissions, 'zip', false),
    options.logFile ? readFile(options.logFile, 'utf8').catch(() => '') : Promise.resolve(''),
  ]);
  const texts: LeakText[] = [
    ...given,
    ...durable,
    ...hubBlobs,
    ...reports,
    ...zips,
    ...lines.map((line, i) => ({ where: `host log line ${i + 1} (${line.category})`, text: JSON.stringify(line) })),
  ];
  if (logFile) texts.push({ where: `host log file ${options.logFile}`, text: logFile });

  const findings: string[] = [];
  for (const { where, text } of texts) {
    // One finding per secret and place: the most complete spelling found.
    const seen = new Set<string>();
    for (const needle of needles) {
      if (seen.has(needle.secret) || !text.includes(needle.text)) continue;
      seen.add(needle.secret);
      findings.push(`${needle.label} (${needle.form}) in ${where}`);
    }
  }
  return findings;
}

/**
 * Writes `text` where the engine keeps an instance's state (the home engine's instance blob, the
 * extension's History table), as an activity input would sit there. Resolves to its remover.
 */
export async function plantInTaskHub(sandbox: LeakCheckedSandbox, text: string): Promise<() => Promise<void>> {
  const lines = sandbox.logs ?? sandbox.host.logs();
  if (onExtension(lines)) {
    const table = TableClient.fromConnectionString(
      sandbox.settings.AzureWebJobsStorage!,
      `${taskHubOf(sandbox, lines)}History`,
      { allowInsecureConnection: true },
    );
    await table.createEntity({ partitionKey: 'planted', rowKey: 'planted', EventType: 'TaskScheduled', Input: text });
    return async () => {
      await table.deleteEntity('planted', 'planted');
    };
  }
  const blob = taskHubStorage(sandbox).getBlockBlobClient('instances/planted.json');
  await blob.upload(text, Buffer.byteLength(text));
  return async () => {
    await blob.delete();
  };
}
