/**
 * The keys of a Functions host, generated at start as the real host does when it has none: the
 * master key, host keys, each HTTP function's own keys, and the system keys extensions use for
 * their webhooks (the Durable extension's `durabletask_extension`). Which key opens what is
 * `AuthenticationLevelHandler.cs:85-104` in azure-functions-host: a function with `authLevel:
 * 'function'` opens to its own keys, a host key or the master key; `admin` to the master key only;
 * an extension's webhook to that extension's system key or the master key. Keys come as `?code=`
 * or in the `x-functions-key` header.
 */
import type { BlobServiceClient, ContainerClient, RestError } from '@azure/storage-blob';
import { randomBytes, timingSafeEqual } from 'node:crypto';

export interface HostKeys {
  master: string;
  /** Host keys: each opens every function-level function. */
  host: Record<string, string>;
  /** Function keys, per function name: each opens its own function only. */
  functions: Record<string, Record<string, string>>;
  /** System keys, per extension (`durabletask_extension`). */
  system: Record<string, string>;
}

export const DURABLE_SYSTEM_KEY = 'durabletask_extension';
/** The blob extension's system key: Event Grid's subscription sends it as `code` to /runtime/webhooks/blobs. */
export const BLOBS_SYSTEM_KEY = 'blobs_extension';

/** A key as the host makes one: 40 random bytes, base64url (the real host's are of that strength). */
function newKey(): string {
  return randomBytes(40).toString('base64url');
}

export function generateKeys(httpFunctions: string[]): HostKeys {
  return {
    master: newKey(),
    host: { default: newKey() },
    functions: Object.fromEntries(httpFunctions.map((name) => [name, { default: newKey() }])),
    system: { [DURABLE_SYSTEM_KEY]: newKey(), [BLOBS_SYSTEM_KEY]: newKey() },
  };
}

function same(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function anyOf(given: string, keys: Record<string, string> | undefined): boolean {
  return Object.values(keys ?? {}).some((k) => same(given, k));
}

/** What a request must show: a function's level, or an extension's webhook. */
export type Required =
  { kind: 'function'; name: string; authLevel: string } | { kind: 'webhook'; extension: string } | { kind: 'admin' };

export function opens(keys: HostKeys, given: string | undefined, required: Required): boolean {
  if (required.kind === 'function' && required.authLevel === 'anonymous') return true;
  if (!given) return false;
  if (same(given, keys.master)) return true;
  switch (required.kind) {
    case 'admin':
      return false;
    case 'webhook':
      return !!keys.system[required.extension] && same(given, keys.system[required.extension]!);
    case 'function':
      if (required.authLevel === 'admin') return false;
      return anyOf(given, keys.host) || anyOf(given, keys.functions[required.name]);
  }
}

/** Every key's value, for checks that none leaks. */
export function allKeyValues(keys: HostKeys): string[] {
  return [
    keys.master,
    ...Object.values(keys.host),
    ...Object.values(keys.functions).flatMap((k) => Object.values(k)),
    ...Object.values(keys.system),
  ];
}

/**
 * The host's keys, kept where the real host keeps them by default (`AzureWebJobsSecretStorageType`
 * `blob`, BlobStorageSecretsRepository in azure-functions-host): the container
 * `azure-webjobs-secrets` of AzureWebJobsStorage, `{hostId}/host.json` for the master, host and
 * system keys and `{hostId}/{function}.json` for a function's own. A restarted host (or a second
 * instance with the same host id) therefore requires the keys its callers already hold, as in
 * Azure. Values are stored unencrypted, as the real host does when it has no encryption key
 * (local development); the sandbox's storage is local and its keys are made for one sandbox.
 */
const SECRETS_CONTAINER = 'azure-webjobs-secrets';

interface StoredKey {
  name: string;
  value: string;
  encrypted: false;
}

function toStored(keys: Record<string, string>): StoredKey[] {
  return Object.entries(keys).map(([name, value]) => ({ name, value, encrypted: false }));
}

function fromStored(list: StoredKey[] | undefined): Record<string, string> {
  return Object.fromEntries((list ?? []).map((k) => [k.name, k.value]));
}

/** Reads the stored document at `name`, or creates it from `make` if absent (a racing writer's document wins). */
async function readOrCreate<T>(container: ContainerClient, name: string, make: () => T): Promise<T> {
  const blob = container.getBlockBlobClient(name);
  for (let attempt = 0; ; attempt++) {
    try {
      return JSON.parse((await blob.downloadToBuffer()).toString('utf8')) as T;
    } catch (e) {
      if ((e as RestError).statusCode !== 404 || attempt > 0) throw e;
    }
    const made = make();
    const body = JSON.stringify(made, null, 2);
    try {
      await blob.upload(body, Buffer.byteLength(body), { conditions: { ifNoneMatch: '*' } });
      return made;
    } catch (e) {
      // Another host with this id wrote first: its keys are the keys.
      if (![409, 412].includes((e as RestError).statusCode ?? 0)) throw e;
    }
  }
}

export async function loadOrCreateKeys(
  service: BlobServiceClient,
  hostId: string,
  httpFunctions: string[],
): Promise<HostKeys> {
  const container = service.getContainerClient(SECRETS_CONTAINER);
  await container.createIfNotExists();
  const fresh = generateKeys(httpFunctions);
  const host = await readOrCreate(container, `${hostId}/host.json`, () => ({
    masterKey: { name: '_master', value: fresh.master, encrypted: false },
    functionKeys: toStored(fresh.host),
    systemKeys: toStored(fresh.system),
  }));
  const functions: HostKeys['functions'] = {};
  for (const name of httpFunctions) {
    const stored = await readOrCreate(container, `${hostId}/${name.toLowerCase()}.json`, () => ({
      keys: toStored(fresh.functions[name]!),
    }));
    functions[name] = fromStored(stored.keys);
  }
  return {
    master: host.masterKey.value,
    host: fromStored(host.functionKeys),
    functions,
    system: { ...fresh.system, ...fromStored(host.systemKeys) },
  };
}
