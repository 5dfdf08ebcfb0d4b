/**
 * The product a `/api/products/{kind}/{id}[?applicationId=]` route names, for every route under
 * it (the published submission, the package rollout): `app/{Store ID}`, `addon/{Store ID}`,
 * `flight/{flight id}?applicationId={Store ID}` (the Store addresses a flight under its app).
 * One reader, so the routes take the same spellings and refuse in the same words.
 */
import type { ProductKind, ProductRef } from './store/kinds';

/** A route that names no product the API can serve: 400 with this code and message. */
export class ProductRouteError extends Error {
  override readonly name = 'ProductRouteError';
  readonly status = 400;
  constructor(
    readonly code: 'InvalidProductKind' | 'InvalidProductId',
    message: string,
  ) {
    super(message);
  }
}

/** A Store ID: 12 letters and digits. Partner Center shows them in capitals; any case is taken. */
const STORE_ID = /^[0-9A-Z]{12}$/i;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const NAMES: Record<ProductKind, string> = { app: 'app', flight: 'flight', addon: 'add-on' };

/**
 * The product of a route: Store IDs in capitals, a flight id in lower case (as the Store
 * answers them). `kinds` are the kinds the route serves; another kind is refused naming them.
 */
export function productOfRoute(
  kind: string,
  id: string,
  applicationId?: string | null,
  kinds: readonly ProductKind[] = ['app', 'flight', 'addon'],
): ProductRef {
  if (!(kinds as readonly string[]).includes(kind)) {
    const known = kind === 'app' || kind === 'flight' || kind === 'addon';
    throw new ProductRouteError(
      'InvalidProductKind',
      known
        ? `This route serves ${list(kinds)} products, not "${kind}".`
        : `"${kind}" is not a product kind: ${list(kinds)}.`,
    );
  }
  if (kind === 'flight') {
    if (!GUID.test(id))
      throw new ProductRouteError('InvalidProductId', `"${id}" is not a flight id: flight ids are GUIDs.`);
    if (!applicationId || !STORE_ID.test(applicationId))
      throw new ProductRouteError(
        'InvalidProductId',
        'A flight is named with its app: add ?applicationId=<the Store ID of the app, 12 letters and digits>.',
      );
    return { kind, applicationId: applicationId.toUpperCase(), flightId: id.toLowerCase() };
  }
  if (!STORE_ID.test(id))
    throw new ProductRouteError(
      'InvalidProductId',
      `"${id}" is not a Store ID: an ${NAMES[kind as ProductKind]} id has 12 letters and digits, e.g. 9NBLGGH4R315.`,
    );
  return kind === 'app'
    ? { kind, applicationId: id.toUpperCase() }
    : { kind: 'addon', inAppProductId: id.toUpperCase() };
}

function list(kinds: readonly ProductKind[]): string {
  const quoted = kinds.map((k) => `"${k}"`);
  return quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}` : (quoted[0] ?? '');
}
