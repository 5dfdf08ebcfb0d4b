/** Runtime settings of the emulator; every one can be changed while it runs (`PUT /_emulator/config`). */
export interface EmulatorConfig {
  /** CommitStarted → PreProcessing (the zip is checked at the end of this step). */
  commitProcessingMs: number;
  /** PreProcessing → Certification. */
  preProcessingMs: number;
  /** Certification → Release (or CertificationFailed). */
  certificationMs: number;
  /** Release → PendingPublication when targetPublishMode is Immediate (Manual waits for `admin.publish`, SpecificDate for its date). */
  releaseMs: number;
  /** PendingPublication → Publishing → Published, split in two halves. */
  publishingMs: number;
  /** Lifetime of issued access tokens; the API answers 401 afterwards. */
  tokenLifetimeSeconds: number;
  /**
   * 429 after `rateLimitPerMinute` API calls of one tenant inside a sliding `rateLimitWindowMs`:
   * "The Submission API limits a Tenant to 20 requests per minute" (StoreBroker USAGE.md).
   * Sliding, which is stricter than the per-minute count the Store keeps.
   */
  rateLimitEnabled: boolean;
  rateLimitPerMinute: number;
  rateLimitWindowMs: number;
  /**
   * Commits limited further, per tenant and window (StoreBroker#159: rate-limited on commit alone,
   * about one submission every 3-4 minutes). No number is published; 5 is this emulator's choice.
   * 0 switches it off.
   */
  commitRateLimitPerMinute: number;
  /**
   * The daily limit StoreBroker#159 reports besides the per-minute one, in API calls per tenant
   * per `dailyRateWindowMs`. No number is published, so it is off (0) unless a test sets one.
   */
  dailyRateLimit: number;
  dailyRateWindowMs: number;
  /**
   * A create answered with the full clone fails with 500 once the clone's JSON exceeds this many
   * bytes, after the submission was made (StoreBroker ApplicationApi: isMinimalResponse "to try to
   * help avoid the 500 errors that can happen when the service has trouble with timing out when
   * trying to clone and return larger submissions"). The size is this emulator's choice; 0 = off.
   */
  fullCloneMaxBytes: number;
  /** `sv` of minted upload SAS URLs; it decides the size limits and whether Put Block From URL is accepted. */
  uploadSasVersion: string;
  uploadUrlLifetimeSeconds: number;
  /** Page size of list calls when `top` is not given. */
  defaultPageSize: number;
}

/** The whole commit-to-published path takes about 25 s: slow enough to watch in a demo. */
export const DEFAULT_CONFIG: EmulatorConfig = Object.freeze({
  commitProcessingMs: 3000,
  preProcessingMs: 5000,
  certificationMs: 9000,
  releaseMs: 3000,
  publishingMs: 5000,
  tokenLifetimeSeconds: 3600,
  rateLimitEnabled: true,
  rateLimitPerMinute: 20,
  rateLimitWindowMs: 60_000,
  commitRateLimitPerMinute: 5,
  dailyRateLimit: 0,
  dailyRateWindowMs: 24 * 3600 * 1000,
  fullCloneMaxBytes: 100_000,
  uploadSasVersion: '2017-04-17',
  uploadUrlLifetimeSeconds: 24 * 3600,
  defaultPageSize: 10,
});

/** Overlays `partial` on `base`, refusing unknown keys and values of the wrong type (a typo must not pass silently). */
export function mergeConfig(base: EmulatorConfig, partial: unknown): EmulatorConfig {
  if (partial === undefined || partial === null) return { ...base };
  if (typeof partial !== 'object' || Array.isArray(partial)) throw new TypeError('config must be an object');
  const next: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(partial)) {
    if (!(key in DEFAULT_CONFIG)) throw new TypeError(`unknown config key '${key}'`);
    const expected = typeof (DEFAULT_CONFIG as unknown as Record<string, unknown>)[key];
    if (typeof value !== expected) throw new TypeError(`config '${key}' must be a ${expected}`);
    if (expected === 'number' && (!Number.isFinite(value) || (value as number) < 0)) {
      throw new TypeError(`config '${key}' must be a non-negative number`);
    }
    if (key === 'uploadSasVersion' && !/^\d{4}-\d{2}-\d{2}$/.test(value as string)) {
      throw new TypeError(`config 'uploadSasVersion' must look like 2017-04-17`);
    }
    next[key] = value;
  }
  return next as unknown as EmulatorConfig;
}
