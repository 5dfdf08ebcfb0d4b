/**
 * The approval gate (`options.commit: "approval"`): the run creates, updates and uploads its
 * submission, then waits for a person to approve (commit) or reject (delete) it, or for
 * APPROVAL_TIMEOUT_HOURS to pass (delete, and fail saying so). The decisions as plain functions;
 * the wait itself is a durable external event raced with a durable timer (orchestrations/phases/approval.ts).
 */
import type { ProductRef } from './store/kinds';

/** The external event the approve and reject routes raise. */
export const APPROVAL_EVENT = 'approval';

/** What a person decided, as the event carries it and the status shows it. */
export interface ApprovalDecision {
  approved: boolean;
  /** Who: the signed-in principal (App Service authentication), else what the caller said, else unknown. */
  by: string;
  /** When the request came (ISO). */
  at: string;
  /** The approval's comment or the rejection's reason. */
  comment?: string;
}

/** The gate as the status document shows it. */
export interface ApprovalView {
  state: 'Waiting' | 'Approved' | 'Rejected' | 'TimedOut';
  requestedAt: string;
  /** When the wait ends without a decision. */
  deadline: string;
  /** Where a person can look at the submission before deciding. */
  partnerCenterUrl?: string;
  decision?: ApprovalDecision;
}

const MAX_TEXT = 500;

/**
 * The submission's page in Partner Center. Partner Center puts the submission id in the URL
 * of the submission page (create-an-app-submission.md: the id "is also available in the URL
 * for the submission page in Partner Center"); the rest of the path is the dashboard's product page.
 */
export function partnerCenterUrl(product: ProductRef, submissionId: string): string {
  const id = product.kind === 'addon' ? product.inAppProductId : product.applicationId;
  return `https://partner.microsoft.com/dashboard/products/${encodeURIComponent(id)}/submissions/${encodeURIComponent(submissionId)}`;
}

export function approvalDeadline(requestedAt: Date, timeoutHours: number): Date {
  return new Date(requestedAt.getTime() + Math.round(timeoutHours * 3_600_000));
}

export class ApprovalRequestError extends Error {
  override readonly name = 'ApprovalRequestError';
  constructor(message: string) {
    super(message);
  }
}

function text(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ApprovalRequestError(`${field} must be a string.`);
  const trimmed = value.trim();
  if (trimmed.length > MAX_TEXT) throw new ApprovalRequestError(`${field} is longer than ${MAX_TEXT} characters.`);
  return trimmed || undefined;
}

/**
 * The decision an approve or reject request makes. `body`: `{"comment": "..."}` to approve,
 * `{"reason": "..."}` to reject (a reason is required), either with an optional `"by"`;
 * `principal`: the signed-in caller's name when App Service authentication is on, which wins.
 */
export function decisionOf(
  approved: boolean,
  body: unknown,
  principal: string | undefined,
  at: Date,
): ApprovalDecision {
  const record = body === undefined || body === null ? {} : body;
  if (typeof record !== 'object' || Array.isArray(record))
    throw new ApprovalRequestError('The body must be a JSON object.');
  const fields = record as Record<string, unknown>;
  const allowed = approved ? ['comment', 'by'] : ['reason', 'by'];
  const unknown = Object.keys(fields).filter((k) => !allowed.includes(k));
  if (unknown.length)
    throw new ApprovalRequestError(
      `Unknown field(s) in the body: ${unknown.join(', ')}. Allowed: ${allowed.join(', ')}.`,
    );
  const comment = text(approved ? fields.comment : fields.reason, approved ? 'comment' : 'reason');
  if (!approved && !comment) throw new ApprovalRequestError('A rejection needs a reason: {"reason": "..."}.');
  const by = text(principal, 'the principal') ?? text(fields.by, 'by') ?? 'unknown (a caller with the function key)';
  return { approved, by, at: at.toISOString(), ...(comment ? { comment } : {}) };
}

/** The event's payload as the orchestrator reads it: anything else than a decision is no decision. */
export function isDecision(value: unknown): value is ApprovalDecision {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return typeof v.approved === 'boolean' && typeof v.by === 'string' && typeof v.at === 'string';
}
