import type { RunState } from '../../lib/run';
import {
  boundedFollowerStatus,
  boundedRunState,
  CUSTOM_STATUS_BUDGET_BYTES,
  shorten,
  utf16Bytes,
  utf16KB,
} from '../../lib/statusBound';

const long = (n: number, c = 'x'): string => c.repeat(n);

function hugeState(): RunState {
  const problems = Array.from({ length: 101 }, (_, i) => ({
    file: 'submission.json',
    field: `submission.listings.en-us.baseListing.images[${i}].fileName`,
    message: `"images/${long(80)}-${i}.png" is not in the zip`,
  }));
  const message = problems.map((p) => `${p.file} ${p.field}: ${p.message}`).join('\n');
  const issue = (i: number) => ({ code: `Code${i}`, details: long(500, 'd') });
  return {
    phase: 'Failed',
    blob: { container: 'zips', name: 'a.zip', etag: '"e"' },
    product: { kind: 'app', applicationId: '9N' },
    submissionId: '1152921505',
    timeline: Array.from({ length: 40 }, (_, i) => ({
      step: `step${i}`,
      startedAt: '2026-01-01T00:00:00Z',
      result: 'failed' as const,
      detail: message,
      correlationIds: Array.from({ length: 30 }, (_, j) => `corr-${i}-${j}-${long(20)}`),
    })),
    statusDetails: {
      errors: Array.from({ length: 50 }, (_, i) => issue(i)),
      warnings: Array.from({ length: 50 }, (_, i) => issue(i)),
      certificationReports: Array.from({ length: 50 }, (_, i) => ({ date: `d${i}`, reportUrl: `https://r/${i}` })),
    },
    waitedFor: Array.from({ length: 100 }, (_, i) => `zip-${i}`),
    failure: {
      step: 'validateZip',
      message,
      advice: long(5000),
      facts: { code: 'InvalidManifest', retriable: false, problems },
    },
    outcome: 'Failed',
  };
}

describe('the bounded custom status', () => {
  it('measures UTF-16 as the extension does, truncating KB', () => {
    expect(utf16Bytes('ab')).toBe(8); // "ab" with its quotes
    expect(utf16KB(long(8701))).toBe(16); // 17,406 bytes with its quotes: the extension rounds down to 16 KB, which passes
    expect(utf16KB(long(8702))).toBe(17); // 17,408 bytes: 17 KB, which fails
  });

  it('shortens text saying how much is left out, within the limit', () => {
    const cut = shorten(long(1000), 200);
    expect(cut.length).toBeLessThanOrEqual(200);
    expect(cut).toMatch(/^x+ … \(\d+ characters left out; the report has all of it\) … x+$/);
    expect(shorten('short', 200)).toBe('short');
  });

  it('keeps a huge state under the budget and what a cleanup needs whole; the input is left as it was', () => {
    const state = hugeState();
    const before = JSON.stringify(state);
    expect(utf16Bytes(state)).toBeGreaterThan(16 * 1024 * 10);
    const bounded = boundedRunState(state);
    expect(utf16Bytes(bounded)).toBeLessThanOrEqual(CUSTOM_STATUS_BUDGET_BYTES);
    expect(JSON.stringify(state)).toBe(before);
    expect(bounded).toMatchObject({ blob: state.blob, product: state.product, submissionId: state.submissionId });
    expect(bounded.failure!.facts).toMatchObject({ code: 'InvalidManifest', retriable: false });
    const problems = bounded.failure!.facts.problems!;
    const { file, field } = state.failure!.facts.problems![0]!;
    expect(problems[0]).toMatchObject({ file, field, message: expect.stringMatching(/^"images\/x+/) });
    expect(problems[problems.length - 1]!.message).toMatch(/^and \d+ more problem\(s\)/);
    expect(bounded.timeline[0]!.step).toBe('step0');
    expect(bounded.timeline[bounded.timeline.length - 1]!.step).toBe('step39');
  });

  it('leaves a small state as it is', () => {
    const small: RunState = { phase: 'Validating', blob: { container: 'c', name: 'n', etag: 'e' }, timeline: [] };
    expect(boundedRunState(small)).toEqual(small);
  });

  it("bounds a follower's Store issues", () => {
    const view = boundedFollowerStatus({ storeStatus: 'CommitFailed', statusDetails: hugeState().statusDetails });
    expect(utf16Bytes(view)).toBeLessThanOrEqual(CUSTOM_STATUS_BUDGET_BYTES);
    expect(view.statusDetails!.errors.length).toBeLessThanOrEqual(11);
  });
});
