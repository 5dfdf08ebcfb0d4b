/** What the tests of the two Store clients against the emulator share. */
import type { Config } from '../../lib/config';
import { StoreRequestError } from '../../lib/errors';
import { STORE_SCOPE, type RunningEmulator } from '../../sandbox/emulator';

/** The app settings' `store` section pointing at a running emulator: its tenant, app, secret, authority and API. */
export function emulatorStoreConfig(emu: RunningEmulator, overrides: Partial<Config['store']> = {}): Config['store'] {
  return {
    tenantId: emu.tenantId,
    clientId: emu.clientId,
    credentialKind: 'secret',
    clientSecret: emu.clientSecret,
    authorityHost: emu.authorityHost,
    apiBaseUrl: emu.apiBaseUrl,
    tokenScope: STORE_SCOPE,
    requestTimeoutMs: 2000,
    maxRequestsPerMinute: 20,
    ...overrides,
  };
}

/** The StoreRequestError `p` rejects with; anything else (or no rejection) fails the test. */
export async function storeRejection(p: Promise<unknown>): Promise<StoreRequestError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof StoreRequestError)) throw new Error(`expected a StoreRequestError, got ${String(e)}`);
  return e;
}
