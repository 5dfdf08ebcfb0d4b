import type { FunctionInput, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { config } from '../../lib/config';
import { toActivityError } from '../../lib/errors';
import { redact } from '../../lib/redact';
import { storeClientFor, type StoreClient } from '../../lib/store/client';

/** Every activity input names the run it works for, so its log lines can say so. */
export interface ActivityInput {
  instanceId: string;
}

export interface ActivityScope {
  context: InvocationContext;
  /** A Store client whose calls are logged against this run and whose correlation ids are collected. */
  store(): StoreClient;
  /** `MS-CorrelationId`s of the Store calls made so far by this invocation. */
  correlationIds: string[];
  log(message: string): void;
}

/**
 * A typed handle to a registered activity: calling it inside an orchestrator schedules the
 * activity. It carries the activity's name (for the timeline) and, as a type only, what the
 * activity returns, so `RunTracker.step` and `callActivity` infer the output from the handle.
 */
export type Activity<I extends ActivityInput, O> = ((input: I) => df.Task) & {
  readonly activityName: string;
  /** Never set: only the type matters. */
  readonly output?: O;
};

/**
 * Registers an activity whose failures cross into the orchestration with their facts
 * (code, retriable, correlation id) and whose log lines carry the run's id and are
 * scrubbed of secrets. Activities throw; they never return error strings.
 */
export function defineActivity<I extends ActivityInput, O>(
  name: string,
  run: (input: I, scope: ActivityScope) => Promise<O>,
  options: { extraInputs?: FunctionInput[] } = {},
): Activity<I, O> {
  const handler = async (input: unknown, context: InvocationContext): Promise<O> => {
    const typed = input as I;
    const correlationIds: string[] = [];
    const prefix = `[${typed.instanceId}] ${name}:`;
    const log = (message: string): void => context.log(redact(`${prefix} ${message}`));
    let client: StoreClient | undefined;
    const scope: ActivityScope = {
      context,
      correlationIds,
      log,
      store: () => {
        client ??= storeClientFor(config().store, {
          logger: (line) => {
            if (line.correlationId) correlationIds.push(line.correlationId);
            log(
              `${line.method} ${line.path} -> ${line.status ?? line.error ?? 'no answer'} in ${line.durationMs} ms` +
                ` (attempt ${line.attempt}, MS-CorrelationId ${line.correlationId ?? 'none'})`,
            );
          },
        });
        return client;
      },
    };
    try {
      return await run(typed, scope);
    } catch (e) {
      context.error(redact(`${prefix} failed: ${e instanceof Error ? e.message : String(e)}`));
      throw toActivityError(e);
    }
  };
  const schedule = df.app.activity(name, { handler, extraInputs: options.extraInputs });
  return Object.assign((input: I) => schedule(input), { activityName: name });
}
