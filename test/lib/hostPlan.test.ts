/**
 * host.json against each hosting plan's limits (lib/hostPlan.ts, with the docs and host source it
 * cites), and the upload's time slice against the app's functionTimeout.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../lib/config';
import {
  APP_FUNCTION_TIMEOUT_MS,
  FUNCTION_TIMEOUT_LIMITS,
  HOSTING_PLANS,
  UPLOAD_CALL_MARGIN_MS,
  effectiveFunctionTimeoutMs,
  formatTimeSpan,
  functionTimeoutProblem,
  parseTimeSpan,
  uploadSliceMs,
} from '../../lib/hostPlan';
import { blockDeadlineMs } from '../../lib/upload';
import { MINIMAL_SETTINGS } from '../helpers/settings';

const hostJson = JSON.parse(readFileSync(join(__dirname, '..', '..', 'host.json'), 'utf8')) as {
  functionTimeout?: string;
};

describe('host.json on every plan', () => {
  it.each(HOSTING_PLANS)('sets a functionTimeout the host accepts on %s', (plan) => {
    expect(hostJson.functionTimeout).toBeDefined();
    expect(functionTimeoutProblem(plan, hostJson.functionTimeout)).toBeUndefined();
  });

  it('sets the timeout the app is designed for: the lowest maximum of all plans (Consumption, 10 minutes)', () => {
    expect(parseTimeSpan(hostJson.functionTimeout!)).toBe(APP_FUNCTION_TIMEOUT_MS);
    expect(APP_FUNCTION_TIMEOUT_MS).toBe(FUNCTION_TIMEOUT_LIMITS.consumption.maxMs);
    for (const plan of HOSTING_PLANS) expect(effectiveFunctionTimeoutMs(plan, hostJson.functionTimeout)).toBe(600_000);
  });
});

describe('functionTimeoutProblem', () => {
  it("refuses on Consumption what its host refuses, in the host's words", () => {
    const refusal = 'FunctionTimeout must be greater than 00:00:01 and less than 00:10:00.';
    expect(functionTimeoutProblem('consumption', '00:30:00')).toBe(refusal);
    expect(functionTimeoutProblem('consumption', '00:10:01')).toBe(refusal);
    expect(functionTimeoutProblem('consumption', '-1')).toBe(refusal);
    expect(functionTimeoutProblem('consumption', '00:00:00.5')).toBe(refusal);
    expect(functionTimeoutProblem('consumption', '00:10:00')).toBeUndefined();
  });

  it('accepts any length, and no timeout at all, on Flex, Premium and Dedicated', () => {
    for (const plan of ['flex', 'premium', 'dedicated'] as const) {
      expect(functionTimeoutProblem(plan, '00:30:00')).toBeUndefined();
      expect(functionTimeoutProblem(plan, '1.00:00:00')).toBeUndefined();
      expect(functionTimeoutProblem(plan, '-1')).toBeUndefined();
      expect(functionTimeoutProblem(plan, '00:00:00')).toMatch(/greater than 00:00:01/);
    }
  });

  it('reads TimeSpans as .NET writes them, and defaults per plan when unset', () => {
    expect(parseTimeSpan('01:02:03')).toBe(3_723_000);
    expect(parseTimeSpan('2.00:00:00.250')).toBe(172_800_250);
    expect(parseTimeSpan('-1')).toBeNull();
    expect(parseTimeSpan('30m')).toBeUndefined();
    expect(functionTimeoutProblem('flex', '30m')).toMatch(/not a TimeSpan/);
    expect(formatTimeSpan(600_000)).toBe('00:10:00');
    expect(effectiveFunctionTimeoutMs('consumption', undefined)).toBe(5 * 60_000);
    expect(effectiveFunctionTimeoutMs('flex', undefined)).toBe(30 * 60_000);
    expect(effectiveFunctionTimeoutMs('premium', '-1')).toBeNull();
  });
});

describe('the upload within the timeout', () => {
  const settings = MINIMAL_SETTINGS;

  it('ends every call, a last block begun at the end of its slice included, within functionTimeout with the default settings', () => {
    const c = loadConfig(settings);
    for (const method of ['auto', 'fromUrl', 'stream'] as const) {
      const block = blockDeadlineMs({
        blockSizeBytes: c.upload.blockSizeBytes,
        requestTimeoutMs: c.store.requestTimeoutMs,
        method,
      });
      const slice = uploadSliceMs(APP_FUNCTION_TIMEOUT_MS, block);
      expect(slice).toBeGreaterThanOrEqual(60_000);
      expect(slice + block + UPLOAD_CALL_MARGIN_MS).toBeLessThanOrEqual(APP_FUNCTION_TIMEOUT_MS);
    }
  });

  it('still begins blocks for a minute when the settings leave less room (the host timeout then cuts, and the next call resumes)', () => {
    expect(uploadSliceMs(APP_FUNCTION_TIMEOUT_MS, 700_000)).toBe(60_000);
  });
});
