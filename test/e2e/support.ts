/**
 * What the end-to-end tests share beyond the sandbox itself: dropping a zip and waiting for
 * its run, reading the emulator through the Store API as a client would, and picking our
 * submissions out of the emulator's state.
 */
import { fetchToken, type EmulatorState, type SubmissionState } from '../../sandbox/emulator';
import { instanceIdFor } from '../../lib/instanceId';
import type { StatusDocument } from '../../lib/statusDocument';
import { goodZip } from '../helpers/zips';
import { eventually } from '../helpers/eventually';
import type { TestSandbox } from '../helpers/sandbox';

export type Json = Record<string, unknown>;

/**
 * App settings for these tests' sandboxes. The emulator's rate limit is off (FAST_STORE) and
 * these tests are about what a run does, not how it paces itself: the client's own pacing
 * (20 calls a minute by default, in real time) would hold a file's runs for minutes.
 */
export const E2E_SETTINGS: Record<string, string> = { STORE_MAX_REQUESTS_PER_MINUTE: '10000' };

export interface Finished {
  instanceId: string;
  doc: StatusDocument;
  zip: Buffer;
}

/** The instance id the blob trigger gives the current version of `name`. */
export function runIdOf(sandbox: TestSandbox, name: string, etag: string): string {
  return instanceIdFor(sandbox.submissions.containerName, name, etag);
}

/** Drops a zip built from `manifest` and `files` and waits for its run to end. */
export async function dropAndFinish(
  sandbox: TestSandbox,
  name: string,
  manifest: unknown,
  files: Record<string, Buffer | string> = {},
): Promise<Finished> {
  const zip = goodZip(manifest, files);
  const etag = await sandbox.drop(name, zip);
  const instanceId = runIdOf(sandbox, name, etag);
  const doc = await sandbox.finished(instanceId);
  return { instanceId, doc, zip };
}

/** A call on the emulated Store API with a real token, as any client makes it. */
export async function storeApi(
  sandbox: TestSandbox,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const token = await fetchToken(sandbox.emulator);
  const response = await fetch(`${sandbox.emulator.apiBaseUrl}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Json };
}

export async function storeGet(sandbox: TestSandbox, path: string): Promise<Json> {
  const { status, body } = await storeApi(sandbox, 'GET', path);
  if (status !== 200) throw new Error(`GET ${path}: ${status} ${JSON.stringify(body)}`);
  return body;
}

/** Submissions of a product made through the API, other than the seeded published ones. */
export function apiSubmissionsOf(state: EmulatorState, productId: string, except: string[] = []): SubmissionState[] {
  return state.submissions.filter(
    (s) => s.productId.toLowerCase() === productId.toLowerCase() && s.createdIn === 'API' && !except.includes(s.id),
  );
}

/** fileName (with `/`) → fileStatus of a submission's packages, images and icons. */
export function fileStatuses(submission: SubmissionState): Record<string, unknown> {
  return Object.fromEntries(submission.files.map((f) => [String(f.fileName).replace(/\\/g, '/'), f.fileStatus]));
}

/** Store API requests in the emulator's log, as `METHOD path`, optionally only those matching `pattern`. */
export function requestsOf(state: EmulatorState, pattern?: RegExp): string[] {
  return state.requests
    .filter((r) => r.server === 'api' || r.server === 'upload')
    .map((r) => `${r.method} ${r.server === 'upload' ? '(upload) ' : ''}${r.path}`)
    .filter((line) => !pattern || pattern.test(line));
}

/** Polls the emulator until `check` holds for its state, with the suite's patience. */
export function emulatorUntil(sandbox: TestSandbox, check: (state: EmulatorState) => boolean): Promise<EmulatorState> {
  let requests = 0;
  return eventually(
    'the emulator to get there',
    async () => {
      const state = await sandbox.emulator.admin.state();
      requests = state.requests.length;
      return check(state) ? state : undefined;
    },
    { progress: () => [requests, sandbox.logs.length] },
  );
}

/** The timeline's step names, in order. */
export function stepsOf(doc: StatusDocument): string[] {
  return doc.timeline.map((s) => s.step);
}
