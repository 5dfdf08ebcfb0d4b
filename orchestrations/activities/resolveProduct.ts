import type { Target } from '../../lib/manifest';
import { resolveProduct as resolve } from '../../lib/storeSteps';
import { defineActivity, type ActivityInput } from './activity';

export interface ResolveProductInput extends ActivityInput {
  target: Target;
  /** The manifest names `pricing.priceId`; otherwise the published price must be one the run can send back. */
  manifestNamesPriceId?: boolean;
}

/** Finds (or for a flight or add-on named by name, creates) the product, and reads its pending and published submissions. */
export const resolveProduct = defineActivity('resolveProduct', async (input: ResolveProductInput, scope) => {
  const resolved = await resolve(scope.store(), input.target, input.manifestNamesPriceId === true);
  if (resolved.created) scope.log(`created the ${resolved.created} the manifest names`);
  return resolved;
});
