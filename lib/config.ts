import { ConfigurationError } from './errors';

/**
 * Every app setting the product reads, named once. Bindings refer to the same names
 * (`%SUBMISSIONS_CONTAINER%`, `connection: 'SUBMISSIONS_STORAGE'`), so the table in the
 * README, local.settings.example.json and this file are the whole contract.
 */
export const SETTINGS = {
  /**
   * The Durable task hub (host.json `"hubName": "%TASK_HUB_NAME%"`): one per app and per slot on a
   * storage account, or two apps run each other's instances. Slot-sticky in infra/resources.bicep.
   */
  taskHubName: 'TASK_HUB_NAME',
  /** The blob trigger's source: `EventGrid` (required on Flex Consumption) or `LogsAndContainerScan` (polling, the default). */
  submissionsTriggerSource: 'SUBMISSIONS_TRIGGER_SOURCE',
  /** The host's own storage (task hub, blob receipts, keys); read here only to check an identity-based form. */
  hostStorage: 'AzureWebJobsStorage',
  /** Connection (a string, or `__blobServiceUri` + `__queueServiceUri` for identity) of the storage that holds the zips. */
  submissionsStorage: 'SUBMISSIONS_STORAGE',
  submissionsContainer: 'SUBMISSIONS_CONTAINER',
  reportsContainer: 'REPORTS_CONTAINER',
  tenantId: 'STORE_TENANT_ID',
  clientId: 'STORE_CLIENT_ID',
  clientSecret: 'STORE_CLIENT_SECRET',
  clientCertificatePath: 'STORE_CLIENT_CERTIFICATE_PATH',
  credentialKind: 'STORE_CREDENTIAL',
  authorityHost: 'STORE_AUTHORITY_HOST',
  apiBaseUrl: 'STORE_API_BASE_URL',
  tokenScope: 'STORE_TOKEN_SCOPE',
  requestTimeoutSeconds: 'STORE_REQUEST_TIMEOUT_SECONDS',
  maxRequestsPerMinute: 'STORE_MAX_REQUESTS_PER_MINUTE',
  rateWindowSeconds: 'STORE_RATE_WINDOW_SECONDS',
  maxCommitsPerMinute: 'STORE_MAX_COMMITS_PER_MINUTE',
  /** A container of SUBMISSIONS_STORAGE for the Store budget every instance shares; unset: each instance paces itself. */
  budgetContainer: 'STORE_BUDGET_CONTAINER',
  pollFirstSeconds: 'POLL_FIRST_INTERVAL_SECONDS',
  pollMaxSeconds: 'POLL_MAX_INTERVAL_SECONDS',
  queueSettleSeconds: 'QUEUE_SETTLE_SECONDS',
  queuePollSeconds: 'QUEUE_POLL_SECONDS',
  commitDeadlineMinutes: 'COMMIT_DEADLINE_MINUTES',
  publishDeadlineHours: 'PUBLISH_DEADLINE_HOURS',
  /** How long a run with options.commit "approval" waits for a decision before it deletes its submission and fails. */
  approvalTimeoutHours: 'APPROVAL_TIMEOUT_HOURS',
  uploadBlockMiB: 'UPLOAD_BLOCK_SIZE_MIB',
  uploadConcurrency: 'UPLOAD_CONCURRENCY',
  uploadMethod: 'UPLOAD_METHOD',
  /** Partner Center seller id, sent as X-Seller-Account-Id to the MSI/EXE API (win32 targets only). */
  sellerId: 'STORE_SELLER_ID',
  win32ApiBaseUrl: 'STORE_WIN32_API_BASE_URL',
  win32TokenScope: 'STORE_WIN32_TOKEN_SCOPE',
  /** Connection of the storage that serves installers to the Store; SUBMISSIONS_STORAGE when not set. */
  win32PackagesStorage: 'WIN32_PACKAGES_STORAGE',
  win32PackagesContainer: 'WIN32_PACKAGES_CONTAINER',
  win32PackageUrlDays: 'WIN32_PACKAGE_URL_DAYS',
  /** One or several webhook URLs (separated by commas or spaces) that get every run event, signed. */
  notifyWebhookUrl: 'NOTIFY_WEBHOOK_URL',
  /** The HMAC-SHA256 key webhook deliveries are signed with; required with NOTIFY_WEBHOOK_URL. */
  notifyWebhookSecret: 'NOTIFY_WEBHOOK_SECRET',
  /** An Event Grid custom topic's endpoint: run events go there as CloudEvents 1.0. */
  notifyEventGridEndpoint: 'NOTIFY_EVENTGRID_ENDPOINT',
  /** The topic's access key; without it the app signs in with its managed identity (EventGrid Data Sender role). */
  notifyEventGridKey: 'NOTIFY_EVENTGRID_KEY',
  /** The client id of a user-assigned managed identity for the topic; the system-assigned one when absent. */
  notifyEventGridClientId: 'NOTIFY_EVENTGRID_CLIENT_ID',
  /** The app's public address for the status URL in events; https://$WEBSITE_HOSTNAME when absent. */
  notifyStatusBaseUrl: 'NOTIFY_STATUS_BASE_URL',
  /** Attempts per event and receiver before the delivery is given up. */
  notifyMaxAttempts: 'NOTIFY_MAX_ATTEMPTS',
  /** The first retry's delay; each next one doubles, up to 10 minutes. */
  notifyRetrySeconds: 'NOTIFY_RETRY_FIRST_SECONDS',
  /**
   * Days an instance's Durable history is kept after it was created: the scheduled purge
   * (functions/purgeHistory.ts) deletes finished instances older than that. Reports stay.
   */
  historyRetentionDays: 'HISTORY_RETENTION_DAYS',
  /** The purge's NCRONTAB schedule; the timer binding names it (`%PURGE_SCHEDULE%`), so it must be set. */
  purgeSchedule: 'PURGE_SCHEDULE',
  /** Set by the Functions platform (and by func start): the app's host name. Read, never set by us. */
  websiteHostname: 'WEBSITE_HOSTNAME',
} as const;

export type CredentialKind = 'secret' | 'certificate' | 'managedIdentity' | 'workloadIdentity';
export type UploadMethod = 'auto' | 'fromUrl' | 'stream';

export interface Config {
  /** The Durable task hub's name, as host.json takes it from TASK_HUB_NAME. */
  taskHubName: string;
  submissionsStorage: string;
  submissionsContainer: string;
  reportsContainer: string;
  store: {
    tenantId: string;
    clientId: string;
    credentialKind: CredentialKind;
    clientSecret?: string;
    clientCertificatePath?: string;
    authorityHost: string;
    apiBaseUrl: string;
    tokenScope: string;
    requestTimeoutMs: number;
    /** Store API calls allowed per `rateWindowMs` (the Store's limit is per minute, per tenant). */
    maxRequestsPerMinute: number;
    /** The window the limit counts in: 60 s for the Store; the sandbox shortens it with its emulator. Default 60 s. */
    rateWindowMs?: number;
    /** Commits allowed per window, on top of the call limit: the Store limits commits further (StoreBroker#159). */
    maxCommitsPerMinute?: number;
    /** Where the budget shared by every instance lives (lib/store/budget.ts); none: per-process pacing. */
    budget?: { storage: string; container: string };
  };
  polling: {
    firstIntervalSeconds: number;
    maxIntervalSeconds: number;
    commitDeadlineMinutes: number;
    publishDeadlineHours: number;
    /** How long the approval gate waits (hours, fractions allowed). */
    approvalTimeoutHours: number;
    /** How long a new run lets earlier uploads of its product join the queue before it asks for its turn. */
    queueSettleSeconds: number;
    /** How often a queued run asks again whether it is its turn. */
    queuePollSeconds: number;
  };
  upload: {
    blockSizeBytes: number;
    concurrency: number;
    method: UploadMethod;
  };
  /** The Store's submission API for MSI/EXE apps (targets of kind win32). */
  win32: {
    /** X-Seller-Account-Id; a win32 run fails at its start, naming the setting, when it is not set. */
    sellerId?: string;
    apiBaseUrl: string;
    tokenScope: string;
    /** The connection setting of the storage the installers are copied to (WIN32_PACKAGES_STORAGE or SUBMISSIONS_STORAGE). */
    packagesStorage: string;
    packagesContainer: string;
    /** How long the read-only SAS of an installer's URL lasts. */
    packageUrlDays: number;
  };
  /** Run events (lib/notify): where they go and how hard delivery tries. Secrets stay here, read by activities only. */
  notify: NotifyConfig;
  history: {
    /** Finished instances created longer ago than this are purged (0: every finished one, at each purge). */
    retentionDays: number;
    purgeSchedule: string;
  };
}

export interface NotifyConfig {
  /** Webhook URLs; activity inputs and the timeline name them by position (`webhook 1`), never by URL. */
  webhooks: string[];
  webhookSecret?: string;
  eventGrid?: { endpoint: string; key?: string; clientId?: string };
  statusBaseUrl?: string;
  maxAttempts: number;
  firstRetryMs: number;
}

/** Whether any receiver is configured: without one, a run emits nothing at all. */
export function notifying(notify: NotifyConfig): boolean {
  return notify.webhooks.length > 0 || !!notify.eventGrid;
}

/** An HMAC key shorter than this is too easy to guess (Standard Webhooks asks for 24 to 64 bytes). */
const MIN_WEBHOOK_SECRET_LENGTH = 16;

type Env = Record<string, string | undefined>;

/** Collects every problem before failing, so one start-up error lists all missing settings. */
class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  required(name: string): string {
    const value = this.env[name]?.trim();
    if (!value) {
      this.problems.push(`${name} is not set`);
      return '';
    }
    return value;
  }

  optional(name: string, fallback: string): string {
    return this.env[name]?.trim() || fallback;
  }

  absent(name: string): string | undefined {
    return this.env[name]?.trim() || undefined;
  }

  number(name: string, fallback: number, min: number, max: number): number {
    const raw = this.env[name]?.trim();
    if (!raw) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) {
      this.problems.push(`${name} must be a number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.env[name]?.trim();
    if (!raw) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
      return fallback;
    }
    return raw as T;
  }

  url(name: string, fallback: string): string {
    const value = this.optional(name, fallback);
    try {
      new URL(value);
    } catch {
      this.problems.push(`${name} must be an absolute URL, got "${value}"`);
    }
    return value;
  }

  /** True when the connection setting NAME is given in either form. */
  hasConnection(name: string): boolean {
    return !!(this.env[name]?.trim() || this.env[`${name}__blobServiceUri`] || this.env[`${name}__serviceUri`]);
  }

  /**
   * A connection setting is either NAME itself (a connection string) or an identity-based
   * connection, NAME__blobServiceUri plus NAME__queueServiceUri: the blob trigger puts its poison
   * messages in a queue of the blob's own account, so a blob URI alone starts a listener that
   * cannot work
   * (learn.microsoft.com/azure/azure-functions/functions-bindings-storage-blob-trigger,
   * "Identity-based connections": `__serviceUri` is blob only and cannot serve the trigger).
   */
  connection(name: string): string {
    if (this.env[name]?.trim()) return name;
    const blob = this.env[`${name}__blobServiceUri`]?.trim();
    const serviceUri = this.env[`${name}__serviceUri`]?.trim();
    if (!blob && !serviceUri) {
      this.problems.push(
        `${name} (or ${name}__blobServiceUri and ${name}__queueServiceUri for an identity-based connection) is not set`,
      );
    } else if (!blob) {
      this.problems.push(
        `${name}__serviceUri is the blob endpoint only and cannot serve the blob trigger: set ${name}__blobServiceUri and ${name}__queueServiceUri instead`,
      );
    } else if (!this.env[`${name}__queueServiceUri`]?.trim()) {
      this.problems.push(
        `${name}__queueServiceUri is not set: an identity-based ${name} needs the queue endpoint too (the blob trigger's receipts and poison queue; role Storage Queue Data Contributor)`,
      );
    }
    return name;
  }

  /**
   * The host's storage, when given by identity: the Durable task hub lives in its queues and tables
   * and the host's keys and blob receipts in its blobs, so all three endpoints are needed
   * (functions-reference, "Connecting to host storage with an identity"; Durable Functions
   * "Identity-based connections"). A connection string, or nothing at all, is the host's business.
   */
  hostConnection(name: string): void {
    if (this.env[name]?.trim()) return;
    const blob = this.env[`${name}__blobServiceUri`]?.trim();
    if (!blob) return;
    for (const service of ['queue', 'table']) {
      if (!this.env[`${name}__${service}ServiceUri`]?.trim())
        this.problems.push(
          `${name}__${service}ServiceUri is not set: an identity-based ${name} needs it for the Durable task hub (role Storage ${service === 'queue' ? 'Queue' : 'Table'} Data Contributor)`,
        );
    }
  }
}

/**
 * The Durable extension's rule for an Azure Storage task hub name: letters and digits only,
 * starting with a letter, 3 to 45 characters. The name prefixes the hub's queues, tables and
 * containers; 45 leaves room for their suffixes. Source: azure-functions-durable-extension,
 * src/WebJobs.Extensions.DurableTask/Options/AzureStorageOptions.cs (MinTaskHubNameSize = 3,
 * MaxTaskHubNameSize = 45, ValidateHubName, "should contain only alphanumeric characters, start
 * with a letter, and have length between 3 and 45"); learn.microsoft.com/azure/azure-functions/
 * durable/durable-functions-task-hubs ("Task hub names").
 */
export const TASK_HUB_NAME_RE = /^[A-Za-z][A-Za-z0-9]{2,44}$/;

/** How long Durable history is kept by default: longer than any run (the publish deadline is 14 days). */
export const DEFAULT_HISTORY_RETENTION_DAYS = 30;

/** Six fields of NCRONTAB items (numbers, `*`, ranges, lists, steps, names), as the timer trigger takes them. */
const NCRONTAB_RE = /^\s*[\w*/,-]+(\s+[\w*/,-]+){5}\s*$/;

const CREDENTIAL_KINDS: readonly CredentialKind[] = ['secret', 'certificate', 'managedIdentity', 'workloadIdentity'];

export function loadConfig(env: Env = process.env): Config {
  const r = new Reader(env);
  const clientSecret = r.absent(SETTINGS.clientSecret);
  const clientCertificatePath = r.absent(SETTINGS.clientCertificatePath);
  const inferredKind: CredentialKind = clientSecret
    ? 'secret'
    : clientCertificatePath
      ? 'certificate'
      : 'managedIdentity';
  const credentialKind = r.oneOf(SETTINGS.credentialKind, CREDENTIAL_KINDS, inferredKind);
  if (credentialKind === 'secret' && !clientSecret) r.problems.push(`${SETTINGS.clientSecret} is not set`);
  if (credentialKind === 'certificate' && !clientCertificatePath)
    r.problems.push(`${SETTINGS.clientCertificatePath} is not set`);

  const taskHubName = r.required(SETTINGS.taskHubName);
  if (taskHubName && !TASK_HUB_NAME_RE.test(taskHubName))
    r.problems.push(
      `${SETTINGS.taskHubName} must be 3 to 45 letters and digits, starting with a letter (the Durable extension's rule for a task hub name), got "${taskHubName}"`,
    );
  r.hostConnection(SETTINGS.hostStorage);

  const config: Config = {
    taskHubName,
    submissionsStorage: r.connection(SETTINGS.submissionsStorage),
    submissionsContainer: r.required(SETTINGS.submissionsContainer),
    reportsContainer: r.optional(SETTINGS.reportsContainer, 'submission-reports'),
    store: {
      tenantId: r.required(SETTINGS.tenantId),
      clientId:
        credentialKind === 'managedIdentity' ? r.optional(SETTINGS.clientId, '') : r.required(SETTINGS.clientId),
      credentialKind,
      clientSecret,
      clientCertificatePath,
      authorityHost: r.url(SETTINGS.authorityHost, 'https://login.microsoftonline.com'),
      apiBaseUrl: withTrailingSlash(r.url(SETTINGS.apiBaseUrl, 'https://manage.devcenter.microsoft.com/v1.0/my/')),
      tokenScope: r.optional(SETTINGS.tokenScope, 'https://manage.devcenter.microsoft.com/.default'),
      requestTimeoutMs: r.number(SETTINGS.requestTimeoutSeconds, 60, 1, 600) * 1000,
      maxRequestsPerMinute: r.number(SETTINGS.maxRequestsPerMinute, 20, 1, 10000),
      rateWindowMs: r.number(SETTINGS.rateWindowSeconds, 60, 1, 3600) * 1000,
      maxCommitsPerMinute: r.number(SETTINGS.maxCommitsPerMinute, 5, 1, 10000),
      budget: budgetOf(r.absent(SETTINGS.budgetContainer), r),
    },
    polling: {
      firstIntervalSeconds: r.number(SETTINGS.pollFirstSeconds, 30, 1, 3600),
      maxIntervalSeconds: r.number(SETTINGS.pollMaxSeconds, 900, 1, 86400),
      commitDeadlineMinutes: r.number(SETTINGS.commitDeadlineMinutes, 180, 1, 60 * 24 * 30),
      publishDeadlineHours: r.number(SETTINGS.publishDeadlineHours, 24 * 14, 1, 24 * 90),
      approvalTimeoutHours: r.number(SETTINGS.approvalTimeoutHours, 72, 0.01, 24 * 30),
      queueSettleSeconds: r.number(SETTINGS.queueSettleSeconds, 10, 0, 600),
      queuePollSeconds: r.number(SETTINGS.queuePollSeconds, 15, 1, 3600),
    },
    upload: {
      blockSizeBytes: r.number(SETTINGS.uploadBlockMiB, 8, 1, 100) * 1024 * 1024,
      concurrency: r.number(SETTINGS.uploadConcurrency, 4, 1, 64),
      method: r.oneOf<UploadMethod>(SETTINGS.uploadMethod, ['auto', 'fromUrl', 'stream'], 'auto'),
    },
    win32: {
      sellerId: r.absent(SETTINGS.sellerId),
      apiBaseUrl: withTrailingSlash(r.url(SETTINGS.win32ApiBaseUrl, 'https://api.store.microsoft.com/')),
      tokenScope: r.optional(SETTINGS.win32TokenScope, 'https://api.store.microsoft.com/.default'),
      packagesStorage: r.hasConnection(SETTINGS.win32PackagesStorage)
        ? SETTINGS.win32PackagesStorage
        : SETTINGS.submissionsStorage,
      packagesContainer: r.optional(SETTINGS.win32PackagesContainer, 'store-packages'),
      packageUrlDays: r.number(SETTINGS.win32PackageUrlDays, 365, 1, 3650),
    },
    notify: readNotify(r, env),
    history: {
      retentionDays: r.number(SETTINGS.historyRetentionDays, DEFAULT_HISTORY_RETENTION_DAYS, 0, 3650),
      purgeSchedule: r.required(SETTINGS.purgeSchedule),
    },
  };
  const schedule = config.history.purgeSchedule;
  if (schedule && !NCRONTAB_RE.test(schedule))
    r.problems.push(
      `${SETTINGS.purgeSchedule} must be a six-field NCRONTAB expression ({second} {minute} {hour} {day} {month} {day-of-week}, e.g. "0 30 3 * * *"), got "${schedule}"`,
    );
  const seller = config.win32.sellerId;
  if (seller !== undefined && !/^\d{1,20}$/.test(seller))
    r.problems.push(
      `${SETTINGS.sellerId} must be the seller id of the Partner Center account (digits), got "${seller}"`,
    );
  if (!/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/.test(config.win32.packagesContainer))
    r.problems.push(
      `${SETTINGS.win32PackagesContainer} must be a container name (3-63 lower-case letters, digits and single hyphens), got "${config.win32.packagesContainer}"`,
    );
  if (r.problems.length > 0) {
    throw new ConfigurationError(`App settings are missing or invalid: ${r.problems.join('; ')}.`, r.problems);
  }
  return config;
}

function budgetOf(container: string | undefined, r: Reader): Config['store']['budget'] {
  if (container === undefined) return undefined;
  if (!CONTAINER_NAME.test(container))
    r.problems.push(
      `${SETTINGS.budgetContainer} must be a container name (3-63 lower-case letters, digits and single hyphens), got "${container}"`,
    );
  return { storage: SETTINGS.submissionsStorage, container };
}

const CONTAINER_NAME = /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/;

function readNotify(r: Reader, env: Env): NotifyConfig {
  const webhooks = (r.absent(SETTINGS.notifyWebhookUrl) ?? '').split(/[\s,]+/).filter(Boolean);
  webhooks.forEach((url, i) => {
    // The message names the position only: an incoming-webhook URL (Slack, Teams) is a credential.
    if (!isHttpUrl(url, ['http:', 'https:']))
      r.problems.push(`${SETTINGS.notifyWebhookUrl} entry ${i + 1} must be an absolute http(s) URL`);
  });
  const webhookSecret = r.absent(SETTINGS.notifyWebhookSecret);
  if (webhooks.length > 0 && !webhookSecret)
    r.problems.push(`${SETTINGS.notifyWebhookSecret} is not set (webhook deliveries are signed with it)`);
  else if (webhookSecret && webhookSecret.length < MIN_WEBHOOK_SECRET_LENGTH)
    r.problems.push(`${SETTINGS.notifyWebhookSecret} must be at least ${MIN_WEBHOOK_SECRET_LENGTH} characters`);
  const endpoint = r.absent(SETTINGS.notifyEventGridEndpoint);
  // The topic's key travels in a header: Event Grid answers on https only.
  if (endpoint && !isHttpUrl(endpoint, ['https:']))
    r.problems.push(`${SETTINGS.notifyEventGridEndpoint} must be an absolute https URL, got "${endpoint}"`);
  const statusBase = r.absent(SETTINGS.notifyStatusBaseUrl);
  if (statusBase && !isHttpUrl(statusBase, ['http:', 'https:']))
    r.problems.push(`${SETTINGS.notifyStatusBaseUrl} must be an absolute http(s) URL, got "${statusBase}"`);
  const hostname = env[SETTINGS.websiteHostname]?.trim();
  const local = hostname && /^(localhost|127\.0\.0\.1)(:\d+)?$/.test(hostname);
  return {
    webhooks,
    webhookSecret,
    eventGrid: endpoint
      ? {
          endpoint,
          key: r.absent(SETTINGS.notifyEventGridKey),
          clientId: r.absent(SETTINGS.notifyEventGridClientId),
        }
      : undefined,
    statusBaseUrl: statusBase ?? (hostname ? `${local ? 'http' : 'https'}://${hostname}` : undefined),
    maxAttempts: r.number(SETTINGS.notifyMaxAttempts, 6, 1, 20),
    firstRetryMs: r.number(SETTINGS.notifyRetrySeconds, 10, 1, 3600) * 1000,
  };
}

function isHttpUrl(value: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

let cached: Config | undefined;

/** The process-wide configuration, read once; throws a ConfigurationError naming every bad setting. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}

/** For tests that change the environment between cases. */
export function resetConfigForTests(): void {
  cached = undefined;
}
