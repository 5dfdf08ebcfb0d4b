/**
 * What `GET /api/products/{kind}/{id}/published` answers: a product's last published
 * submission as the Store has it, for `store-submitter pull` to turn into a release folder.
 * Decisions only; the HTTP function (functions/publishedHttp.ts) does the calls, and
 * lib/productRoute.ts reads the product from the route.
 */
import { isObject } from './json';
import { redact } from './redact';
import type { ProductRef } from './store/kinds';
import type { Application, Flight, InAppProduct, Product, Submission } from './store/types';

type Json = Record<string, unknown>;

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
