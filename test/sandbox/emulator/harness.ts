import { BlockBlobClient } from '@azure/storage-blob';
import { Uint8ArrayReader, Uint8ArrayWriter, ZipWriter } from '@zip.js/zip.js';
import {
  type EmulatorConfig,
  type EmulatorOptions,
  type RunningEmulator,
  fetchToken,
  startEmulator,
} from '../../../sandbox/emulator';
import { testStorage } from '../../helpers/azurite';
import { eventually } from '../../helpers/eventually';

/** Timings for tests: the whole commit-to-published path in well under a second. */
export const FAST: Partial<EmulatorConfig> = {
  commitProcessingMs: 30,
  preProcessingMs: 20,
  certificationMs: 20,
  releaseMs: 20,
  publishingMs: 20,
  rateLimitEnabled: false,
};

export async function start(options: Partial<EmulatorOptions> = {}): Promise<RunningEmulator> {
  return startEmulator({
    // The default TLS folder, as `npm test` (test/run.ts) and the sandbox use: generated once, then reused.
    ingestConnectionString: testStorage().ingestConnectionString,
    ...options,
    config: { ...FAST, ...options.config },
  });
}

/** Response bodies are free-form JSON; tests index into them directly. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = any;

export interface ApiResponse<T = Loose> {
  status: number;
  headers: Headers;
  text: string;
  body: T;
}

/** A fetch answer with its body read, as JSON when it is JSON (undefined when it is not). */
export async function answerOf<T = Loose>(res: Response): Promise<ApiResponse<T>> {
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, text, body: parsed as T };
}

/**
 * One emulator for a test file, started before its tests and stopped after them, reset to `seed`
 * before each test, with a client holding a token. Read `emulator` and `api` inside tests (they
 * are set once the file's tests start).
 */
export function emulatorPerFile(seed?: Parameters<RunningEmulator['admin']['reset']>[0]): {
  emulator: RunningEmulator;
  api: Api;
} {
  const the = {} as { emulator: RunningEmulator; api: Api };
  beforeAll(async () => {
    the.emulator = await start();
    the.api = await Api.connect(the.emulator);
  });
  afterAll(() => the.emulator.stop());
  beforeEach(() => the.emulator.admin.reset(seed));
  return the;
}

/** A Store API client over fetch, holding a token from the emulator's token endpoint. */
export class Api {
  constructor(
    readonly emulator: RunningEmulator,
    public token: string,
  ) {}

  static async connect(emulator: RunningEmulator): Promise<Api> {
    return new Api(emulator, await fetchToken(emulator));
  }

  async call<T = Loose>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse<T>> {
    const res = await fetch(`${this.emulator.apiBaseUrl}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${this.token}`,
        ...(body !== undefined ? { 'Content-Type': 'application/json; charset=utf-8' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return answerOf<T>(res);
  }

  get<T = Loose>(path: string): Promise<ApiResponse<T>> {
    return this.call<T>('GET', path);
  }
  post<T = Loose>(path: string, body?: unknown): Promise<ApiResponse<T>> {
    return this.call<T>('POST', path, body);
  }
  put<T = Loose>(path: string, body: unknown): Promise<ApiResponse<T>> {
    return this.call<T>('PUT', path, body);
  }
  delete<T = Loose>(path: string): Promise<ApiResponse<T>> {
    return this.call<T>('DELETE', path);
  }

  /** Polls the status until `done` says so (fast timings make this short; a busy machine may not). */
  async waitForStatus(
    path: string,
    done: (status: string) => boolean,
  ): Promise<{ status: string; statusDetails: Loose }> {
    let last: unknown;
    return eventually(
      `the status of ${path}`,
      async () => {
        const res = await this.get(`${path}/status`);
        last = res.body?.status;
        return res.status === 200 && done(res.body.status)
          ? (res.body as { status: string; statusDetails: Loose })
          : undefined;
      },
      { everyMs: 15, lastSeen: () => last },
    );
  }
}

export async function makeZip(files: Record<string, string | Uint8Array>): Promise<Buffer> {
  const writer = new ZipWriter(new Uint8ArrayWriter(), { useWebWorkers: false, level: 0 });
  for (const [name, content] of Object.entries(files)) {
    await writer.add(
      name,
      new Uint8ArrayReader(typeof content === 'string' ? new TextEncoder().encode(content) : content),
    );
  }
  return Buffer.from(await writer.close());
}

/** What every careful client does with a fileUploadUrl before using it. */
export function fixedUploadUrl(fileUploadUrl: string): string {
  return fileUploadUrl.replace(/\+/g, '%2B');
}

export async function upload(fileUploadUrl: string, data: Buffer): Promise<void> {
  await new BlockBlobClient(fixedUploadUrl(fileUploadUrl)).upload(data, data.length);
}
