import type { EmulatorConfig } from './config';
import type { EmulatorCore, RequestLogEntry } from './core';
import type { Fault, FaultSpec } from './faults';
import { type Reply, empty, isRecord, json } from './http';
import type { PartnerCenterRole, RegistrationView } from './identity';
import type { ZipCheckRecord } from './lifecycle';
import { type SeedData, type SeedOption, defaultSeed } from './seed';
import { type Json, type StatusDetails, type SubmissionStatus, fileEntries, productPath } from './state';

export interface SubmissionState {
  id: string;
  kind: 'application' | 'flight' | 'inappproduct';
  productId: string;
  applicationId?: string;
  resourceLocation: string;
  createdIn: 'API' | 'PartnerCenter';
  status: SubmissionStatus;
  statusDetails: StatusDetails;
  statusHistory: Array<{ status: SubmissionStatus; at: string }>;
  targetPublishMode: unknown;
  /** Every file entry with where it sits in the submission. */
  files: Array<{ where: string; fileName: unknown; fileStatus: unknown }>;
  /** The blob behind fileUploadUrl (never the URL itself: it carries a signature). */
  upload: { blobName: string; expiresOn: string; exists: boolean; size: number | null } | null;
  lastZipCheck: ZipCheckRecord | null;
}

export interface EmulatorState {
  applications: Array<Json & { unsupportedFeatures: boolean; flights: Json[] }>;
  inAppProducts: Json[];
  submissions: SubmissionState[];
  faults: Fault[];
  config: EmulatorConfig;
  requests: RequestLogEntry[];
}

export interface EmulatorSecrets {
  clientSecret: string;
  accessTokens: string[];
  sasSignatures: string[];
  /** All of the above, SAS signatures also URL-encoded: search logs for each of these. */
  all: string[];
}

async function buildState(core: EmulatorCore): Promise<EmulatorState> {
  const { store } = core;
  const submissions = await Promise.all(
    [...store.submissions.values()].map(async (sub): Promise<SubmissionState> => {
      const product = store.productOf(sub);
      let upload: SubmissionState['upload'] = null;
      if (sub.upload) {
        const props = await core.ingest
          .getBlobClient(sub.upload.blobName)
          .getProperties()
          .catch(() => undefined);
        upload = {
          blobName: sub.upload.blobName,
          expiresOn: sub.upload.expiresOn,
          exists: props !== undefined,
          size: props?.contentLength ?? null,
        };
      }
      return {
        id: sub.id,
        kind: sub.kind,
        productId: sub.productId,
        applicationId: sub.applicationId,
        resourceLocation: product ? `${productPath(product)}/submissions/${sub.id}` : '',
        createdIn: sub.createdIn,
        status: sub.status,
        statusDetails: structuredClone(sub.statusDetails),
        statusHistory: sub.statusHistory.map((h) => ({ ...h })),
        targetPublishMode: sub.data.targetPublishMode,
        files: fileEntries(sub).map((r) => ({
          where: r.where,
          fileName: r.entry.fileName,
          fileStatus: r.entry.fileStatus,
        })),
        upload,
        lastZipCheck: core.lifecycle.zipChecks.get(sub.id) ?? null,
      };
    }),
  );
  return {
    applications: [...store.applications.values()].map((a) => ({
      ...store.renderApplication(a),
      unsupportedFeatures: a.unsupportedFeatures,
      flights: store.flightsOf(a.id).map((f) => store.renderFlight(f)),
    })),
    inAppProducts: [...store.addOns.values()].map((a) => store.renderAddOn(a)),
    submissions,
    faults: core.faults.list(),
    config: { ...core.config },
    requests: core.requestLog.map((r) => ({ ...r })),
  };
}

function badRequest(e: unknown): Reply {
  return json(400, { error: (e as Error).message });
}

/** The admin API under /_emulator/ (JSON, no auth). `path` is below /_emulator/. */
export async function handleAdmin(
  core: EmulatorCore,
  method: string,
  path: string,
  body: () => Promise<unknown>,
): Promise<Reply> {
  const parts = path.split('/').filter(Boolean);
  const [first, second, third] = parts;
  try {
    if (first === 'state' && method === 'GET') return json(200, await buildState(core));
    if (first === 'reset' && method === 'POST') {
      const seed = await body();
      core.reset(seed === undefined || seed === null ? undefined : resolveResetSeed(seed));
      return json(200, { ok: true });
    }
    if (first === 'config' && method === 'GET') return json(200, core.config);
    if (first === 'config' && method === 'PUT') return json(200, core.configure(await body()));
    if (first === 'faults' && !second) {
      if (method === 'GET') return json(200, core.faults.list());
      if (method === 'POST') return json(201, core.faults.add(await body()));
      if (method === 'DELETE') {
        core.faults.clear();
        return empty(204);
      }
    }
    if (first === 'faults' && second && method === 'DELETE')
      return core.faults.remove(second) ? empty(204) : empty(404);
    if (first === 'secrets' && method === 'GET') return json(200, core.secrets());
    if (first === 'identity') return await identityAdmin(core, method, parts.slice(1), body);
    if (first === 'submissions' && second && third === 'cancel' && method === 'POST') {
      const sub = core.store.submissions.get(second);
      if (!sub) return empty(404);
      return core.lifecycle.cancelInPartnerCenter(sub)
        ? json(200, { status: sub.status })
        : json(409, { error: `submission is ${sub.status}, not being processed` });
    }
    if (first === 'submissions' && second && third === 'publish' && method === 'POST') {
      const sub = core.store.submissions.get(second);
      if (!sub) return empty(404);
      return core.lifecycle.publishNow(sub)
        ? json(200, { status: sub.status })
        : json(409, { error: `submission is ${sub.status}, not Release` });
    }
  } catch (e) {
    return badRequest(e);
  }
  return empty(404);
}

/**
 * App registrations of the tenant: `GET identity`, `POST identity/apps` {role?, secretExpiresAt?},
 * `PATCH identity/apps/{clientId}` {role?, secretExpiresAt?}, `POST identity/apps/{clientId}/certificates`
 * {certificatePem}, `POST identity/apps/{clientId}/federated` {issuer, subject, audience?, jwks}.
 */
async function identityAdmin(
  core: EmulatorCore,
  method: string,
  parts: string[],
  body: () => Promise<unknown>,
): Promise<Reply> {
  const [apps, clientId, what] = parts;
  const input = (): Promise<Record<string, unknown>> =>
    body().then((b) => {
      if (b !== undefined && !isRecord(b)) throw new TypeError('the body must be a JSON object');
      return b ?? {};
    });
  if (!apps && method === 'GET') return json(200, core.identity.registrationsView());
  if (apps !== 'apps') return empty(404);
  if (!clientId && method === 'POST') {
    const b = await input();
    return json(201, core.identity.register(b));
  }
  if (clientId && !what && method === 'PATCH') {
    return json(200, core.identity.update(clientId, await input()));
  }
  if (clientId && what === 'certificates' && method === 'POST') {
    const b = await input();
    if (typeof b.certificatePem !== 'string') throw new TypeError('certificatePem is required');
    return json(201, core.identity.addCertificate(clientId, b.certificatePem));
  }
  if (clientId && what === 'federated' && method === 'POST') {
    core.identity.addFederated(clientId, (await input()) as never);
    return empty(204);
  }
  return empty(404);
}

function resolveResetSeed(value: unknown): SeedData {
  if (value === 'default') return defaultSeed();
  if (value === 'none') return {};
  if (!isRecord(value)) throw new TypeError("the reset body must be seed data, 'default' or 'none'");
  return value;
}

/** Typed client of the admin API, for tests and the sandbox launcher. */
export class EmulatorAdmin {
  constructor(private readonly url: string) {}

  state(): Promise<EmulatorState> {
    return this.call('GET', 'state');
  }
  /** Back to the start seed (or `seed`): products, submissions, faults, request log, rate windows. Tokens and config stay. */
  async reset(seed?: SeedOption): Promise<void> {
    await this.call('POST', 'reset', seed);
  }
  config(): Promise<EmulatorConfig> {
    return this.call('GET', 'config');
  }
  configure(partial: Partial<EmulatorConfig>): Promise<EmulatorConfig> {
    return this.call('PUT', 'config', partial);
  }
  fault(spec: FaultSpec): Promise<Fault> {
    return this.call('POST', 'faults', spec);
  }
  faults(): Promise<Fault[]> {
    return this.call('GET', 'faults');
  }
  async clearFaults(): Promise<void> {
    await this.call('DELETE', 'faults');
  }
  async removeFault(id: string): Promise<void> {
    await this.call('DELETE', `faults/${encodeURIComponent(id)}`);
  }
  secrets(): Promise<EmulatorSecrets> {
    return this.call('GET', 'secrets');
  }
  /** The tenant's app registrations (no secrets). */
  identities(): Promise<RegistrationView[]> {
    return this.call('GET', 'identity');
  }
  /** Another Azure AD application, in Partner Center with `role` ('none': not added there). */
  registerApp(
    options: { role?: PartnerCenterRole; secretExpiresAt?: string } = {},
  ): Promise<{ clientId: string; clientSecret: string }> {
    return this.call('POST', 'identity/apps', options);
  }
  /** Changes an app's role, or when its client secret expires (null: never). */
  updateApp(
    clientId: string,
    change: { role?: PartnerCenterRole; secretExpiresAt?: string | null },
  ): Promise<RegistrationView> {
    return this.call('PATCH', `identity/apps/${clientId}`, change);
  }
  addCertificate(clientId: string, certificatePem: string): Promise<{ thumbprint: string }> {
    return this.call('POST', `identity/apps/${clientId}/certificates`, { certificatePem });
  }
  async addFederatedCredential(
    clientId: string,
    credential: { issuer: string; subject: string; audience?: string; jwks: { keys: unknown[] } },
  ): Promise<void> {
    await this.call('POST', `identity/apps/${clientId}/federated`, credential);
  }
  /** Partner Center's "cancel" of a submission being processed: it ends Canceled. */
  cancel(submissionId: string): Promise<{ status: SubmissionStatus }> {
    return this.call('POST', `submissions/${submissionId}/cancel`);
  }
  /** Partner Center's "publish now" for a submission waiting in Release (Manual or SpecificDate mode). */
  publish(submissionId: string): Promise<{ status: SubmissionStatus }> {
    return this.call('POST', `submissions/${submissionId}/publish`);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}/_emulator/${path}`, {
      method,
      headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`emulator admin ${method} ${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}
