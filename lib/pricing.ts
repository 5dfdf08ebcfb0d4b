/**
 * Whether a run can keep a product's price when the manifest does not name `pricing`.
 *
 * The Store's clone carries the published pricing, and the run sends it back unchanged. That
 * works for a price the API can express: `Free`, `NotAvailable` or a tier (`TierN`) round-trips.
 * It cannot for a product on the newer, per-market pricing model, whose clone says
 * `priceId: "Base"` (or another value that is no tier): measured against the live API
 * (msstore-cli PR #175; msstore-cli#66, #112; StoreBroker#68; isaacrlevin/windows-store-action#11),
 * a PUT with "Base" gets 400 "'Base' is not a valid PriceId for base price.", a PUT without
 * `pricing` gets 400, and a PUT with `priceId` left out or null is accepted and makes the product
 * free; a tier sets one base price for every market, which collapses per-market prices. So no
 * request keeps such a price: the run stops before it creates anything, and says what the user can do.
 */
import { StoreOutcomeError } from './errors';
import type { TargetKind } from './manifest/types';

/** Price ids the submission API accepts back as they are: Free, NotAvailable, Tier2..Tier96, Tier1012..Tier1424. */
export function isRoundTrippingPriceId(priceId: unknown): boolean {
  if (priceId === 'Free' || priceId === 'NotAvailable') return true;
  const tier = typeof priceId === 'string' ? /^Tier(\d+)$/.exec(priceId) : null;
  if (!tier) return false;
  const n = Number(tier[1]);
  return (n >= 2 && n <= 96) || (n >= 1012 && n <= 1424);
}

export interface PublishedPricing {
  submissionId: string;
  /** `pricing.priceId` of the published submission; null or absent when it has none. */
  priceId?: string | null;
}

/**
 * The refusal, when the manifest leaves `pricing` out and the published price cannot be sent
 * back; undefined when the run can go on (a flight has no pricing; a product never published
 * has nothing to keep).
 */
export function pricingRefusal(
  kind: TargetKind,
  productName: string,
  published: PublishedPricing | undefined,
  manifestNamesPriceId: boolean,
): StoreOutcomeError | undefined {
  if (kind === 'flight' || manifestNamesPriceId || !published) return undefined;
  if (isRoundTrippingPriceId(published.priceId)) return undefined;
  const shown =
    published.priceId === undefined || published.priceId === null
      ? 'no pricing.priceId'
      : `pricing.priceId "${published.priceId}"`;
  return new StoreOutcomeError(
    `The published submission ${published.submissionId} of ${productName} has ${shown}: the product is on the Store's newer, per-market pricing model, ` +
      'and the submission API cannot keep that price (it refuses "Base" back with 400 "\'Base\' is not a valid PriceId for base price.", ' +
      'and a submission without a priceId makes the product free). Nothing was created and the price is unchanged. ' +
      'Either name the price in submission.json submission.pricing.priceId (a tier such as "Tier5" sets one base price for every market and replaces per-market prices; "Free" makes it free), ' +
      'or submit this update in Partner Center.',
    'PriceCannotBeKept',
  );
}
