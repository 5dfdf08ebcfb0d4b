/**
 * Apps, flights and add-ons differ only in where things live and what their fields are
 * called. This table carries that difference, so nothing else branches on the kind.
 */

export type ProductRef =
  | { kind: 'app'; applicationId: string }
  | { kind: 'flight'; applicationId: string; flightId: string }
  | { kind: 'addon'; inAppProductId: string };

export type ProductKind = ProductRef['kind'];

export interface KindInfo {
  /** The product resource, relative to the API base (`applications/{id}`, ...). */
  productPath(ref: ProductRef): string;
  /** The product's field that points at its pending submission (`{id, resourceLocation}`). */
  pendingField: string;
  /** The product's field that points at its last published submission. */
  publishedField: string;
  /** The submission's package list; add-ons have none (their icon lives in the listings). */
  packagesField?: string;
  /** A short human name for messages: `application 9NBLGGH4R315`, `flight <guid> of application ...`. */
  describe(ref: ProductRef): string;
}

/** A path segment from an id; ids come from users and the Store, so they are encoded and never empty. */
export function segment(id: string, name: string): string {
  if (typeof id !== 'string' || id.trim() === '') throw new TypeError(`${name} must be a non-empty string`);
  return encodeURIComponent(id);
}

function field<K extends ProductKind>(ref: ProductRef, kind: K): Extract<ProductRef, { kind: K }> {
  if (ref.kind !== kind) throw new TypeError(`expected a ${kind} reference, got ${ref.kind}`);
  return ref as Extract<ProductRef, { kind: K }>;
}

export const KINDS: { readonly [K in ProductKind]: KindInfo } = {
  app: {
    productPath: (ref) => `applications/${segment(field(ref, 'app').applicationId, 'applicationId')}`,
    pendingField: 'pendingApplicationSubmission',
    publishedField: 'lastPublishedApplicationSubmission',
    packagesField: 'applicationPackages',
    describe: (ref) => `application ${field(ref, 'app').applicationId}`,
  },
  flight: {
    productPath: (ref) => {
      const r = field(ref, 'flight');
      return `applications/${segment(r.applicationId, 'applicationId')}/flights/${segment(r.flightId, 'flightId')}`;
    },
    pendingField: 'pendingFlightSubmission',
    publishedField: 'lastPublishedFlightSubmission',
    packagesField: 'flightPackages',
    describe: (ref) => {
      const r = field(ref, 'flight');
      return `flight ${r.flightId} of application ${r.applicationId}`;
    },
  },
  addon: {
    productPath: (ref) => `inappproducts/${segment(field(ref, 'addon').inAppProductId, 'inAppProductId')}`,
    pendingField: 'pendingInAppProductSubmission',
    publishedField: 'lastPublishedInAppProductSubmission',
    describe: (ref) => `add-on ${field(ref, 'addon').inAppProductId}`,
  },
};

export function kindInfo(kind: ProductKind): KindInfo {
  const info = KINDS[kind];
  if (!info) throw new TypeError(`unknown product kind: ${String(kind)}`);
  return info;
}

export function productPath(ref: ProductRef): string {
  return kindInfo(ref.kind).productPath(ref);
}

/** `<product>/submissions[/{id}[/<action>]]`: the same shape for every kind. */
export function submissionPath(ref: ProductRef, submissionId?: string, action?: string): string {
  let path = `${productPath(ref)}/submissions`;
  if (submissionId !== undefined) path += `/${segment(submissionId, 'submissionId')}`;
  if (action) path += `/${action}`;
  return path;
}

/** The id of the submission a product's pending (or published) field points at, if any. */
export function submissionIdIn(product: unknown, fieldName: string): string | undefined {
  if (!product || typeof product !== 'object') return undefined;
  const pointer = (product as Record<string, unknown>)[fieldName];
  if (!pointer || typeof pointer !== 'object') return undefined;
  const id = (pointer as Record<string, unknown>).id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

export function describeProduct(ref: ProductRef): string {
  return kindInfo(ref.kind).describe(ref);
}
