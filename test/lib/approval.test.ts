import { ApprovalRequestError, approvalDeadline, decisionOf, isDecision, partnerCenterUrl } from '../../lib/approval';
import { loadConfig } from '../../lib/config';
import { MINIMAL_SETTINGS } from '../helpers/settings';

const AT = new Date('2026-12-02T10:00:00.000Z');

describe('the approval gate decisions', () => {
  it('records who approved, when and why; the signed-in principal wins over the body', () => {
    expect(decisionOf(true, { comment: ' looks good ', by: 'alice' }, undefined, AT)).toEqual({
      approved: true,
      by: 'alice',
      at: AT.toISOString(),
      comment: 'looks good',
    });
    expect(decisionOf(true, { by: 'alice' }, 'alice@contoso.com', AT).by).toBe('alice@contoso.com');
    expect(decisionOf(true, undefined, undefined, AT)).toEqual({
      approved: true,
      by: 'unknown (a caller with the function key)',
      at: AT.toISOString(),
    });
    expect(decisionOf(false, { reason: 'wrong icon' }, undefined, AT)).toMatchObject({
      approved: false,
      comment: 'wrong icon',
    });
  });

  it('refuses a rejection without a reason and bodies it cannot read', () => {
    for (const [approved, body] of [
      [false, {}],
      [false, { reason: '   ' }],
      [false, { comment: 'x' }],
      [true, { reason: 'x' }],
      [true, []],
      [true, 'text'],
      [true, { comment: 5 }],
      [true, { comment: 'x'.repeat(501) }],
    ] as const) {
      expect(() => decisionOf(approved, body, undefined, AT)).toThrow(ApprovalRequestError);
    }
  });

  it('tells a decision from any other payload', () => {
    expect(isDecision(decisionOf(true, {}, undefined, AT))).toBe(true);
    expect(isDecision({ approved: 'yes', by: 'x', at: 'y' })).toBe(false);
    expect(isDecision(null)).toBe(false);
  });

  it('links the submission in Partner Center and computes the deadline from APPROVAL_TIMEOUT_HOURS', () => {
    expect(partnerCenterUrl({ kind: 'app', applicationId: '9NBLGGH4R315' }, '1152921504621243540')).toBe(
      'https://partner.microsoft.com/dashboard/products/9NBLGGH4R315/submissions/1152921504621243540',
    );
    expect(partnerCenterUrl({ kind: 'addon', inAppProductId: '9NBLGGH4TNNR' }, '1')).toContain(
      '/products/9NBLGGH4TNNR/',
    );
    expect(approvalDeadline(AT, 72).toISOString()).toBe('2026-12-05T10:00:00.000Z');
    expect(approvalDeadline(AT, 0.01).getTime() - AT.getTime()).toBe(36_000);
    const base = MINIMAL_SETTINGS;
    expect(loadConfig(base).polling.approvalTimeoutHours).toBe(72);
    expect(loadConfig({ ...base, APPROVAL_TIMEOUT_HOURS: '1.5' }).polling.approvalTimeoutHours).toBe(1.5);
    expect(() => loadConfig({ ...base, APPROVAL_TIMEOUT_HOURS: '0' })).toThrow(
      /APPROVAL_TIMEOUT_HOURS must be a number/,
    );
  });
});
