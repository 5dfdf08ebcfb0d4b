import type { TokenCredential } from '@azure/core-auth';
import { basename } from 'node:path';
import { instanceIdFor } from '../../lib/instanceId';
import { filesToUpload } from '../../lib/manifest';
import { registerSecret } from '../../lib/redact';
import { blobNameFrom } from '../../lib/runClient';
import type { StatusDocument } from '../../lib/statusDocument';
import { EXIT, ServiceError, UsageError, type ExitCode } from '../errors';
import { FunctionsClient } from '../functionsClient';
import type { Output } from '../output';
import { checkUploadTarget, containerFrom, uploadZip } from '../storage';
import { formatBytes } from '../../lib/zip/format';
import { formatDuration, targetLabel } from '../view';
import { readZipArgument } from './validate';
import { watchRun, type ServiceOptions } from './status';

export interface SubmitOptions extends ServiceOptions {
  connectionString?: string;
  accountUrl?: string;
  credential?: TokenCredential;
  container: string;
  name?: string;
  overwrite: boolean;
  wait: boolean;
}

/**
 * `submit <zip>`: validate locally, check the Functions app answers, upload, start the run (an
 * idempotent call: the blob trigger may have started it already), then follow it to its end.
 */
export async function submitCommand(zip: string, options: SubmitOptions, out: Output): Promise<ExitCode> {
  out.secret(options.functionKey);
  out.secret(options.connectionString);
  registerSecret(options.functionKey);
  try {
    const { manifest, entries, size } = await readZipArgument(zip);
    const files = filesToUpload(manifest, entries);
    const uploads = [...files.packages, ...files.others];
    const packages = files.packages.length;
    out.info(
      `Checked ${zip}: ${targetLabel(manifest.target)}, ${packages} package(s) and ${uploads.length - packages} other file(s) to upload; waits for ${manifest.options.waitFor}${manifest.options.dryRun ? ' (dry run)' : ''}`,
    );

    const { container, where } = await containerFrom(options);
    const name = options.name ?? basename(zip);
    const checked = blobNameFrom(name, container.url, container.containerName);
    if (typeof checked !== 'string') throw new UsageError(checked.error.replace(/^body\.blob/, '--name'), '--name');
    const functions = new FunctionsClient(options.functionsUrl, options.functionKey);
    await functions.probe();

    await checkUploadTarget(container, name, { overwrite: options.overwrite, where });
    const progress = out.live.upload(size, `${container.containerName}/${name}`);
    const started = Date.now();
    const uploaded = await uploadZip(container, name, zip, {
      overwrite: options.overwrite,
      where,
      onProgress: (p) => progress.update(p.loaded),
    }).finally(() => progress.done());
    const blob = { container: container.containerName, name, etag: uploaded.etag };
    const instanceId = instanceIdFor(blob.container, name, uploaded.etag);
    out.info(
      `Uploaded ${blob.container}/${name} (${formatBytes(uploaded.bytes)} in ${formatDuration(Date.now() - started)}); run ${instanceId}`,
    );

    let start: { instanceId: string; started: boolean };
    try {
      start = await functions.start(name);
    } catch (e) {
      if (!(e instanceof ServiceError)) throw e;
      throw new ServiceError(
        `${e.message}\n${blob.container}/${name} was uploaded: the Functions app's blob trigger starts run ${instanceId} by itself; follow it with: store-submitter status ${instanceId}`,
        e.code,
        e.retriable,
        e.status,
      );
    }
    if (start.instanceId !== instanceId) {
      throw new ServiceError(
        `${blob.container}/${name} was replaced right after the upload (run ${start.instanceId} is for another version); upload under a name nobody else uses (--name)`,
        'UnexpectedAnswer',
        false,
      );
    }
    const statusUrl = functions.statusUrl(instanceId);
    if (!options.wait) {
      out.result({ instanceId, blob, started: start.started, statusUrl }, () => [
        `Run ${instanceId} ${start.started ? 'started' : 'was already started by the blob trigger'}.`,
        `Follow it with: store-submitter status ${instanceId} --wait`,
      ]);
      return EXIT.ok;
    }
    const ended = await watchRun(functions, instanceId, options, out);
    return finish(out, { instanceId, blob, statusUrl }, ended);
  } catch (e) {
    return out.fail(e, `${zip} was refused; nothing was uploaded`);
  }
}

function finish(
  out: Output,
  base: Record<string, unknown>,
  ended: { doc?: StatusDocument; exitCode: ExitCode; lines: string[] },
): ExitCode {
  out.result({ ...base, exitCode: ended.exitCode, status: ended.doc ?? null }, () => ended.lines);
  return ended.exitCode;
}
