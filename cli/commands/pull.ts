/**
 * `pull <id> <folder>`: a product's published submission, read through the Functions app
 * (which holds the Store credential), written as a release folder that `pack` reads back.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { registerSecret } from '../../lib/redact';
import type { ProductRef } from '../../lib/store/kinds';
import { EXIT, UsageError, type ExitCode } from '../errors';
import { FunctionsClient } from '../functionsClient';
import type { Output } from '../output';
import { CONFIG_FILE, IMAGE_LIST_FILE } from '../pack/convention';
import { pulledFolder } from '../pack/pulled';

export interface PullOptions {
  functionsUrl: string;
  functionKey?: string;
  /** app, flight or addon; default: a GUID is a flight, any other id an app, else an add-on. */
  kind?: string;
  /** The app of a flight. */
  applicationId?: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function pullCommand(id: string, folder: string, options: PullOptions, out: Output): Promise<ExitCode> {
  out.secret(options.functionKey);
  registerSecret(options.functionKey);
  try {
    const existing = await readdir(folder).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [];
      if (e.code === 'ENOTDIR') throw new UsageError(`${folder} is a file; give a folder to write`, '<folder>');
      throw e;
    });
    if (existing.length)
      throw new UsageError(
        `${folder} is not empty; pull writes a new release folder, give a new or empty one`,
        '<folder>',
      );
    const kind = options.kind ?? (GUID.test(id) ? 'flight' : undefined);
    if (kind === 'flight' && !options.applicationId)
      throw new UsageError('a flight is read through its app: add --application-id <app id>', '--application-id');
    const functions = new FunctionsClient(options.functionsUrl, options.functionKey);
    const query = kind === 'flight' ? `applicationId=${encodeURIComponent(options.applicationId!)}` : '';
    let answer;
    if (kind) answer = await functions.published(kind, id, query);
    else {
      // An app and an add-on have ids of the same shape: ask for the app, then for the add-on.
      answer = await functions.published('app', id).catch(async (e: unknown) => {
        if (!(e instanceof UsageError) || !/has no app/.test(e.problems[0]?.message ?? '')) throw e;
        return functions.published('addon', id);
      });
    }
    const ref = answer.product as unknown as ProductRef & Record<string, unknown>;
    const pulled = pulledFolder(ref, answer.submission);
    for (const [rel, content] of pulled.files) {
      const path = join(folder, ...rel.split('/'));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
    }
    const languages = [
      ...new Set([...pulled.files.keys()].filter((f) => f.startsWith('listings/')).map((f) => f.split('/')[1])),
    ];
    const label = `${ref.kind === 'addon' ? 'add-on' : ref.kind} ${id}${typeof ref.primaryName === 'string' ? ` (${ref.primaryName})` : typeof ref.friendlyName === 'string' ? ` (${ref.friendlyName})` : ''}`;
    out.result(
      {
        folder,
        product: answer.product,
        submissionId: answer.submission.id,
        files: [...pulled.files.keys()],
        images: pulled.images,
        inStoreJson: pulled.inStoreJson,
      },
      () => [
        `Pulled ${label}, published submission ${String(answer.submission.id)}, into ${folder}`,
        `  files     ${[CONFIG_FILE, ...(pulled.images.length ? [IMAGE_LIST_FILE] : [])].join(', ')}, ${[...pulled.files.keys()].filter((f) => f.startsWith('listings/')).length} listing file(s)`,
        ...(languages.length ? [`  listings  ${languages.join(', ')}`] : []),
        ...(pulled.inStoreJson.length
          ? [
              `  kept      ${pulled.inStoreJson.join(', ')} in store.json as published (no text file reads back as that value)`,
            ]
          : []),
        ...(pulled.images.length
          ? [
              `  images    ${pulled.images.length} listed in ${join(folder, IMAGE_LIST_FILE)}: the Store's API cannot download images; put each PNG where it says (pack says which are still missing)`,
            ]
          : []),
        ...(ref.kind !== 'addon'
          ? [
              `  packages  none: store.json says listingOnly, so the published packages stay; add new ones and remove listingOnly`,
            ]
          : []),
        `  next      store-submitter pack ${folder}`,
      ],
    );
    return EXIT.ok;
  } catch (e) {
    return out.fail(e, `cannot pull ${id}`);
  }
}
