/**
 * Rollout ramps (`options.rollout`): the first step's percentage is set on the submission; once
 * it is published the run applies each later step on a durable timer, `after` counted from the
 * publication: `[{"percentage": 5}, {"percentage": 20, "after": "24h"}, {"finalize": true, "after": "72h"}]`.
 * The decisions as plain functions; the waiting is orchestrations/phases/ramp.ts.
 */
import type { InputProblem } from './errors';
import type { RolloutChange } from './rollout';
import type { PackageRollout } from './store/types';

export interface RampStep {
  percentage?: number;
  finalize?: true;
  /** From the publication: `90m`, `24h`, `3d`. The first step has none. */
  after?: string;
}

/** The external event the ramp's halt, pause and resume routes raise. */
export const RAMP_EVENT = 'rampControl';

/**
 * What a running ramp takes, and in which of its states: halt is final (the Store's halt, and the
 * Store cannot restart a halted rollout), pause holds the schedule, resume takes it up again.
 * The route (functions/rampHttp.ts) and the CLI (`store-submitter ramp`) both read this table.
 */
export const RAMP_ACTIONS = {
  halt: ['Waiting', 'Paused'],
  pause: ['Waiting'],
  resume: ['Paused'],
} as const satisfies Record<string, ReadonlyArray<RampView['state']>>;

export type RampAction = keyof typeof RAMP_ACTIONS;

export function isRampAction(value: string): value is RampAction {
  return Object.prototype.hasOwnProperty.call(RAMP_ACTIONS, value);
}

export interface RampControl {
  action: RampAction;
  by: string;
  at: string;
}

/** The ramp as the status document shows it. */
export interface RampView {
  state: 'Waiting' | 'Paused' | 'Halted' | 'Finalized' | 'Done' | 'ChangedOutside';
  /** The steps with when each is (or was) due and what came of it. */
  steps: Array<RampStep & { dueAt?: string; appliedAt?: string; correlationId?: string }>;
  /** Index of the next step to apply, while waiting or paused. */
  next?: number;
  /** Why the ramp stopped, for Halted and ChangedOutside. */
  message?: string;
  /** The last halt, pause or resume. */
  control?: RampControl;
}

const DURATION = /^(\d+(?:\.\d+)?)(m|h|d)$/;

/** `90m`, `24h`, `3d` → milliseconds, or undefined when it is none of those. */
export function rampDelayMs(after: string): number | undefined {
  const m = DURATION.exec(after.trim());
  if (!m) return undefined;
  const unit = m[2] === 'm' ? 60_000 : m[2] === 'h' ? 3_600_000 : 86_400_000;
  const ms = Number(m[1]) * unit;
  return ms > 0 ? ms : undefined;
}

/** Every problem of a ramp, each naming its step: the schema checks the shapes, this the order. */
export function rampProblems(steps: unknown, file: string, prefix: string): InputProblem[] {
  if (!Array.isArray(steps)) return [];
  const problems: InputProblem[] = [];
  const at = (i: number, field?: string): string => `${prefix}[${i}]${field ? `.${field}` : ''}`;
  let lastDelay = 0;
  let lastPercentage = 0;
  steps.forEach((raw, i) => {
    if (!raw || typeof raw !== 'object') return;
    const step = raw as RampStep;
    if (i === 0) {
      if (step.after !== undefined)
        problems.push({
          file,
          field: at(0, 'after'),
          message: 'the first step is set on the submission itself: it has no "after"',
        });
      if (typeof step.percentage !== 'number')
        problems.push({ file, field: at(0), message: 'the first step is a percentage, e.g. {"percentage": 5}' });
    } else {
      const delay = typeof step.after === 'string' ? rampDelayMs(step.after) : undefined;
      // A string that is no duration is the schema's to name; a missing one is ours.
      if (step.after === undefined)
        problems.push({
          file,
          field: at(i, 'after'),
          message: 'is required after the first step: a duration from the publication such as "24h", "90m" or "3d"',
        });
      else if (delay !== undefined && delay <= lastDelay)
        problems.push({
          file,
          field: at(i, 'after'),
          message: 'must be later than the step before it (each "after" counts from the publication)',
        });
      if (delay !== undefined) lastDelay = Math.max(lastDelay, delay);
    }
    if (step.finalize === true && i !== steps.length - 1)
      problems.push({ file, field: at(i, 'finalize'), message: 'finalize ends the rollout: it must be the last step' });
    if (typeof step.percentage === 'number') {
      if (step.percentage <= lastPercentage && i > 0)
        problems.push({ file, field: at(i, 'percentage'), message: 'must be more than the step before it' });
      lastPercentage = step.percentage;
    }
  });
  return problems;
}

/** The Store call a step is. */
export function changeOf(step: RampStep): RolloutChange {
  return step.finalize === true ? { finalize: true } : { percentage: step.percentage ?? 0 };
}

/** When each step is due, from the publication. */
export function dueTimes(steps: RampStep[], publishedAt: Date): Array<Date | undefined> {
  return steps.map((s) => {
    const ms = s.after ? rampDelayMs(s.after) : undefined;
    return ms === undefined ? undefined : new Date(publishedAt.getTime() + ms);
  });
}

/**
 * What to do with the rollout as the Store has it now, before applying `step` after the ramp
 * set `expected` percent: apply the step; nothing (an earlier attempt of this step already
 * took); or stop, because someone changed the rollout by hand (another percentage, halted,
 * finalized) and the ramp must not undo that.
 */
export function rampStepDecision(
  current: PackageRollout,
  expected: number,
  step: RampStep,
): 'apply' | 'done' | 'changedOutside' {
  const status = current.packageRolloutStatus;
  const percentage = current.packageRolloutPercentage;
  if (step.finalize === true) {
    if (status === 'PackageRolloutComplete') return 'done';
    return status === 'PackageRolloutInProgress' && percentage === expected ? 'apply' : 'changedOutside';
  }
  if (status !== 'PackageRolloutInProgress') return 'changedOutside';
  if (percentage === step.percentage) return 'done';
  return percentage === expected ? 'apply' : 'changedOutside';
}
