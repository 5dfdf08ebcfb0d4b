/**
 * The MSI/EXE run's work on the product's one draft: read it (kept aside in a blob) and plan the
 * changes, stage the installers, make each change, and, when the run cannot finish, put the
 * draft back as it was. The API has no delete, so putting back is how a failure or a cancel
 * leaves nothing half-made.
 */
import type * as df from 'durable-functions';
import type { RunInput, Win32RunView } from '../../lib/run';
import { SUBMISSION_IN_PROGRESS } from '../../lib/store/win32Client';
import { describeChange, type Win32Change } from '../../lib/win32/plan';
import {
  applyWin32Change,
  checkWin32Credential,
  checkWin32InstallerUrls,
  cleanUpWin32Run,
  readWin32Draft,
  restoreWin32Change,
  stageWin32Installers,
  type ReadDraftOutput,
} from '../activities/win32';
import { failureOf, RunStopped, stopRun } from '../tracker';
import { showWin32, untilDraftReady, waitOutSubmission, whenFree, win32View, type Win32Run } from './win32Wait';

/**
 * A token for the MSI/EXE API, then the draft and the plan of changes. A submission in progress
 * is waited out (options.ongoingSubmission "wait") or stops the run; a dry run waits for nothing.
 */
export function* readDraft(
  w: Win32Run,
  input: RunInput,
  dryRun: boolean,
): Generator<df.Task, ReadDraftOutput, unknown> {
  const { run } = w;
  yield* run.step('CheckingCredential', checkWin32Credential, {});
  for (;;) {
    const draft = yield* run.step('ReadingDraft', readWin32Draft, {
      productId: w.productId,
      blob: input.blob,
      overrides: input.overrides,
    });
    if (!draft.ongoingSubmissionId) {
      showWin32(run, { plan: draft.plan.map(describeChange) });
      return draft;
    }
    if (dryRun) {
      throw stopRun(
        'readWin32Draft',
        `Submission ${draft.ongoingSubmissionId} of this product is in progress, so the draft cannot be changed or submitted now; a dry run waits for nothing.`,
        { code: SUBMISSION_IN_PROGRESS, retriable: false },
        'Run the dry run again once that submission is published or has failed.',
      );
    }
    yield* waitOutSubmission(w, draft.ongoingSubmissionId);
  }
}

const changesPackages = (plan: Win32Change[]): boolean => plan.some((c) => c.change === 'packages');

/**
 * Stages the installers (when the plan replaces the packages), then makes each planned change,
 * each followed by waiting for the draft's modules to be ready (after the packages commit, the
 * Store downloads the installers then). A change refused because someone submitted meanwhile is
 * made again once that submission has ended.
 */
export function* changeDraft(w: Win32Run, input: RunInput, draft: ReadDraftOutput): Generator<df.Task, void, unknown> {
  const { run, productId } = w;
  let installers: Win32RunView['installers'];
  if (changesPackages(draft.plan)) {
    const staged = yield* run.step('CopyingInstallers', stageWin32Installers, {
      productId,
      blob: input.blob,
      overrides: input.overrides,
    });
    installers = staged.installers.map(({ fileName, blobName, bytes }) => ({ fileName, blobName, bytes }));
    showWin32(run, { installers });
  }
  if (!draft.isReady) yield* untilDraftReady(w, { replacingPackages: changesPackages(draft.plan) });
  for (const change of draft.plan) {
    showWin32(run, { applying: change });
    yield* whenFree(w, function* () {
      yield* run.step('UpdatingDraft', applyWin32Change, {
        productId,
        blob: input.blob,
        overrides: input.overrides,
        change,
        installers,
      });
      yield* untilDraftReady(w);
    });
    showWin32(run, { applied: [...win32View(run).applied, change], applying: undefined });
  }
}

/** Stages the installers and proves their URLs download, then removes everything: the draft is not touched. */
export function* dryRunDraft(w: Win32Run, input: RunInput, draft: ReadDraftOutput): Generator<df.Task, void, unknown> {
  const { run, productId } = w;
  try {
    if (changesPackages(draft.plan)) {
      const { installers } = yield* run.step('CopyingInstallers', stageWin32Installers, {
        productId,
        blob: input.blob,
        overrides: input.overrides,
      });
      yield* run.step('CopyingInstallers', checkWin32InstallerUrls, { productId, installers });
    }
  } finally {
    yield* run.step('CleaningUp', cleanUpWin32Run, { productId, installers: true });
  }
  const record = run.record('dryRun');
  record.endedAt = run.now.toISOString();
  record.detail = `would change ${draft.plan.map(describeChange).join(', ') || 'nothing'} and submit; nothing was changed`;
  run.publish();
}

/**
 * Runs `phase` (the changes and the submit); if it fails before the Store holds a submission,
 * the draft is put back and the failure's advice says what state the product is left in.
 */
export function* orPutBack<T>(w: Win32Run, phase: Generator<df.Task, T, unknown>): Generator<df.Task, T, unknown> {
  try {
    return yield* phase;
  } catch (e) {
    const failure = failureOf(e, w.run.state.phase);
    w.run.show({ failure });
    const said = yield* putBackDraft(w);
    throw new RunStopped(said ? { ...failure, advice: `${failure.advice ?? ''} ${said}`.trim() } : failure);
  }
}

/**
 * Puts back the run's changes to the draft, last first (the one in flight too: putting back a
 * change that did not take is harmless), from the draft kept aside, then deletes the run's
 * installer copies. Returns what was done or, when the API refused (a submission started
 * meanwhile), what state the draft is left in: a sentence for the failure's advice.
 */
export function* putBackDraft(w: Win32Run): Generator<df.Task, string | undefined, unknown> {
  const { run, productId } = w;
  const v = run.state.win32;
  if (!v) return undefined;
  const changes: Win32Change[] = [...(v.applying ? [v.applying] : []), ...[...v.applied].reverse()];
  // Putting back waits for nothing: a submission in progress now refuses it, and the advice says so.
  const back: Win32Run = { ...w, ongoingSubmission: 'fail' };
  try {
    for (const change of changes) {
      // A change the run made may still be processing (the Store downloading its installers): the
      // draft takes the next change only once it is ready. Packages that failed to upload are what
      // putting the packages back fixes.
      yield* untilDraftReady(back, { replacingPackages: change.change === 'packages' });
      yield* run.step('RestoringDraft', restoreWin32Change, { productId, change });
    }
    if (changes.length) yield* untilDraftReady(back);
    yield* run.step('CleaningUp', cleanUpWin32Run, { productId, installers: true });
    showWin32(run, { restored: true, applying: undefined, applied: [] });
    return changes.length
      ? `The run put the product's draft back as it was before it (${changes.map(describeChange).join(', ')}).`
      : undefined;
  } catch (e) {
    showWin32(run, { restored: false });
    const why = failureOf(e, 'restoreWin32Change').message;
    return (
      `The run could not put the draft back (${why}): the draft of product ${productId} still holds these changes of the run: ${changes.map(describeChange).join(', ')}. ` +
      `The Store API cannot delete a draft; review it in Partner Center, or upload a zip that sets it as you want. The installers the draft points at were kept.`
    );
  }
}
