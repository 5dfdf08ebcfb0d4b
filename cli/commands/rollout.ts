import { registerSecret } from '../../lib/redact';
import { EXIT, UsageError, type ExitCode } from '../errors';
import { FunctionsClient } from '../functionsClient';
import type { Output } from '../output';

export interface ApiOptions {
  functionsUrl: string;
  functionKey?: string;
}

export type RolloutAction = 'status' | 'set' | 'halt' | 'finalize';

const STORE_ID = /^[0-9A-Z]{12}$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `9NBLGGH4R315` (an app) or `9NBLGGH4R315/<flight id>` (a flight of it) → the product's part of the API route. */
export function productRoute(product: string): string {
  const [app, flight, ...rest] = product.split('/');
  if (!app || !STORE_ID.test(app) || rest.length > 0 || (flight !== undefined && !GUID.test(flight)))
    throw new UsageError(
      `"${product}" is neither an app (its Store ID, such as 9NBLGGH4R315) nor a flight (<Store ID>/<flight id>)`,
      '<product>',
    );
  return flight === undefined
    ? `app/${app}`
    : `flight/${encodeURIComponent(flight)}?applicationId=${encodeURIComponent(app)}`;
}

function percentageOf(raw: string | undefined): number {
  const value = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(value) || value < 0 || value > 100)
    throw new UsageError(`the percentage must be a number from 0 to 100, got "${raw ?? ''}"`, '<percentage>');
  return value;
}

/** One line a person reads: where the rollout is. */
export function rolloutLine(rollout: Record<string, unknown>): string {
  const product = rollout.product as Record<string, unknown> | undefined;
  const name =
    product?.kind === 'flight'
      ? `flight ${String(product.flightId)} of ${String(product.applicationId)}`
      : `app ${String(product?.applicationId)}`;
  const gradual = rollout.isPackageRollout === true;
  const fallbackId = typeof rollout.fallbackSubmissionId === 'string' ? rollout.fallbackSubmissionId : '0';
  const fallback = gradual && fallbackId !== '0' ? `; the others get submission ${fallbackId}` : '';
  return gradual
    ? `Rollout of ${name}, submission ${String(rollout.submissionId)}: ${String(rollout.status)} at ${String(rollout.percentage)}%${fallback}`
    : `Submission ${String(rollout.submissionId)} of ${name} has no gradual rollout (${String(rollout.status)}).`;
}

/** `rollout status|set|halt|finalize <product> [percentage]`, through the Functions app (which holds the Store credential). */
export async function rolloutCommand(
  action: RolloutAction,
  product: string,
  percentage: string | undefined,
  options: ApiOptions,
  out: Output,
): Promise<ExitCode> {
  out.secret(options.functionKey);
  registerSecret(options.functionKey);
  try {
    const route = productRoute(product);
    if (action !== 'set' && percentage !== undefined)
      throw new UsageError(`"rollout ${action}" takes no percentage`, '<percentage>');
    const change =
      action === 'status'
        ? undefined
        : action === 'set'
          ? { percentage: percentageOf(percentage) }
          : action === 'halt'
            ? { halt: true }
            : { finalize: true };
    const functions = new FunctionsClient(options.functionsUrl, options.functionKey);
    const rollout = await functions.rollout(route, change);
    out.result(rollout, () => rolloutLine(rollout));
    return EXIT.ok;
  } catch (e) {
    return out.fail(e);
  }
}
