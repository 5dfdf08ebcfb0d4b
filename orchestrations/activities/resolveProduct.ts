import type { Target } from '../../lib/manifest';
import { resolveProduct as resolve } from '../../lib/storeSteps';
import { defineActivity, type ActivityInput } from './activity';

export interface ResolveProductInput extends ActivityInput {
  target: Target;
}

/** Finds (or for a flight or add-on named by name, creates) the product, and reads its pending and published submissions. */
export const resolveProduct = defineActivity('resolveProduct', async (input: ResolveProductInput, scope) => {
  const resolved = await resolve(scope.store(), input.target);
  if (resolved.created) scope.log(`created the ${resolved.created} the manifest names`);
  return resolved;
});
