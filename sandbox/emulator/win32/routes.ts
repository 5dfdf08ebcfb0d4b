/**
 * The calls on one product, below `/submission/v1/product/{productId}/` (windows-dev-docs
 * hub/apps/publish/store-submission-api.md, "API Contracts"; the path templates of its C# and
 * Node.js samples and of msstore-cli MSStore.API/StoreAPI.cs L24-34).
 */
import { type Reply, empty } from '../http';
import type { Win32Emulator } from './api';
import { urlKey } from './downloads';
import { badRequest, notFound, ok, oneError } from './http';
import { listingLanguages, listingProblems, renderAssets, renderListing, renderPackage } from './render';
import { type AssetKind, type Json, type ListingAsset, type Win32Product, languageFilter } from './state';
import { LANGUAGES } from './catalog';
import {
  Problems,
  canonical,
  checkAvailability,
  checkListing,
  checkPackage,
  checkProperties,
  isRecord,
  newListing,
} from './validate';

export interface ProductCall {
  product: Win32Product;
  method: string;
  /** Path segments below the product. */
  rest: string[];
  query: URLSearchParams;
  body(): Promise<unknown>;
}

const MODULES = ['listings', 'properties', 'availability'] as const;
const MAX_SCREENSHOTS = 10;
const MAX_LOGOS = 2;

export async function routeProductCall(api: Win32Emulator, call: ProductCall): Promise<Reply> {
  const { method } = call;
  const [a, b, c] = call.rest.map((s) => s.toLowerCase());
  const n = call.rest.length;
  if (a === 'metadata' && n <= 2) {
    if (method === 'GET') return getMetadata(api, call, b);
    if (n === 1 && (method === 'PUT' || method === 'PATCH')) return updateMetadata(api, call, method === 'PUT');
  }
  if (a === 'packages') {
    if (n === 1 && method === 'GET') return ok({ packages: api.store.packagesOf(call.product).map(renderPackage) });
    if (n === 1 && method === 'PUT') return putPackages(api, call);
    if (n === 2 && b === 'commit' && method === 'POST') return commitPackages(api, call);
    if (n === 2 && method === 'GET') return getPackage(api, call, call.rest[1]!);
    if (n === 2 && method === 'PATCH') return patchPackage(api, call, call.rest[1]!);
  }
  if (a === 'listings' && b === 'assets') {
    if (n === 2 && method === 'GET') return getAssets(api, call);
    if (n === 3 && c === 'create' && method === 'POST') return createAssets(api, call);
    if (n === 3 && c === 'commit' && method === 'PUT') return commitAssets(api, call);
  }
  if (a === 'status' && n === 1 && method === 'GET') {
    const status = api.moduleStatus(call.product);
    return ok({ isReady: status.isReady, ongoingSubmissionId: call.product.ongoingSubmissionId ?? '' }, status.errors);
  }
  if (a === 'submit' && n === 1 && method === 'POST') return submit(api, call);
  if (a === 'submission' && n === 3 && c === 'status' && method === 'GET') return submissionStatus(api, call);
  // A known path with another method: 405, as the service's router answers.
  const known = ['metadata', 'packages', 'listings', 'status', 'submit', 'submission'];
  return known.includes(a ?? '') ? empty(405) : empty(404);
}

// ---- metadata ------------------------------------------------------------------

function getMetadata(api: Win32Emulator, call: ProductCall, module: string | undefined): Reply {
  const { product, query } = call;
  if (module !== undefined && !(MODULES as readonly string[]).includes(module)) {
    throw badRequest([
      oneError('badrequest', `'${module}' is not a module; use listings, properties or availability.`, 'module'),
    ]);
  }
  const filter = languageFilter(query.get('languages'));
  if (typeof filter !== 'function')
    throw badRequest([
      oneError('badrequest', `At most 200 languages can be asked for at once (got ${filter.tooMany}).`, 'languages'),
    ]);
  // Without a filter, "the first 200 available listing languages".
  const listings = [...product.draft.listings.values()].filter((l) => filter(l.language)).slice(0, 200);
  const data: Json = {};
  if (!module || module === 'availability') data.availability = structuredClone(product.draft.availability);
  if (!module || module === 'properties') data.properties = structuredClone(product.draft.properties);
  if (!module || module === 'listings') data.listings = listings.map(renderListing);
  if (query.get('includelanguagelist')?.toLowerCase() === 'true') data.listingLanguages = listingLanguages(product);
  return ok(data);
}

/**
 * PUT: "entire Module Data needs to be present ... Any field which is not present in Request, its
 * default value is used to overwrite current value". PATCH: "only fields which are to be updated
 * need to be present". `listings` is one listing (one language) per request, as in the docs'
 * sample request and msstore-cli's UpdateMetadataRequest.
 */
async function updateMetadata(api: Win32Emulator, call: ProductCall, full: boolean): Promise<Reply> {
  const { product } = call;
  const raw = await call.body();
  const refused = api.refuseChange(product);
  if (refused) return refused;
  if (!isRecord(raw)) throw badRequest([oneError('badrequest', 'The request body must be a JSON object.', 'request')]);
  const body = canonical(raw, ['availability', 'properties', 'listings', 'listingsToAdd', 'listingsToRemove']);
  const problems = new Problems('listings');
  const languages = new Set(product.draft.listings.keys());
  const toAdd = languageList(body.listingsToAdd, 'listingsToAdd', problems);
  const toRemove = languageList(body.listingsToRemove, 'listingsToRemove', problems);
  for (const l of toAdd) {
    if (languages.has(l)) problems.add(`listingsToAdd: the draft already has a ${l} listing.`);
    languages.add(l);
  }
  for (const l of toRemove) {
    if (!languages.has(l)) problems.add(`listingsToRemove: the draft has no ${l} listing.`);
    languages.delete(l);
  }
  if (languages.size === 0) problems.add('The draft must keep at least one listing language.');

  let listing: ReturnType<typeof checkListing> | undefined;
  if (body.listings !== undefined) {
    if (!isRecord(body.listings)) {
      problems.add('listings must be one listing object with its language (one language per request).');
    } else {
      const language = typeof body.listings.language === 'string' ? body.listings.language.toLowerCase() : '';
      if (!language) problems.add('listings.language is required.');
      else if (!languages.has(language))
        problems.add(`listings.language: the draft has no ${language} listing; add the language with listingsToAdd.`);
      else {
        const base = full ? newListing(language) : (product.draft.listings.get(language) ?? newListing(language));
        listing = checkListing(body.listings, base, full, problems);
      }
    }
  }
  const properties =
    body.properties !== undefined
      ? checkProperties(body.properties, product.draft.properties, full, new ProblemsInto(problems, 'properties'))
      : undefined;
  const availability =
    body.availability !== undefined
      ? checkAvailability(
          body.availability,
          product.draft.availability,
          full,
          new ProblemsInto(problems, 'availability'),
        )
      : undefined;
  if (problems.list.length) throw badRequest(problems.list);

  for (const l of toAdd) {
    product.draft.listings.set(l, newListing(l));
    product.draft.assets.set(l, { storeLogos: [], screenshots: [] });
  }
  for (const l of toRemove) {
    product.draft.listings.delete(l);
    product.draft.assets.delete(l);
  }
  if (listing) product.draft.listings.set(listing.language, listing);
  if (properties) product.draft.properties = properties;
  if (availability) product.draft.availability = availability;
  api.markBusy(product);
  return ok({ pollingUrl: api.statusUrl(product), ongoingSubmissionId: '' });
}

/** Problems of another module, reported under its own target. */
class ProblemsInto extends Problems {
  constructor(
    private readonly into: Problems,
    private readonly module: string,
  ) {
    super(module);
  }
  override add(message: string): void {
    this.into.add(message, this.module);
  }
}

function languageList(raw: unknown, field: string, problems: Problems): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw) || !raw.every((l) => typeof l === 'string')) {
    problems.add(`${field} must be an array of language codes.`);
    return [];
  }
  const out: string[] = [];
  for (const l of raw) {
    if (!LANGUAGES.has(l.toLowerCase())) problems.add(`${field}: '${l}' is not a supported language code.`);
    else out.push(l.toLowerCase());
  }
  return out;
}

// ---- packages ------------------------------------------------------------------

function getPackage(api: Win32Emulator, call: ProductCall, packageId: string): Reply {
  const pkg = api.store.packagesOf(call.product).find((p) => p.packageId === packageId);
  if (!pkg) throw notFound();
  return ok({ packages: [renderPackage(pkg)] });
}

/** "This results in overwriting of all existing packages with a new set ... regeneration of Package Ids." */
async function putPackages(api: Win32Emulator, call: ProductCall): Promise<Reply> {
  const { product } = call;
  const raw = await call.body();
  const refused = api.refuseChange(product);
  if (refused && !onlyPackagesPending(api, product)) return refused;
  const list = isRecord(raw) ? canonical(raw, ['packages']).packages : undefined;
  const problems = new Problems('packages');
  if (!Array.isArray(list) || list.length === 0) {
    problems.add('packages is required: the whole set of packages, at least one.');
    throw badRequest(problems.list);
  }
  const packages = list.map((p, i) => {
    if (isRecord(p) && typeof p.packageUrl === 'string') api.notePackageUrl(p.packageUrl);
    return {
      packageId: api.store.ids.nextId(),
      ...checkPackage(p, `packages[${i}]`, problems, api.config.allowLoopbackHttp),
    };
  });
  if (problems.list.length) throw badRequest(problems.list);
  product.modules.stagedPackages = packages;
  product.modules.packageErrors = [];
  return ok({ pollingUrl: api.statusUrl(product), ongoingSubmissionId: '' });
}

async function patchPackage(api: Win32Emulator, call: ProductCall, packageId: string): Promise<Reply> {
  const { product } = call;
  const raw = await call.body();
  const refused = api.refuseChange(product);
  if (refused && !onlyPackagesPending(api, product)) return refused;
  const current = api.store.packagesOf(product);
  const index = current.findIndex((p) => p.packageId === packageId);
  if (index < 0) throw notFound();
  if (isRecord(raw) && typeof raw.packageUrl === 'string') api.notePackageUrl(raw.packageUrl);
  const problems = new Problems('packages');
  const patched = {
    packageId,
    ...checkPackage(raw, `packages(${packageId})`, problems, api.config.allowLoopbackHttp, current[index]),
  };
  if (problems.list.length) throw badRequest(problems.list);
  const next = [...current];
  next[index] = patched;
  product.modules.stagedPackages = next;
  product.modules.packageErrors = [];
  return ok({ pollingUrl: api.statusUrl(product), ongoingSubmissionId: '' });
}

/**
 * Package updates may follow one another before their commit, and a failed upload is fixed by a
 * new package update: "not ready" because of the packages themselves does not refuse them.
 */
function onlyPackagesPending(api: Win32Emulator, product: Win32Product): boolean {
  const m = product.modules;
  return !product.ongoingSubmissionId && !m.packageUpload && Date.now() >= m.busyUntil;
}

function commitPackages(api: Win32Emulator, call: ProductCall): Reply {
  const { product } = call;
  if (product.ongoingSubmissionId || product.modules.packageUpload || Date.now() < product.modules.busyUntil) {
    const refused = api.refuseChange(product);
    if (refused) return refused;
  }
  api.commitPackages(product);
  return ok({ pollingUrl: api.statusUrl(product), ongoingSubmissionId: '' });
}

// ---- listing assets --------------------------------------------------------------

function getAssets(api: Win32Emulator, call: ProductCall): Reply {
  const filter = languageFilter(call.query.get('languages'));
  if (typeof filter !== 'function')
    throw badRequest([oneError('badrequest', `At most 200 languages (got ${filter.tooMany}).`, 'languages')]);
  const listingAssets = [...call.product.draft.listings.keys()]
    .filter(filter)
    .slice(0, 200)
    .map((lang) => renderAssets(lang, call.product.draft.assets.get(lang)));
  return ok({ listingAssets });
}

/**
 * "Asset IDs are created on demand and would create a short-term SAS URL" per requested asset:
 * `Screenshot` 1-10, `Logo` 1 or 2 (0: none of that type).
 */
async function createAssets(api: Win32Emulator, call: ProductCall): Promise<Reply> {
  const { product } = call;
  const raw = await call.body();
  const refused = api.refuseChange(product);
  if (refused) return refused;
  const problems = new Problems('listingAssets');
  const body = isRecord(raw) ? canonical(raw, ['language', 'createAssetRequest']) : {};
  const language = typeof body.language === 'string' ? body.language.toLowerCase() : '';
  if (!language) problems.add('language is required.');
  else if (!product.draft.listings.has(language)) problems.add(`language: the draft has no ${language} listing.`);
  const request = isRecord(body.createAssetRequest)
    ? canonical(body.createAssetRequest, ['Screenshot', 'Logo'])
    : undefined;
  if (!request) problems.add('createAssetRequest is required: {"Screenshot": n, "Logo": m}.');
  const count = (key: 'Screenshot' | 'Logo', max: number): number => {
    const v = request?.[key] ?? 0;
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > max) {
      problems.add(`createAssetRequest.${key} must be a whole number from 0 to ${max}.`);
      return 0;
    }
    return v as number;
  };
  const screenshots = count('Screenshot', MAX_SCREENSHOTS);
  const logos = count('Logo', MAX_LOGOS);
  if (request && screenshots + logos === 0) problems.add('createAssetRequest asks for no asset.');
  if (problems.list.length) throw badRequest(problems.list);
  const make = (kind: AssetKind): Json => {
    const id = api.store.ids.nextId();
    const lifetime = api.config.assetUploadUrlLifetimeSeconds;
    const primary = api.host.signer.mint(api.host.httpUrl(), api.host.sasVersion(), lifetime);
    const secondary = api.host.signer.mint(api.host.httpUrl(), api.host.sasVersion(), lifetime, primary.blobName);
    api.store.pendingAssets.set(id, {
      id,
      productId: product.productId,
      language,
      kind,
      blobName: primary.blobName,
      primaryAssetUploadUrl: primary.url,
      secondaryAssetUploadUrl: secondary.url,
      expiresAt: Date.parse(primary.expiresOn),
    });
    return {
      id,
      primaryAssetUploadUrl: primary.url,
      secondaryAssetUploadUrl: secondary.url,
      httpMethod: 'PUT',
      httpHeaders: { 'x-ms-blob-type': 'BlockBlob' },
    };
  };
  const storeLogos = Array.from({ length: logos }, () => make('storeLogos'));
  const shots = Array.from({ length: screenshots }, () => make('screenshots'));
  return ok({ listingAssets: { language, storeLogos, screenshots: shots } });
}

/**
 * "The single API will internally commit the listing assets data after validation ... overwrite
 * the entire set of previous Images of the Asset Type under specific Language which is being sent
 * in Request." Each entry is an existing asset (its id and assetUrl) or a new one (its id and the
 * primary or secondary upload URL it was uploaded through).
 */
async function commitAssets(api: Win32Emulator, call: ProductCall): Promise<Reply> {
  const { product } = call;
  const raw = await call.body();
  const refused = api.refuseChange(product);
  if (refused) return refused;
  const problems = new Problems('listingAssets');
  const outer = isRecord(raw) ? canonical(raw, ['listingAssets']).listingAssets : undefined;
  const body = isRecord(outer) ? canonical(outer, ['language', 'storeLogos', 'screenshots']) : undefined;
  if (!body) throw badRequest([oneError('badrequest', 'listingAssets is required.', 'listingAssets')]);
  const language = typeof body.language === 'string' ? body.language.toLowerCase() : '';
  const current = product.draft.assets.get(language);
  if (!language || !product.draft.listings.has(language))
    throw badRequest([
      oneError(
        'badrequest',
        `listingAssets.language: the draft has no ${language || '(none)'} listing.`,
        'listingAssets',
      ),
    ]);
  const next: Partial<Record<AssetKind, ListingAsset[]>> = {};
  for (const kind of ['storeLogos', 'screenshots'] as const) {
    const list = body[kind];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      problems.add(`listingAssets.${kind} must be an array.`);
      continue;
    }
    const max = kind === 'screenshots' ? MAX_SCREENSHOTS : MAX_LOGOS;
    if (list.length > max) problems.add(`listingAssets.${kind}: at most ${max} (got ${list.length}).`);
    const resolved: ListingAsset[] = [];
    for (const [i, item] of list.entries()) {
      const at = `listingAssets.${kind}[${i}]`;
      const entry = isRecord(item) ? canonical(item, ['id', 'assetUrl']) : {};
      const id = typeof entry.id === 'string' ? entry.id : '';
      const assetUrl = typeof entry.assetUrl === 'string' ? entry.assetUrl : '';
      const existing = current?.[kind].find((x) => x.id === id);
      if (existing) {
        if (assetUrl !== existing.assetUrl) problems.add(`${at}.assetUrl must be the existing asset's URL.`);
        resolved.push(existing);
        continue;
      }
      const pending = api.store.pendingAssets.get(id);
      if (
        !pending ||
        pending.productId !== product.productId ||
        pending.language !== language ||
        pending.kind !== kind
      ) {
        problems.add(
          `${at}.id '${id}' is neither an asset of this listing nor one created for it by listings/assets/create.`,
        );
        continue;
      }
      if (
        !sameUploadUrl(assetUrl, pending.primaryAssetUploadUrl) &&
        !sameUploadUrl(assetUrl, pending.secondaryAssetUploadUrl)
      ) {
        problems.add(`${at}.assetUrl must be the primary or secondary upload URL the asset was created with.`);
        continue;
      }
      const size = await imageSize(api, pending.blobName);
      if (size === 'missing') problems.add(`${at}: nothing was uploaded to the asset's upload URL.`);
      else if (size === 'not-png') problems.add(`${at}: the uploaded file is not a PNG image.`);
      else {
        if (kind === 'storeLogos' && !isLogoShape(size))
          problems.add(`${at}: a store logo is 1:1 box art or 2:3 poster art (got ${size.width}x${size.height}).`);
        resolved.push({ id, assetUrl: api.assetUrl(id), imageSize: size });
        api.assetBlobs.set(id, pending.blobName);
      }
    }
    next[kind] = resolved;
  }
  if (problems.list.length) throw badRequest(problems.list);
  const assets = product.draft.assets.get(language) ?? { storeLogos: [], screenshots: [] };
  for (const kind of ['storeLogos', 'screenshots'] as const) {
    const list = next[kind];
    if (!list) continue;
    assets[kind] = list;
    for (const a of list) api.store.pendingAssets.delete(a.id);
  }
  product.draft.assets.set(language, assets);
  api.markBusy(product);
  return ok({ pollingUrl: api.statusUrl(product), ongoingSubmissionId: '' });
}

function sigOf(url: string): string | undefined {
  const raw = /[?&]sig=([^&#]*)/i.exec(url)?.[1];
  if (raw === undefined) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** Same blob and same signature: a client may have escaped the `+` of the signature, which changes nothing. */
function sameUploadUrl(given: string, minted: string): boolean {
  return urlKey(given) === urlKey(minted) && sigOf(given) !== undefined && sigOf(given) === sigOf(minted);
}

function isLogoShape(s: { width: number; height: number }): boolean {
  return s.width === s.height || s.width * 3 === s.height * 2;
}

async function imageSize(
  api: Win32Emulator,
  blobName: string,
): Promise<{ width: number; height: number } | 'missing' | 'not-png'> {
  const head = await readHead(api, blobName, 24);
  if (!head) return 'missing';
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (head.length < 24 || !head.subarray(0, 8).equals(png) || head.toString('latin1', 12, 16) !== 'IHDR')
    return 'not-png';
  return { width: head.readUInt32BE(16), height: head.readUInt32BE(20) };
}

/** The first `bytes` of an uploaded blob (fewer when it is shorter), or undefined when nothing was uploaded. */
async function readHead(api: Win32Emulator, blobName: string, bytes: number): Promise<Buffer | undefined> {
  try {
    const response = await api.host.ingest.getBlobClient(blobName).download(0, bytes);
    const chunks: Buffer[] = [];
    for await (const chunk of response.readableStreamBody ?? []) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks);
  } catch (e) {
    const err = e as { statusCode?: number; message?: string };
    if (err.statusCode === 404) return undefined;
    throw new Error(`reading the uploaded asset failed: ${err.statusCode ?? ''} ${err.message ?? ''}`);
  }
}

// ---- submit --------------------------------------------------------------------------

/**
 * "Creates a submission from current draft ... checks for active submission and fails with error
 * message if an active submission exists; if all modules are in ready status; each field in the
 * submission is validated as per requirements of the Store."
 */
function submit(api: Win32Emulator, call: ProductCall): Reply {
  const { product } = call;
  const refused = api.refuseChange(product);
  if (refused) return refused;
  const problems = new Problems('submission');
  if (product.draft.packages.length === 0) problems.add('The draft has no package.', 'packages');
  if (product.draft.listings.size === 0) problems.add('The draft has no listing.', 'listings');
  for (const language of product.draft.listings.keys()) {
    const missing = listingProblems(product, language);
    if (missing.length)
      problems.add(`The ${language} listing is incomplete: it needs ${missing.join(', ')}.`, 'listings');
  }
  if (!product.draft.properties.category) problems.add('properties.category is required.', 'properties');
  const markets = product.draft.availability.markets;
  if (!Array.isArray(markets) || markets.length === 0)
    problems.add('availability.markets is required.', 'availability');
  if (problems.list.length) throw badRequest(problems.list);
  const sub = api.startSubmission(product, 'API');
  return ok({
    submissionId: sub.submissionId,
    pollingUrl: api.submissionPollingUrl(product, sub.submissionId),
    ongoingSubmissionId: '',
  });
}

function submissionStatus(api: Win32Emulator, call: ProductCall): Reply {
  const sub = api.store.submissions.get(call.rest[1] ?? '');
  if (!sub || sub.productId !== call.product.productId) throw notFound();
  return ok({ publishingStatus: sub.status, hasFailed: sub.hasFailed }, sub.errors);
}
