/**
 * The emulated Store submission API for MSI or EXE apps: mounted by the emulator's HTTP listener
 * under `/submission/v1/` (API) and `/_emulator/win32/` (admin). See README.md here.
 */
import type { Win32Config } from './config';
import type { Win32Fault, Win32FaultSpec } from './faults';
import type { Win32Seed } from './seed';

export { Win32Emulator, WIN32_PREFIX, type Win32Host } from './api';
export { DEFAULT_WIN32_CONFIG, type Win32Config } from './config';
export type { Win32Fault, Win32FaultSpec } from './faults';
export { WIN32_SEED_IDS, WIN32_SELLER_ID, defaultWin32Seed, type Win32Seed, type Win32SeedProduct } from './seed';
export type { DownloadResult } from './downloads';

/** `GET /_emulator/win32/state`: products with their drafts, submissions, the package download log. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Win32State = Record<string, any>;

/** Typed client of the win32 admin API, for tests and the sandbox. */
export class Win32Admin {
  constructor(private readonly url: string) {}

  state(): Promise<Win32State> {
    return this.call('GET', 'state');
  }
  /** Back to the start seed (or `seed`); clears faults, the download log and the rate window. */
  async reset(seed?: Win32Seed | 'default' | 'none'): Promise<void> {
    await this.call('POST', 'reset', seed);
  }
  configure(partial: Partial<Win32Config>): Promise<Win32Config> {
    return this.call('PUT', 'config', partial);
  }
  fault(spec: Win32FaultSpec): Promise<Win32Fault> {
    return this.call('POST', 'faults', spec);
  }
  async clearFaults(): Promise<void> {
    await this.call('DELETE', 'faults');
  }
  async removeFault(id: string): Promise<void> {
    await this.call('DELETE', `faults/${encodeURIComponent(id)}`);
  }
  /** Ends a submission in progress (a held Partner Center one, say): PUBLISHED by default, or FAILED. */
  complete(
    submissionId: string,
    status: 'PUBLISHED' | 'FAILED' = 'PUBLISHED',
    message?: string,
  ): Promise<{ status: string }> {
    return this.call('POST', `submissions/${submissionId}/complete`, { status, message });
  }
  /** Someone submits the product's draft in Partner Center now; held (until `complete`) unless `held: false`. */
  portalSubmission(productId: string, held = true): Promise<{ submissionId: string }> {
    return this.call('POST', `products/${productId}/portalSubmission`, { held });
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}/_emulator/win32/${path}`, {
      method,
      headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`emulator win32 admin ${method} ${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}
