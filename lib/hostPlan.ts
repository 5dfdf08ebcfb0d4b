/**
 * The Functions hosting plans and what each one allows of `host.json`'s `functionTimeout`, as
 * pure functions: the test that reads host.json, the sandbox host's `--plan` and the upload's
 * time slices all use them.
 *
 * Sources:
 * - Microsoft's table of defaults and maximums (docs include `functions-timeout-duration.md`):
 *   Consumption 5 minutes by default, at most 10; Flex Consumption, Premium and Dedicated 30
 *   minutes by default, no maximum ("unbounded"; the platform can still recycle an instance, so
 *   long work must be resumable).
 * - The host's own check (azure-functions-host `src/WebJobs.Script/Config/ScriptJobHostOptionsSetup.cs`,
 *   `ConfigureFunctionTimeout` / `ValidateTimeoutValue`): below 1 second, or above 10 minutes on
 *   the dynamic (Consumption) SKU, it throws `FunctionTimeout must be greater than 00:00:01 and
 *   less than 00:10:00.` and the host does not start; `-1` means no timeout, except on Consumption.
 */

export const HOSTING_PLANS = ['flex', 'premium', 'dedicated', 'consumption'] as const;
export type HostingPlan = (typeof HOSTING_PLANS)[number];

export function isHostingPlan(value: string): value is HostingPlan {
  return (HOSTING_PLANS as readonly string[]).includes(value);
}

const MINUTE = 60_000;
const MIN_FUNCTION_TIMEOUT_MS = 1000;

export interface TimeoutLimits {
  /** When host.json sets no functionTimeout. */
  defaultMs: number;
  /** The most the host accepts; undefined: no maximum. */
  maxMs?: number;
  /** Whether `-1` (no timeout at all) is accepted. */
  unboundedAllowed: boolean;
}

export const FUNCTION_TIMEOUT_LIMITS: Record<HostingPlan, TimeoutLimits> = {
  consumption: { defaultMs: 5 * MINUTE, maxMs: 10 * MINUTE, unboundedAllowed: false },
  flex: { defaultMs: 30 * MINUTE, unboundedAllowed: true },
  premium: { defaultMs: 30 * MINUTE, unboundedAllowed: true },
  dedicated: { defaultMs: 30 * MINUTE, unboundedAllowed: true },
};

/**
 * The app's `functionTimeout` (host.json; a test keeps the two equal): the lowest maximum of all
 * plans, so one host.json is valid everywhere. Every activity is designed to end well within it
 * (the upload works in slices, see `uploadSliceMs`).
 */
export const APP_FUNCTION_TIMEOUT_MS = 10 * MINUTE;

/**
 * A .NET TimeSpan as host.json writes it: `[-][d.]hh:mm:ss[.fffffff]`, or `-1` (no timeout).
 * Returns milliseconds, `null` for no timeout, undefined when the text is not a TimeSpan.
 */
export function parseTimeSpan(text: string): number | null | undefined {
  const t = text.trim();
  if (t === '-1' || t === '-1.00:00:00') return null;
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?$/.exec(t);
  if (!m) return undefined;
  const [, d, h, min, s, frac] = m;
  if (Number(h) > 23 || Number(min) > 59 || Number(s) > 59) return undefined;
  const ms =
    ((Number(d ?? 0) * 24 + Number(h)) * 60 + Number(min)) * 60_000 +
    Number(s) * 1000 +
    Math.floor(Number(`0.${frac ?? '0'}`) * 1000);
  return ms;
}

/** `hh:mm:ss` (with days when needed), as the host prints a TimeSpan. */
export function formatTimeSpan(ms: number): string {
  const total = Math.floor(ms / 1000);
  const days = Math.floor(total / 86_400);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const hms = `${pad(Math.floor(total / 3600) % 24)}:${pad(Math.floor(total / 60) % 60)}:${pad(total % 60)}`;
  return days > 0 ? `${days}.${hms}` : hms;
}

/**
 * What the host on `plan` says of host.json's `functionTimeout` (undefined: not set): the
 * message it refuses to start with, or undefined when it accepts the value.
 */
export function functionTimeoutProblem(plan: HostingPlan, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const limits = FUNCTION_TIMEOUT_LIMITS[plan];
  const max = limits.maxMs === undefined ? '10675199.02:48:05.4775807' : formatTimeSpan(limits.maxMs);
  const refusal = `FunctionTimeout must be greater than ${formatTimeSpan(MIN_FUNCTION_TIMEOUT_MS)} and less than ${max}.`;
  if (typeof value !== 'string') return `functionTimeout must be a TimeSpan string such as "00:10:00".`;
  const ms = parseTimeSpan(value);
  if (ms === undefined) return `functionTimeout "${value}" is not a TimeSpan such as "00:10:00".`;
  if (ms === null) return limits.unboundedAllowed ? undefined : refusal;
  if (ms < MIN_FUNCTION_TIMEOUT_MS || (limits.maxMs !== undefined && ms > limits.maxMs)) return refusal;
  return undefined;
}

/** The timeout each invocation gets on `plan` (null: none), for a value the host accepts. */
export function effectiveFunctionTimeoutMs(plan: HostingPlan, value: unknown): number | null {
  if (typeof value !== 'string') return FUNCTION_TIMEOUT_LIMITS[plan].defaultMs;
  const ms = parseTimeSpan(value);
  return ms === undefined ? FUNCTION_TIMEOUT_LIMITS[plan].defaultMs : ms;
}

/** Left of an upload call's time for what is not staging blocks: the submission read, the block list, the commit. */
export const UPLOAD_CALL_MARGIN_MS = MINUTE;

/**
 * How long one call of the upload activity keeps beginning new blocks. A block begun just before
 * the slice ends still finishes within its own deadline (`blockDeadlineMs`: the request timeout
 * plus a second per MiB, lib/upload.ts), and the margin covers the rest, so the call ends within
 * `functionTimeoutMs`; the orchestration calls again for the blocks still missing. At least one
 * minute, so a call always makes progress.
 */
export function uploadSliceMs(functionTimeoutMs: number, blockDeadlineMs: number): number {
  return Math.max(MINUTE, functionTimeoutMs - blockDeadlineMs - UPLOAD_CALL_MARGIN_MS);
}
