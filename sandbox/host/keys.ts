/**
 * The keys of a Functions host, generated at start as the real host does when it has none: the
 * master key, host keys, each HTTP function's own keys, and the system keys extensions use for
 * their webhooks (the Durable extension's `durabletask_extension`). Which key opens what is
 * `AuthenticationLevelHandler.cs:85-104` in azure-functions-host: a function with `authLevel:
 * 'function'` opens to its own keys, a host key or the master key; `admin` to the master key only;
 * an extension's webhook to that extension's system key or the master key. Keys come as `?code=`
 * or in the `x-functions-key` header.
 */
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

/** A key as the host makes one: 40 random bytes, base64url (the real host's are of that strength). */
function newKey(): string {
  return randomBytes(40).toString('base64url');
}

export function generateKeys(httpFunctions: string[]): HostKeys {
  return {
    master: newKey(),
    host: { default: newKey() },
    functions: Object.fromEntries(httpFunctions.map((name) => [name, { default: newKey() }])),
    system: { [DURABLE_SYSTEM_KEY]: newKey() },
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
