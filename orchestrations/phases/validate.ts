import type * as df from 'durable-functions';
import type { RunInput, ValidatedZip } from '../../lib/run';
import { getRunSettings, type RunSettings } from '../activities/getRunSettings';
import { validateZip } from '../activities/validateZip';
import type { RunTracker } from '../tracker';

export interface Validated {
  /** The app settings the run started with (a replay sees the same values). */
  settings: RunSettings;
  zip: ValidatedZip;
}

/** Reads the run's settings, then the zip's central directory and manifest, before anything touches the Store. */
export function* validate(run: RunTracker, input: RunInput): Generator<df.Task, Validated, unknown> {
  const settings = yield* run.step('Validating', getRunSettings, {});
  const zip = yield* run.step('Validating', validateZip, { blob: input.blob, overrides: input.overrides });
  run.show({ kind: zip.target.kind, options: zip.options, dryRun: zip.options.dryRun === true });
  return { settings, zip };
}
