/**
 * What `GET /api/products/{kind}/{id}/published` answers: a product's last published
 * submission as the Store has it, for `store-submitter pull` to turn into a release folder.
 * Decisions only; the HTTP function (functions/publishedHttp.ts) does the calls.
 */
import { isObject } from './json';
import { redact } from './redact';
import type { ProductRef } from './store/kinds';
import type { Application, Flight, InAppProduct, Product, Submission } from './store/types';

type Json = Record<string, unknown>;

/** A request that names no product the API can look up: 400 with this code and message. */
export class PublishedRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PublishedRequestError';
  }
}

const APP_ID = /^[0-9A-Z]{12}$/i;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The product a request names: `app/{applicationId}`, `addon/{inAppProductId}`, `flight/{flightId}?applicationId=`. */
export function publishedProductOf(kind: string, id: string, applicationId?: string | null): ProductRef {
  if (kind === 'app' || kind === 'addon') {
    if (!APP_ID.test(id))
      throw new PublishedRequestError(
        400,
        'InvalidProductId',
        `"${id}" is not a Store id: an ${kind === 'app' ? 'app' : 'add-on'} id has 12 letters and digits, e.g. 9NBLGGH4R315.`,
      );
    return kind === 'app'
      ? { kind, applicationId: id.toUpperCase() }
      : { kind: 'addon', inAppProductId: id.toUpperCase() };
  }
  if (kind === 'flight') {
    if (!GUID.test(id))
      throw new PublishedRequestError(400, 'InvalidProductId', `"${id}" is not a flight id: flight ids are GUIDs.`);
    if (!applicationId || !APP_ID.test(applicationId))
      throw new PublishedRequestError(
        400,
        'InvalidProductId',
        'A flight is read through its app: add ?applicationId=<the app id, 12 letters and digits>.',
      );
    return { kind, applicationId: applicationId.toUpperCase(), flightId: id.toLowerCase() };
  }
  throw new PublishedRequestError(400, 'InvalidProductKind', `"${kind}" is not a product kind: app, flight or addon.`);
}

/** The pointer field a product of this kind keeps to its last published submission. */
export function publishedField(kind: ProductRef['kind']): string {
  return kind === 'app'
    ? 'lastPublishedApplicationSubmission'
    : kind === 'flight'
      ? 'lastPublishedFlightSubmission'
      : 'lastPublishedInAppProductSubmission';
}

/** What the answer says about the product itself: its ids and names, no submission pointers. */
export function productFacts(ref: ProductRef, product: Product): Json {
  if (ref.kind === 'app') {
    const a = product as Application;
    return { ...ref, primaryName: a.primaryName, packageIdentityName: a.packageIdentityName };
  }
  if (ref.kind === 'flight') {
    const f = product as Flight;
    return { ...ref, friendlyName: f.friendlyName, groupIds: f.groupIds ?? [], rankHigherThan: f.rankHigherThan };
  }
  const p = product as InAppProduct;
  return { ...ref, productId: p.productId, productType: p.productType };
}

/**
 * The published submission with nothing secret in it: no `fileUploadUrl` (a SAS URL with write
 * access to the Store's storage) at any depth, and every string passed through `redact`, so a
 * signature or token the Store might echo in some other field does not leave the app either.
 */
export function publicSubmission(submission: Submission): Json {
  const clean = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(clean);
    if (typeof value === 'string') return redact(value);
    if (!isObject(value)) return value;
    const out: Json = {};
    for (const [k, v] of Object.entries(value)) if (k !== 'fileUploadUrl') out[k] = clean(v);
    return out;
  };
  return clean(submission) as Json;
}
