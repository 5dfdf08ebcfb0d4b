/**
 * Runtime settings of the emulated MSI/EXE submission API; every one can be changed while it runs
 * (`PUT /_emulator/win32/config`). Timings are the emulator's own choice: the docs give none, only
 * that publishing "can take more than a day" (windows-dev-docs hub/apps/publish/store-submission-api.md).
 */
export interface Win32Config {
  /** After a metadata update or a listing assets commit, the modules stay "not ready" this long. */
  moduleProcessingMs: number;
  /** After every package of a packages commit has been downloaded, the packages module stays busy this long. */
  packageProcessingMs: number;
  /** A download of a package URL that takes longer fails (as an unreachable URL does). */
  packageDownloadTimeoutMs: number;
  /** Right after submit, the submission status reads UNKNOWN this long, then INPROGRESS. */
  submissionStartMs: number;
  /** INPROGRESS (file scanning, certification, publishing) → PUBLISHED. */
  certificationMs: number;
  /** Lifetime of the listing asset upload URLs (the docs call them short-term SAS URLs). */
  assetUploadUrlLifetimeSeconds: number;
  /** 429 after `rateLimitPerMinute` calls of one tenant inside a sliding `rateLimitWindowMs`. */
  rateLimitEnabled: boolean;
  rateLimitPerMinute: number;
  rateLimitWindowMs: number;
  /** Plain-HTTP package URLs are accepted for loopback hosts only (the sandbox's Azurite); see README. */
  allowLoopbackHttp: boolean;
}

export const DEFAULT_WIN32_CONFIG: Win32Config = Object.freeze({
  moduleProcessingMs: 1000,
  packageProcessingMs: 2000,
  packageDownloadTimeoutMs: 5 * 60_000,
  submissionStartMs: 2000,
  certificationMs: 15_000,
  assetUploadUrlLifetimeSeconds: 3600,
  rateLimitEnabled: true,
  rateLimitPerMinute: 20,
  rateLimitWindowMs: 60_000,
  allowLoopbackHttp: true,
});

/** Overlays `partial` on `base`, refusing unknown keys and values of the wrong type. */
export function mergeWin32Config(base: Win32Config, partial: unknown): Win32Config {
  if (partial === undefined || partial === null) return { ...base };
  if (typeof partial !== 'object' || Array.isArray(partial)) throw new TypeError('config must be an object');
  const next: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(partial)) {
    if (!(key in DEFAULT_WIN32_CONFIG)) throw new TypeError(`unknown win32 config key '${key}'`);
    const expected = typeof (DEFAULT_WIN32_CONFIG as unknown as Record<string, unknown>)[key];
    if (typeof value !== expected) throw new TypeError(`win32 config '${key}' must be a ${expected}`);
    if (expected === 'number' && (!Number.isFinite(value) || (value as number) < 0))
      throw new TypeError(`win32 config '${key}' must be a non-negative number`);
    next[key] = value;
  }
  return next as unknown as Win32Config;
}
