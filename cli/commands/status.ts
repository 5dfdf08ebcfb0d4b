import { isInstanceId } from '../../lib/instanceId';
import { previewLines } from '../../lib/preview';
import { registerSecret } from '../../lib/redact';
import type { StatusDocument } from '../../lib/statusDocument';
import { EXIT, UsageError, type ExitCode } from '../errors';
import { followRun } from '../follow';
import { FunctionsClient } from '../functionsClient';
import type { Output } from '../output';
import {
  approvalHint,
  exitCodeForRun,
  formatDuration,
  outcomeLines,
  progressKey,
  progressLine,
  renderDocument,
} from '../view';

export interface ServiceOptions {
  functionsUrl: string;
  functionKey?: string;
  /** Milliseconds between status polls. */
  pollInterval: number;
  /** Milliseconds; undefined waits until the run ends. */
  timeout?: number;
}

export interface StatusOptions extends ServiceOptions {
  wait: boolean;
}

/** `status <instanceId | blob name>`: the status document; with --wait, follows the run and exits like submit. */
export async function statusCommand(ref: string, options: StatusOptions, out: Output): Promise<ExitCode> {
  out.secret(options.functionKey);
  registerSecret(options.functionKey);
  try {
    const functions = new FunctionsClient(options.functionsUrl, options.functionKey);
    const { instanceId, others } = await runIdFor(functions, ref);
    const statusUrl = functions.statusUrl(instanceId);
    if (options.wait) {
      const ended = await watchRun(functions, instanceId, options, out);
      out.result({ instanceId, statusUrl, exitCode: ended.exitCode, status: ended.doc ?? null }, () => ended.lines);
      return ended.exitCode;
    }
    const doc = await functions.status(instanceId);
    if (!doc)
      throw new UsageError(
        `no run has the id ${instanceId} (a zip's run appears once the blob trigger or submit started it)`,
        '<run>',
      );
    out.result(doc, () => [
      renderDocument(doc, statusUrl),
      ...(others.length ? [`Earlier runs of this zip: ${others.join('; ')}`] : []),
    ]);
    return EXIT.ok;
  } catch (e) {
    return out.fail(e);
  }
}

/** The run a `<run>` argument names: a run id as it is, a zip's name as its newest run (and the others). */
export async function runIdFor(
  functions: FunctionsClient,
  ref: string,
): Promise<{ instanceId: string; others: string[] }> {
  if (isInstanceId(ref)) return { instanceId: ref, others: [] };
  if (!/\.zip$/i.test(ref))
    throw new UsageError(
      `"${ref}" is neither a run id (zip-<40 hex digits>) nor the name of a zip in the container`,
      '<run>',
    );
  const runs = await functions.runsFor(ref);
  if (!runs.length) throw new UsageError(`no run for a zip named "${ref}" in the submissions container`, '<run>');
  return {
    instanceId: runs[0]!.instanceId,
    others: runs.slice(1).map((r) => `${r.instanceId} (${r.status}, ${r.createdTime ?? 'unknown time'})`),
  };
}

/** Follows a run with the live view; says how it ended and which exit code that is. */
export async function watchRun(
  functions: FunctionsClient,
  instanceId: string,
  options: ServiceOptions,
  out: Output,
): Promise<{ doc?: StatusDocument; exitCode: ExitCode; lines: string[] }> {
  const started = Date.now();
  let key = '';
  let current: StatusDocument | undefined;
  let previewShown = false;
  let gateShown = false;
  out.live.status(
    () =>
      `${current ? `${current.phase}${current.storeStatus ? ` · Store ${current.storeStatus}` : ''}` : 'waiting for the run to start'} · ${formatDuration(Date.now() - started)}`,
  );
  // Ctrl+C stops the CLI, not the run: say how to pick it up again.
  const interrupted = (): void => {
    out.live.stopStatus();
    out.info(
      `Stopped following run ${instanceId}; it goes on. Follow it with: store-submitter status ${instanceId} --wait`,
    );
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  try {
    const { doc, timedOut } = await followRun(functions, instanceId, {
      pollIntervalMs: options.pollInterval,
      timeoutMs: options.timeout,
      onPoll: (d) => {
        current = d;
        // What the submission changes, once, as soon as the run knows it (before it commits).
        if (d?.preview && !previewShown) {
          previewShown = true;
          for (const line of previewLines(d.preview)) out.info(line);
        }
        if (d?.approval?.state === 'Waiting' && !gateShown) {
          gateShown = true;
          out.info(approvalHint(instanceId, d.approval));
        }
        const next = progressKey(d);
        if (next !== key) out.info(progressLine(d));
        key = next;
      },
      onRetry: (e) => out.info(`  (retrying: ${e.message})`),
    });
    const took = formatDuration(Date.now() - started);
    if (timedOut || !doc) {
      return {
        doc,
        exitCode: EXIT.timedOut,
        lines: [
          `Timed out after ${took}: run ${instanceId} is still ${doc ? `${doc.status} (${doc.phase}${doc.storeStatus ? `, Store ${doc.storeStatus}` : ''})` : 'not started'}; it goes on without the CLI.`,
          `Follow it with: store-submitter status ${instanceId} --wait`,
        ],
      };
    }
    return {
      doc,
      exitCode: exitCodeForRun(doc),
      lines: [...outcomeLines(doc), `Run ${instanceId}, followed for ${took}.`],
    };
  } finally {
    process.removeListener('SIGINT', interrupted);
    out.live.stopStatus();
  }
}
