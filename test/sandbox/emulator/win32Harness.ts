/** A client of the emulated MSI/EXE API over fetch, as any caller makes its requests, and timings for tests. */
import { BlobSASPermissions, type ContainerClient } from '@azure/storage-blob';
import { type RunningEmulator, WIN32_SCOPE, fetchToken } from '../../../sandbox/emulator';
import { eventually } from '../../helpers/eventually';
import { type ApiResponse, type Loose, answerOf } from './harness';

export { FAST_WIN32 } from '../../helpers/sandbox';

export class Win32Api {
  constructor(
    readonly emulator: RunningEmulator,
    public token: string,
    /** null: send no seller header. */
    public sellerId: string | null = emulator.win32.sellerId,
  ) {}

  static async connect(emulator: RunningEmulator): Promise<Win32Api> {
    return new Win32Api(emulator, await fetchToken(emulator, WIN32_SCOPE));
  }

  async call<T = Loose>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.token}` };
    if (this.sellerId !== null) headers['X-Seller-Account-Id'] = this.sellerId;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${this.emulator.win32.apiBaseUrl}submission/v1/product/${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return answerOf<T>(res);
  }

  get<T = Loose>(path: string): Promise<ApiResponse<T>> {
    return this.call<T>('GET', path);
  }

  /** Polls the product's module status until it is ready (or shows errors, when `orErrors`). */
  async untilReady(productId: string, orErrors = false): Promise<Loose> {
    let last = '';
    return eventually(
      `${productId} ready`,
      async () => {
        const res = await this.get(`${productId}/status`);
        last = res.text;
        return res.body?.responseData?.isReady || (orErrors && res.body?.errors?.length) ? res.body : undefined;
      },
      { everyMs: 15, lastSeen: () => last },
    );
  }

  async untilPublishingStatus(productId: string, submissionId: string, wanted: string[]): Promise<Loose> {
    let last = '';
    return eventually(
      `submission ${submissionId} ${wanted.join(' or ')}`,
      async () => {
        const res = await this.get(`${productId}/submission/${submissionId}/status`);
        last = res.text;
        return wanted.includes(res.body?.responseData?.publishingStatus) ? res.body : undefined;
      },
      { everyMs: 15, lastSeen: () => last },
    );
  }
}

/** An installer in the test's own storage, readable through a read-only SAS URL as the product makes them. */
export async function hostedInstaller(
  container: ContainerClient,
  name: string,
  data: Buffer,
  options: { expiresInSeconds?: number; permissions?: string } = {},
): Promise<string> {
  const blob = container.getBlockBlobClient(name);
  await blob.upload(data, data.length);
  return blob.generateSasUrl({
    permissions: BlobSASPermissions.parse(options.permissions ?? 'r'),
    startsOn: new Date(Date.now() - 5 * 60_000),
    expiresOn: new Date(Date.now() + (options.expiresInSeconds ?? 3600) * 1000),
  });
}

/** A package for PUT packages, with the fields the API requires. */
export function msiPackage(packageUrl: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    packageUrl,
    languages: ['en-us'],
    architectures: ['X64'],
    isSilentInstall: true,
    packageType: 'msi',
    ...extra,
  };
}
