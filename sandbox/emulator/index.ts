import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { ensureTlsMaterial } from '../tls';
import { EmulatorAdmin } from './admin';
import { DEFAULT_CONFIG, type EmulatorConfig } from './config';
import { EmulatorCore } from './core';
import { STORE_SCOPE } from './identity';
import { Win32Admin, type Win32Config, type Win32Seed } from './win32';
import { type SeedData, resolveSeed } from './seed';
import { close, listen } from './server';

export { EmulatorAdmin } from './admin';
export type { EmulatorSecrets, EmulatorState, SubmissionState } from './admin';
export { DEFAULT_CONFIG } from './config';
export type { EmulatorConfig } from './config';
export type { RequestLogEntry } from './core';
export type { Fault, FaultSpec, HttpFaultSpec } from './faults';
export { STORE_RESOURCE, STORE_SCOPE, WIN32_RESOURCE, WIN32_SCOPE } from './identity';
export type { PartnerCenterRole, RegistrationView } from './identity';
export { Win32Admin, WIN32_SEED_IDS, WIN32_SELLER_ID, DEFAULT_WIN32_CONFIG } from './win32';
export type { Win32Config, Win32Fault, Win32FaultSpec, Win32Seed, Win32SeedProduct, Win32State } from './win32';
export { SEED_IDS, defaultSeed, readSeedFile } from './seed';
export type { SeedApplication, SeedData, SeedFlight, SeedInAppProduct, SeedSubmission } from './seed';

export interface EmulatorOptions {
  /** HTTP: API under /v1.0/my/, admin under /_emulator/, upload-blob proxy. 0 or undefined = a free port. */
  port?: number;
  /** HTTPS: Azure AD v2 token endpoint + OpenID discovery. 0/undefined = free port. */
  tlsPort?: number;
  /** The `storeingest` Azurite account's connection string: where uploaded zips really land. */
  ingestConnectionString: string;
  /** Default: a demo app, flight and add-on, plus the failure-scenario products (see SEED_IDS). */
  seed?: 'default' | 'none' | SeedData;
  config?: Partial<EmulatorConfig>;
  /** The MSI/EXE API: its seed (default: an MSI app, an EXE app and one with a submission in progress) and config. */
  win32?: { seed?: 'default' | 'none' | Win32Seed; config?: Partial<Win32Config> };
  /** Where TLS material lives/is created (default: <repo>/.sandbox/tls). */
  tlsDir?: string;
}

export interface RunningEmulator {
  /** http://127.0.0.1:PORT */
  url: string;
  /** http://127.0.0.1:PORT/v1.0/my/ */
  apiBaseUrl: string;
  /** https://127.0.0.1:TLSPORT (the product's STORE_AUTHORITY_HOST). */
  authorityHost: string;
  tenantId: string;
  clientId: string;
  /** Random per start. */
  clientSecret: string;
  /** PEM file the client must trust (NODE_EXTRA_CA_CERTS). */
  caCertPath: string;
  admin: EmulatorAdmin;
  /** The MSI/EXE submission API on the same listener. */
  win32: {
    /** http://127.0.0.1:PORT/ (the product's STORE_WIN32_API_BASE_URL; paths start with submission/v1/). */
    apiBaseUrl: string;
    /** The X-Seller-Account-Id every call must send (STORE_SELLER_ID). */
    sellerId: string;
    admin: Win32Admin;
  };
  stop(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions): Promise<RunningEmulator> {
  const tls = ensureTlsMaterial(options.tlsDir);
  const core = new EmulatorCore(
    options.ingestConnectionString,
    options.config,
    resolveSeed(options.seed),
    DEFAULT_CONFIG,
    options.win32,
  );
  const listeners = await listen(core, options, { cert: readFileSync(tls.certPath), key: readFileSync(tls.keyPath) });
  core.httpUrl = `http://127.0.0.1:${listeners.port}`;
  try {
    await core.init();
  } catch (e) {
    await Promise.all([close(listeners.http), close(listeners.https)]);
    throw e;
  }
  let stopped: Promise<void> | undefined;
  return {
    url: core.httpUrl,
    apiBaseUrl: `${core.httpUrl}/v1.0/my/`,
    authorityHost: `https://127.0.0.1:${listeners.tlsPort}`,
    tenantId: core.identity.tenantId,
    clientId: core.identity.clientId,
    clientSecret: core.identity.clientSecret,
    caCertPath: tls.caCertPath,
    admin: new EmulatorAdmin(core.httpUrl),
    win32: { apiBaseUrl: `${core.httpUrl}/`, sellerId: core.win32.sellerId, admin: new Win32Admin(core.httpUrl) },
    stop: () => {
      stopped ??= (async () => {
        core.stop();
        await Promise.all([close(listeners.http), close(listeners.https)]);
      })();
      return stopped;
    },
  };
}

/**
 * A token from the emulator's token endpoint through a real TLS connection trusting its CA, for
 * processes (like jest's) that were not started with NODE_EXTRA_CA_CERTS.
 */
export function fetchToken(
  emulator: Pick<RunningEmulator, 'authorityHost' | 'tenantId' | 'clientId' | 'clientSecret' | 'caCertPath'>,
  scope: string = STORE_SCOPE,
): Promise<string> {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: emulator.clientId,
    client_secret: emulator.clientSecret,
    scope,
  }).toString();
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      `${emulator.authorityHost}/${emulator.tenantId}/oauth2/v2.0/token`,
      {
        method: 'POST',
        ca: readFileSync(emulator.caCertPath),
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(form) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`token endpoint answered ${res.statusCode}`));
          resolve((JSON.parse(text) as { access_token: string }).access_token);
        });
      },
    );
    req.on('error', reject);
    req.end(form);
  });
}
