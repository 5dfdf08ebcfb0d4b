/**
 * The activities of a win32 run (an MSI or EXE app through the Store's MSI/EXE submission API),
 * each a thin call into lib/win32. Inputs and outputs hold ids, names, counts and statuses only:
 * the installers' SAS URLs are made inside the activity that sends them to the Store, and the
 * draft as it was (which holds earlier URLs) is kept in a blob, not in the history.
 */
import type { InvocationContext } from '@azure/functions';
import type { BlobClient, ContainerClient } from '@azure/storage-blob';
import { config } from '../../lib/config';
import { StoreRequestError } from '../../lib/errors';
import { readSubmissionZip } from '../../lib/manifest';
import { zipPath } from '../../lib/manifest/types';
import type { BlobIdentity } from '../../lib/run';
import { blobServiceFor } from '../../lib/storage';
import { checkCredential } from '../../lib/store/credential';
import { win32ClientFor, type Win32StoreClient } from '../../lib/store/win32Client';
import type { Win32Package } from '../../lib/store/win32Types';
import { installerBlobName, installerUrl, stageInstaller, type StagedInstaller } from '../../lib/win32/installers';
import { packageTypeOf, win32Spec } from '../../lib/win32/manifest';
import { planChanges, type Win32Change } from '../../lib/win32/plan';
import {
  change,
  commitPackagesOrConfirm,
  draftState,
  listingUpdate,
  readDraft,
  replaceImages,
  restoreImages,
  submissionStatus,
  submitOrAdopt,
  withoutIds,
  type DraftSnapshot,
  type DraftState,
  type SubmissionPoll,
} from '../../lib/win32/steps';
import { openBlobZip } from '../../lib/zip/blobZip';
import { defineActivity, type ActivityInput } from './activity';

export interface Win32Input extends ActivityInput {
  productId: string;
}

export interface Win32ZipInput extends Win32Input {
  blob: BlobIdentity;
  overrides?: unknown;
}

/** An image is a few MiB; anything near this is not a listing image. */
const MAX_IMAGE_BYTES = 50 * 1024 * 1024;

interface Scope {
  context: InvocationContext;
  correlationIds: string[];
  log(message: string): void;
}

/** A client of the MSI/EXE API whose calls are logged against the run, like the v1.0 client's. */
function win32Of(scope: Scope): Win32StoreClient {
  return win32ClientFor(config(), {
    logger: (line) => {
      if (line.correlationId) scope.correlationIds.push(line.correlationId);
      scope.log(
        `${line.method} ${line.path} -> ${line.status ?? line.error ?? 'no answer'} in ${line.durationMs} ms` +
          ` (attempt ${line.attempt}, X-Correlation-ID ${line.correlationId ?? 'none'})`,
      );
    },
  });
}

function zipBlob(blob: BlobIdentity): BlobClient {
  return blobServiceFor(config().submissionsStorage).getContainerClient(blob.container).getBlobClient(blob.name);
}

function packages(): ContainerClient {
  const c = config();
  return blobServiceFor(c.win32.packagesStorage).getContainerClient(c.win32.packagesContainer);
}

function snapshotName(productId: string, runId: string): string {
  return `${productId.toLowerCase()}/${runId}/draft-before.json`;
}

async function readSnapshot(productId: string, runId: string): Promise<DraftSnapshot> {
  const data = await packages().getBlobClient(snapshotName(productId, runId)).downloadToBuffer();
  return JSON.parse(data.toString('utf8')) as DraftSnapshot;
}

/** A Store token for the MSI/EXE API can be had, and the seller id it needs is set. Returns no token. */
export const checkWin32Credential = defineActivity('checkWin32Credential', async (_input: ActivityInput, scope) => {
  const c = config();
  win32ClientFor(c); // a ConfigurationError naming STORE_SELLER_ID when it is not set
  const { expiresOnTimestamp } = await checkCredential(c.store, {}, c.win32.tokenScope);
  scope.log(`token for ${c.win32.tokenScope} available, valid until ${new Date(expiresOnTimestamp).toISOString()}`);
  return { expiresOn: new Date(expiresOnTimestamp).toISOString() };
});

export interface ReadDraftOutput extends DraftState {
  languages: string[];
  packageCount: number;
  /** What the manifest changes in this draft, in order. */
  plan: Win32Change[];
}

/**
 * Reads the draft and plans the run's changes to it. The first read of a run keeps the draft as
 * it was in a blob (the first one wins: a later read, after changes, never replaces it), so a
 * failed or canceled run can put it back.
 */
export const readWin32Draft = defineActivity(
  'readWin32Draft',
  async (input: Win32ZipInput, scope): Promise<ReadDraftOutput> => {
    const { manifest } = await readSubmissionZip(zipBlob(input.blob), input.blob.etag, input.overrides);
    const { view, snapshot } = await readDraft(win32Of(scope), input.productId);
    const container = packages();
    await container.createIfNotExists();
    const body = JSON.stringify(snapshot);
    await container
      .getBlockBlobClient(snapshotName(input.productId, input.instanceId))
      .upload(body, Buffer.byteLength(body), {
        conditions: { ifNoneMatch: '*' },
        blobHTTPHeaders: { blobContentType: 'application/json' },
      })
      .catch((e: { statusCode?: number }) => {
        if (e.statusCode !== 409 && e.statusCode !== 412) throw e;
      });
    const plan = planChanges(manifest, view.languages);
    scope.log(
      `draft: ${view.packageCount} package(s), languages ${view.languages.join(', ') || 'none'}, ` +
        `${view.isReady ? 'ready' : 'not ready'}${view.ongoingSubmissionId ? `, submission ${view.ongoingSubmissionId} in progress` : ''}; ${plan.length} change(s) planned`,
    );
    return { ...view, plan };
  },
);

export const getWin32DraftState = defineActivity('getWin32DraftState', async (input: Win32Input, scope) =>
  draftState(win32Of(scope), input.productId),
);

export interface StagedInstallers {
  installers: StagedInstaller[];
  bytes: number;
  correlationIds: string[];
}

/** Copies each installer the manifest names out of the zip into the packages container. */
export const stageWin32Installers = defineActivity(
  'stageWin32Installers',
  async (input: Win32ZipInput, scope): Promise<StagedInstallers> => {
    const c = config();
    const blob = zipBlob(input.blob);
    const { manifest } = await readSubmissionZip(blob, input.blob.etag, input.overrides);
    const zip = await openBlobZip(blob, input.blob.etag);
    const container = packages();
    await container.createIfNotExists();
    const installers: StagedInstaller[] = [];
    for (const p of win32Spec(manifest).packages ?? []) {
      const fileName = zipPath(p.fileName);
      const blobName = installerBlobName(input.productId, input.instanceId, fileName);
      const result = await stageInstaller({
        zip: input.blob,
        fileName,
        source: await zip.openEntry(fileName),
        destination: container.getBlockBlobClient(blobName),
        blockSizeBytes: c.upload.blockSizeBytes,
        concurrency: c.upload.concurrency,
      });
      installers.push({ fileName, blobName, ...result });
      scope.log(
        `${fileName}: ${result.copied ? 'copied' : 'already copied'} to ${container.containerName}/${blobName} (${result.bytes} bytes)`,
      );
    }
    return { installers, bytes: installers.reduce((n, i) => n + i.bytes, 0), correlationIds: [] };
  },
);

export interface ApplyInput extends Win32ZipInput {
  change: Win32Change;
  /** Where stageWin32Installers put each installer (for a packages change). */
  installers?: Array<Pick<StagedInstaller, 'fileName' | 'blobName'>>;
}

/** One change of the plan, made in the draft. Each can be made again with the same result. */
export const applyWin32Change = defineActivity('applyWin32Change', async (input: ApplyInput, scope) => {
  const c = config();
  const client = win32Of(scope);
  const { productId } = input;
  const { manifest } = await readSubmissionZip(zipBlob(input.blob), input.blob.etag, input.overrides);
  const spec = win32Spec(manifest);
  const ids: string[] = [];
  const step = input.change;
  switch (step.change) {
    case 'packages': {
      const container = packages();
      const fresh: Win32Package[] = [];
      for (const p of spec.packages ?? []) {
        const staged = input.installers?.find((i) => i.fileName === zipPath(p.fileName));
        if (!staged)
          throw new StoreRequestError(`${p.fileName} was not copied to the packages container.`, {
            code: 'NotStaged',
            retriable: false,
          });
        fresh.push({
          packageUrl: await installerUrl(container.getBlobClient(staged.blobName), c.win32.packageUrlDays),
          languages: p.languages,
          architectures: p.architectures as Win32Package['architectures'],
          isSilentInstall: p.isSilentInstall,
          ...(p.installerParameters !== undefined ? { installerParameters: p.installerParameters } : {}),
          ...(p.genericDocUrl !== undefined ? { genericDocUrl: p.genericDocUrl } : {}),
          ...(p.errorDetails !== undefined ? { errorDetails: p.errorDetails } : {}),
          packageType: packageTypeOf(p),
        });
      }
      // "add" keeps the draft's packages as they were before the run (not as an earlier attempt left them).
      const kept =
        manifest.options.packages === 'add' ? (await readSnapshot(productId, input.instanceId)).packages : [];
      ids.push(
        ...(await change(client, productId, () => client.updatePackages(productId, [...withoutIds(kept), ...fresh]))),
      );
      ids.push(...(await commitPackagesOrConfirm(client, productId)));
      scope.log(`packages updated (${kept.length} kept, ${fresh.length} new) and committed`);
      break;
    }
    case 'modules': {
      const update = {
        ...(spec.properties ? { properties: spec.properties } : {}),
        ...(spec.availability ? { availability: spec.availability } : {}),
      };
      ids.push(...(await change(client, productId, () => client.patchMetadata(productId, update))));
      break;
    }
    case 'listing': {
      const fields = Object.entries(spec.listings ?? {}).find(([k]) => k.toLowerCase() === step.language)?.[1] ?? {};
      // Added already by an earlier attempt? Then only its fields change.
      const present = await client.getMetadata(productId, { module: 'listings', languages: [step.language] });
      ids.push(present.correlationId);
      const has = (present.value.listings ?? []).some((l) => l.language.toLowerCase() === step.language);
      ids.push(
        ...(await change(client, productId, () =>
          client.patchMetadata(productId, listingUpdate(step.language, fields, !has)),
        )),
      );
      break;
    }
    case 'images': {
      const assets =
        Object.entries(spec.listingAssets ?? {}).find(([k]) => k.toLowerCase() === step.language)?.[1] ?? {};
      const zip = await openBlobZip(zipBlob(input.blob), input.blob.etag);
      const read = async (list: Array<{ fileName: string }> | undefined) =>
        list ? Promise.all(list.map((i) => zip.readEntryText(zipPath(i.fileName), MAX_IMAGE_BYTES))) : undefined;
      ids.push(
        ...(await replaceImages(client, productId, {
          language: step.language,
          screenshots: await read(assets.screenshots),
          storeLogos: await read(assets.storeLogos),
        })),
      );
      break;
    }
    case 'removeListings': {
      const present = await client.getMetadata(productId, { module: 'listings', languages: step.languages });
      ids.push(present.correlationId);
      const remove = (present.value.listings ?? [])
        .map((l) => l.language.toLowerCase())
        .filter((l) => step.languages.includes(l));
      if (remove.length)
        ids.push(
          ...(await change(client, productId, () => client.patchMetadata(productId, { listingsToRemove: remove }))),
        );
      break;
    }
  }
  return { correlationIds: ids };
});

export interface RestoreInput extends Win32Input {
  change: Win32Change;
}

/** Puts one change back as the draft had it before the run (from the blob readWin32Draft kept). */
export const restoreWin32Change = defineActivity('restoreWin32Change', async (input: RestoreInput, scope) => {
  const client = win32Of(scope);
  const { productId } = input;
  const before = await readSnapshot(productId, input.instanceId);
  const ids: string[] = [];
  const step = input.change;
  const listingOf = (language: string) => before.listings.find((l) => l.language.toLowerCase() === language);
  const present = async (languages: string[]): Promise<string[]> => {
    const answer = await client.getMetadata(productId, { module: 'listings', languages });
    ids.push(answer.correlationId);
    return (answer.value.listings ?? []).map((l) => l.language.toLowerCase());
  };
  switch (step.change) {
    case 'packages':
      ids.push(
        ...(await change(client, productId, () => client.updatePackages(productId, withoutIds(before.packages)))),
      );
      ids.push(...(await commitPackagesOrConfirm(client, productId)));
      break;
    case 'modules':
      ids.push(
        ...(await change(client, productId, () =>
          client.patchMetadata(productId, { properties: before.properties, availability: before.availability }),
        )),
      );
      break;
    case 'listing': {
      const old = listingOf(step.language);
      if (!old) {
        if ((await present([step.language])).includes(step.language))
          ids.push(
            ...(await change(client, productId, () =>
              client.patchMetadata(productId, { listingsToRemove: [step.language] }),
            )),
          );
      } else ids.push(...(await change(client, productId, () => client.patchMetadata(productId, { listings: old }))));
      break;
    }
    case 'images': {
      const old = before.assets.find((a) => a.language.toLowerCase() === step.language);
      // A language the run added goes with its images when its listing is removed.
      if (old && (await present([step.language])).includes(step.language))
        ids.push(...(await restoreImages(client, productId, old)));
      break;
    }
    case 'removeListings': {
      const have = await present(step.languages);
      for (const language of step.languages) {
        const old = listingOf(language);
        if (!old) continue;
        if (!have.includes(language))
          ids.push(
            ...(await change(client, productId, () =>
              client.patchMetadata(productId, { listingsToAdd: [language], listings: old }),
            )),
          );
        const images = before.assets.find((a) => a.language.toLowerCase() === language);
        if (images) ids.push(...(await restoreImages(client, productId, images)));
      }
      break;
    }
  }
  scope.log(`put back: ${JSON.stringify(step)}`);
  return { correlationIds: ids };
});

export interface SubmitInput extends Win32Input {
  /** The submission in progress when the run read the draft, if any: never taken for ours. */
  before?: string;
}

export const submitWin32Draft = defineActivity('submitWin32Draft', async (input: SubmitInput, scope) => {
  const result = await submitOrAdopt(win32Of(scope), input.productId, input.before);
  scope.log(`submission ${result.submissionId} ${result.adopted ? 'adopted after an ambiguous submit' : 'created'}`);
  return result;
});

export interface StatusInput extends Win32Input {
  submissionId: string;
}

export const getWin32SubmissionStatus = defineActivity(
  'getWin32SubmissionStatus',
  async (input: StatusInput, scope): Promise<SubmissionPoll> =>
    submissionStatus(win32Of(scope), input.productId, input.submissionId),
);

export interface CleanupInput extends Win32Input {
  /** Also delete the run's installer copies: nothing in the draft points at them any more. */
  installers: boolean;
}

/** Removes what the run keeps in the packages container: the draft it kept aside and, when told, its installers. */
export const cleanUpWin32Run = defineActivity('cleanUpWin32Run', async (input: CleanupInput, scope) => {
  const container = packages();
  const prefix = `${input.productId.toLowerCase()}/${input.instanceId}/`;
  let deleted = 0;
  if (!(await container.exists())) return { deleted };
  for await (const item of container.listBlobsFlat({ prefix })) {
    if (!input.installers && item.name !== snapshotName(input.productId, input.instanceId)) continue;
    await container.deleteBlob(item.name, { deleteSnapshots: 'include' }).catch((e: { statusCode?: number }) => {
      if (e.statusCode !== 404) throw e;
    });
    deleted++;
  }
  scope.log(`removed ${deleted} blob(s) under ${container.containerName}/${prefix}`);
  return { deleted };
});

/** Dry run: proves each staged installer's URL answers a download, as the Store's would, then forgets the URL. */
export const checkWin32InstallerUrls = defineActivity(
  'checkWin32InstallerUrls',
  async (input: Win32Input & { installers: Array<Pick<StagedInstaller, 'fileName' | 'blobName'>> }) => {
    const c = config();
    const container = packages();
    for (const i of input.installers) {
      const url = await installerUrl(container.getBlobClient(i.blobName), c.win32.packageUrlDays);
      const response = await fetch(url, {
        headers: { Range: 'bytes=0-7' },
        signal: AbortSignal.timeout(c.store.requestTimeoutMs),
      });
      await response.body?.cancel();
      if (response.status !== 206 && response.status !== 200)
        throw new StoreRequestError(
          `The URL made for ${i.fileName} does not download (HTTP ${response.status}): the Store could not fetch it either.`,
          { code: 'InstallerUrlUnreachable', status: response.status, retriable: response.status >= 500 },
        );
    }
    return { checked: input.installers.length, correlationIds: [] };
  },
);
