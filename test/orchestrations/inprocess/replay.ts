/**
 * Runs an orchestrator function in this process, the way durable-js's own tests do: the real
 * durable-functions library replays a fabricated history and returns the actions the orchestrator
 * decided on. No Functions host, no storage, no Store: an activity's result is whatever the test
 * script answers, written into the history as the Durable extension would write it.
 *
 * The history grows one event per episode, as the extension delivers them: each new action is
 * answered (TaskCompleted or TaskFailed, TimerFired, SubOrchestrationInstanceCompleted or
 * Failed) after a fresh OrchestratorStarted whose timestamp is the orchestration's new time, and
 * every earlier event is marked as played. Task ids follow the library's own count: one per
 * scheduled task, none for continue-as-new.
 */
import * as df from 'durable-functions';
import { toActivityError } from '../../../lib/errors';
import { EventType } from '../../../sandbox/host/durable/types';

// Not typed by the library (see its lib/src/util/testingUtils.js); these are the parts used here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const testing = require('durable-functions/lib/src/util/testingUtils') as {
  createOrchestrator(
    fn: (context: df.OrchestrationContext) => Generator<df.Task, unknown, unknown>,
  ): (trigger: unknown, context: unknown) => Promise<OrchestratorResult>;
  DurableOrchestrationInput: new (
    instanceId: string,
    history: HistoryEvent[],
    input: unknown,
    longRunningTimerIntervalDuration: string,
    maximumShortTimerDuration: string,
    defaultHttpAsyncRequestSleepTimeMillseconds: number,
    schemaVersion: number,
    isReplaying: boolean,
    parentInstanceId: string,
  ) => unknown;
};

/** The replay schema the extension negotiates with durable-functions 3.x (V3: `actions` as `[[...]]`). */
const SCHEMA_V3 = 2;

const ActionType = { CallActivity: 0, CallSubOrchestrator: 2, ContinueAsNew: 4, CreateTimer: 5 } as const;

interface HistoryEvent {
  EventType: number;
  EventId: number;
  IsPlayed: boolean;
  Timestamp: Date;
  [key: string]: unknown;
}

interface RawAction {
  actionType: number;
  functionName?: string;
  input?: unknown;
  instanceId?: string;
  fireAt?: Date;
}

interface OrchestratorResult {
  isDone: boolean;
  actions: RawAction[][];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
}

/** One decision of the orchestrator, as the tests read it; `at` is the orchestration's time when it was made. */
export type Action = { at: Date } & (
  | { kind: 'activity'; name: string; input: unknown }
  | { kind: 'timer'; fireAt: Date }
  | { kind: 'subOrchestration'; name: string; instanceId?: string; input: unknown }
  | { kind: 'continueAsNew'; input: unknown }
);

/** What a call answered: its output, or the error the activity (or sub-orchestration) threw. */
export type Answer = { output: unknown } | { error: unknown };

export interface Script {
  /** Answers the `call`-th call (from 1) of activity `name`. Default: fail, naming the call. */
  activity?(name: string, input: unknown, call: number): Answer;
  subOrchestration?(name: string, input: unknown, instanceId: string | undefined): Answer;
  /** How long an activity takes on the orchestration's clock. Default one second. */
  activityMs?: number;
}

export interface Played {
  /** Every action the orchestrator returned, in order. */
  actions: Action[];
  /** Custom status at the end of each episode. */
  statuses: unknown[];
  /** Ended: the orchestrator returned, continued as new, or failed. */
  done: boolean;
  output?: unknown;
  /** The message the orchestration failed with. */
  error?: string;
  /** The orchestration's clock when it ended. */
  endedAt: Date;
}

export const ok = (output: unknown = {}): Answer => ({ output });
export const fail = (error: unknown): Answer => ({ error });

/** How long each timer waits, in seconds from the moment it was created. */
export function timerWaits(actions: Action[]): number[] {
  return actions.flatMap((a) => (a.kind === 'timer' ? [(a.fireAt.getTime() - a.at.getTime()) / 1000] : []));
}

/** The names of the activities and sub-orchestrations, and `(timer)` for timers: the run's shape at a glance. */
export function names(actions: Action[]): string[] {
  return actions.map((a) => {
    switch (a.kind) {
      case 'activity':
      case 'subOrchestration':
        return a.name;
      case 'timer':
        return '(timer)';
      case 'continueAsNew':
        return '(continueAsNew)';
    }
  });
}

function toAction(raw: RawAction, at: Date): Action {
  switch (raw.actionType) {
    case ActionType.CallActivity:
      return { at, kind: 'activity', name: raw.functionName!, input: raw.input };
    case ActionType.CallSubOrchestrator:
      return { at, kind: 'subOrchestration', name: raw.functionName!, instanceId: raw.instanceId, input: raw.input };
    case ActionType.CreateTimer:
      return { at, kind: 'timer', fireAt: new Date(raw.fireAt!) };
    case ActionType.ContinueAsNew:
      return { at, kind: 'continueAsNew', input: raw.input };
    default:
      throw new Error(`the in-process driver does not answer action type ${raw.actionType}`);
  }
}

/** TaskFailed (or SubOrchestrationInstanceFailed) fields as the extension writes them for an error. */
function failureFields(name: string, thrown: unknown): Record<string, unknown> {
  // What an activity of this app throws crosses the boundary through toActivityError.
  const err = toActivityError(thrown);
  return {
    Reason: `Activity function '${name}' failed: ${err.message}`,
    Details: err.stack ?? '',
    FailureDetails: { ErrorType: err.name, ErrorMessage: err.message, StackTrace: err.stack, IsNonRetriable: false },
  };
}

/**
 * Plays an orchestration from its start until it ends (or `maxEpisodes` pass), answering each
 * action from `script`. Throws if the orchestrator does something the driver cannot answer.
 */
export async function play(
  orchestrator: (context: df.OrchestrationContext) => Generator<df.Task, unknown, unknown>,
  input: unknown,
  script: Script,
  options: { instanceId?: string; start?: Date; maxEpisodes?: number } = {},
): Promise<Played> {
  const instanceId = options.instanceId ?? 'zip-inprocess';
  const listener = testing.createOrchestrator(orchestrator);
  let now = options.start ?? new Date('2024-05-01T10:00:00.000Z');
  const history: HistoryEvent[] = [];
  let eventId = 0;
  const push = (type: number, fields: Record<string, unknown> = {}): void => {
    history.push({ EventType: type, EventId: eventId++, IsPlayed: false, Timestamp: new Date(now), ...fields });
  };
  push(EventType.OrchestratorStarted);
  push(EventType.ExecutionStarted, { Input: JSON.stringify(input), Name: 'inprocess' });

  const actions: Action[] = [];
  const statuses: unknown[] = [];
  const calls = new Map<string, number>();
  let nextTaskId = 0;
  const queue: Array<() => void> = [];

  for (let episode = 0; episode < (options.maxEpisodes ?? 2000); episode++) {
    const trigger = new testing.DurableOrchestrationInput(
      instanceId,
      history,
      input,
      '3.00:00:00',
      '6.00:00:00',
      30000,
      SCHEMA_V3,
      false,
      '',
    );
    const context = new df.DummyOrchestrationContext('inprocess', undefined, () => undefined);
    let result: OrchestratorResult;
    let failed: string | undefined;
    try {
      result = await listener(trigger, context);
    } catch (e) {
      // A failed orchestration rejects with its state after a marker, as the extension reads it.
      const message = e instanceof Error ? e.message : String(e);
      const at = message.indexOf('$OutOfProcData$:');
      if (at < 0) throw e;
      result = JSON.parse(message.slice(at + '$OutOfProcData$:'.length)) as OrchestratorResult;
      failed = result.error ?? message.slice(0, at).trim();
    }
    statuses.push(result.customStatus);
    // Actions cross to the extension as JSON at the end of the episode; so do they here.
    const raw = (JSON.parse(JSON.stringify(result.actions[0] ?? [])) as RawAction[]).slice(actions.length);
    const fresh = raw.map((a) => toAction(a, new Date(now)));
    actions.push(...fresh);
    for (const e of history) e.IsPlayed = true;

    if (failed !== undefined) return { actions, statuses, done: true, error: failed, endedAt: now };
    if (result.isDone) return { actions, statuses, done: true, output: result.output, endedAt: now };

    // Answer the new actions one episode each, in the order they were scheduled.
    for (const action of fresh) {
      if (action.kind === 'continueAsNew') continue;
      const id = nextTaskId++;
      if (action.kind === 'timer') {
        push(EventType.TimerCreated, { TimerId: id, FireAt: action.fireAt });
        queue.push(() => {
          if (action.fireAt > now) now = new Date(action.fireAt);
          push(EventType.OrchestratorStarted);
          push(EventType.TimerFired, { TimerId: id, FireAt: action.fireAt });
        });
      } else if (action.kind === 'activity') {
        push(EventType.TaskScheduled, { Name: action.name });
        const call = (calls.get(action.name) ?? 0) + 1;
        calls.set(action.name, call);
        const answer = script.activity?.(action.name, action.input, call) ?? {
          error: new Error(`the script has no answer for ${action.name} (call ${call})`),
        };
        queue.push(() => {
          now = new Date(now.getTime() + (script.activityMs ?? 1000));
          push(EventType.OrchestratorStarted);
          if ('output' in answer) {
            push(EventType.TaskCompleted, { TaskScheduledId: id, Result: JSON.stringify(answer.output ?? null) });
          } else {
            push(EventType.TaskFailed, { TaskScheduledId: id, ...failureFields(action.name, answer.error) });
          }
        });
      } else {
        push(EventType.SubOrchestrationInstanceCreated, {
          Name: action.name,
          InstanceId: action.instanceId,
          Input: JSON.stringify(action.input),
        });
        const answer = script.subOrchestration?.(action.name, action.input, action.instanceId) ?? {
          error: new Error(`the script has no answer for sub-orchestration ${action.name}`),
        };
        queue.push(() => {
          now = new Date(now.getTime() + (script.activityMs ?? 1000));
          push(EventType.OrchestratorStarted);
          if ('output' in answer) {
            push(EventType.SubOrchestrationInstanceCompleted, {
              TaskScheduledId: id,
              Result: JSON.stringify(answer.output ?? null),
            });
          } else {
            const { Reason, Details } = failureFields(action.name, answer.error);
            push(EventType.SubOrchestrationInstanceFailed, { TaskScheduledId: id, Reason, Details });
          }
        });
      }
    }
    // One completion per episode: the next one comes after the orchestrator has seen this one.
    const next = queue.shift();
    if (!next) throw new Error('the orchestrator is waiting for something the driver does not answer');
    next();
  }
  throw new Error(`the orchestration did not end within ${options.maxEpisodes ?? 2000} episodes`);
}
