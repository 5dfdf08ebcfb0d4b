import { BlobServiceClient } from '@azure/storage-blob';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { startAzurite, type Azurite } from './azurite';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from './emulator';
import { startHost, type HostOptions, type RunningHost } from './host';
import { startEventGridTopic, type DeliverySchema, type RunningTopic } from './eventGridTopic';
import { assertPortsFree, type PortClaim } from './processes';

/** The task hub `npm run sandbox` uses: its own, so that it never shares one with an app on the same storage. */
export const SANDBOX_TASK_HUB = 'StoreSubmitterSandbox';

/** The product's app settings for a sandbox: everything points at the local parts. */
export function sandboxSettings(
  azurite: Pick<Azurite, 'connectionString'>,
  emulator: RunningEmulator,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    FUNCTIONS_WORKER_RUNTIME: 'node',
    AzureWebJobsStorage: azurite.connectionString,
    // host.json takes the hub from it; the host's taskHub option (tests, benches) replaces it.
    TASK_HUB_NAME: SANDBOX_TASK_HUB,
    // The history purge at 03:30 UTC every day; tests fire it through the admin API.
    PURGE_SCHEDULE: '0 30 3 * * *',
    SUBMISSIONS_STORAGE: azurite.connectionString,
    SUBMISSIONS_CONTAINER: 'submissions',
    REPORTS_CONTAINER: 'submission-reports',
    STORE_TENANT_ID: emulator.tenantId,
    STORE_CLIENT_ID: emulator.clientId,
    STORE_CLIENT_SECRET: emulator.clientSecret,
    STORE_AUTHORITY_HOST: emulator.authorityHost,
    STORE_API_BASE_URL: emulator.apiBaseUrl,
    // The MSI/EXE submission API is on the emulator's listener too, under /submission/v1/.
    STORE_WIN32_API_BASE_URL: emulator.win32.apiBaseUrl,
    STORE_SELLER_ID: emulator.win32.sellerId,
    // The emulated token endpoint serves TLS with the sandbox's own CA; MSAL insists on https.
    NODE_EXTRA_CA_CERTS: emulator.caCertPath,
    POLL_FIRST_INTERVAL_SECONDS: '2',
    POLL_MAX_INTERVAL_SECONDS: '5',
    STORE_REQUEST_TIMEOUT_SECONDS: '20',
    ...extra,
  };
}

export interface SandboxOptions {
  /** Fixed ports (the CLI uses 10000-10002, 7080/7443 and 7071); free ports when absent. */
  ports?: { blob?: number; queue?: number; table?: number; emulator?: number; emulatorTls?: number; host?: number };
  emulator?: Pick<EmulatorOptions, 'seed' | 'config' | 'win32'>;
  host?: Pick<
    HostOptions,
    | 'clockSpeed'
    | 'blobPollIntervalMs'
    | 'logFile'
    | 'onLog'
    | 'taskHub'
    | 'durable'
    | 'queuePollingMs'
    | 'workItemVisibilityMs'
    | 'enforceKeys'
    | 'plan'
  >;
  /** App settings to add or change. */
  settings?: Record<string, string>;
  /**
   * With the host as Flex Consumption (`host.plan: 'flex'`) the blob trigger takes Event Grid as its
   * source (`SUBMISSIONS_TRIGGER_SOURCE=EventGrid`) and a sandbox Event Grid topic on the submissions
   * container delivers to its webhook, in this schema (default the Event Grid schema, as infra/eventgrid.bicep).
   */
  eventGridSchema?: DeliverySchema;
  /** Reuse a running Azurite (tests share one) instead of starting one. */
  azurite?: Pick<Azurite, 'connectionString' | 'ingestConnectionString'>;
}

export interface Sandbox {
  azurite: Pick<Azurite, 'connectionString' | 'ingestConnectionString'>;
  emulator: RunningEmulator;
  host: RunningHost;
  settings: Record<string, string>;
  /** The submissions container, created. */
  submissions: ReturnType<BlobServiceClient['getContainerClient']>;
  reports: ReturnType<BlobServiceClient['getContainerClient']>;
  /** The Event Grid topic feeding the blob trigger, on Flex. */
  topic?: RunningTopic;
  stop(): Promise<void>;
}

/** The repository root, found from either the TypeScript source or its build in dist/. */
export function repoRoot(from: string = __dirname): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'host.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`No project root (package.json + host.json) above ${from}`);
  }
}

/** What each fixed port is for, and the `npm run sandbox` option that moves it. */
const PORT_CLAIMS: Record<keyof NonNullable<SandboxOptions['ports']>, Omit<PortClaim, 'port'>> = {
  blob: { what: 'Azurite blob service', flag: '--blob-port' },
  queue: { what: 'Azurite queue service', flag: '--queue-port' },
  table: { what: 'Azurite table service', flag: '--table-port' },
  emulator: { what: 'Store API emulator', flag: '--emulator-port' },
  emulatorTls: { what: 'token endpoint (TLS)', flag: '--emulator-tls-port' },
  host: { what: 'Functions host', flag: '--host-port' },
};

/** The blob extension's webhook for one function, with the key the host requires (`blobs_extension`). */
export function blobWebhookUrl(host: Pick<RunningHost, 'url' | 'keys'>, functionName: string): string {
  const key = host.keys?.system.blobs_extension;
  return `${host.url}/runtime/webhooks/blobs?functionName=Host.Functions.${functionName}${key ? `&code=${encodeURIComponent(key)}` : ''}`;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  // Every fixed port is checked before anything starts: a leftover process is named, with its id.
  const fixed = Object.entries(options.ports ?? {}).filter(
    (e): e is [keyof typeof PORT_CLAIMS, number] => typeof e[1] === 'number' && e[1] > 0,
  );
  if (options.azurite) fixed.splice(0, fixed.length, ...fixed.filter(([k]) => !['blob', 'queue', 'table'].includes(k)));
  await assertPortsFree(fixed.map(([k, port]) => ({ port, ...PORT_CLAIMS[k] })));
  const started: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const s of started.reverse()) await s().catch(() => undefined);
  };
  try {
    let azurite = options.azurite;
    if (!azurite) {
      const own = await startAzurite({
        blobPort: options.ports?.blob,
        queuePort: options.ports?.queue,
        tablePort: options.ports?.table,
      });
      started.push(() => own.stop());
      azurite = own;
    }
    const emulator = await startEmulator({
      port: options.ports?.emulator,
      tlsPort: options.ports?.emulatorTls,
      ingestConnectionString: azurite.ingestConnectionString,
      seed: options.emulator?.seed,
      config: options.emulator?.config,
      win32: options.emulator?.win32,
    });
    started.push(() => emulator.stop());
    const flex = options.host?.plan === 'flex';
    const settings = sandboxSettings(azurite, emulator, {
      ...(flex ? { SUBMISSIONS_TRIGGER_SOURCE: 'EventGrid' } : {}),
      ...options.settings,
    });
    const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const submissions = service.getContainerClient(settings.SUBMISSIONS_CONTAINER!);
    const reports = service.getContainerClient(settings.REPORTS_CONTAINER!);
    await submissions.createIfNotExists();
    const host = await startHost({ appDir: repoRoot(), port: options.ports?.host, settings, ...options.host });
    started.push(() => host.stop());
    let topic: RunningTopic | undefined;
    if (settings.SUBMISSIONS_TRIGGER_SOURCE === 'EventGrid') {
      // The subscription infra/eventgrid.bicep makes: .zip blobs of the container, to the webhook.
      const own = await startEventGridTopic({
        container: submissions,
        // With the blob extension's system key, as the postdeploy hook subscribes (tools/postdeploy.ts).
        endpoint: blobWebhookUrl(host, 'submissionBlobTrigger'),
        schema: options.eventGridSchema,
        subjectEndsWith: '.zip',
        pollIntervalMs: options.host?.blobPollIntervalMs,
      });
      started.push(() => own.stop());
      topic = own;
    }
    return { azurite, emulator, host, settings, submissions, reports, topic, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
