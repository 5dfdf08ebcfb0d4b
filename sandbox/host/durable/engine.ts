import { randomUUID } from 'node:crypto';
import { ContainerClient, RestError } from '@azure/storage-blob';
import type { ParameterBinding, RegisteredFunction, Worker } from '../core';
import type { Logger } from '../log';
import {
  ACTION_NAMES,
  Action,
  ActionType,
  EVENT_NAMES,
  EventType,
  HistoryEvent,
  InstanceState,
  OrchestratorResult,
  OutboxMessage,
  ParentLink,
  ScheduledRecord,
  TERMINAL,
} from './types';

const CATEGORY = 'Host.Triggers.DurableTask';
const OOP_LABEL = '$OutOfProcData$:';
// The values the extension hands the library; timers longer than the first are split into
// intervals of the second, by the library and the host alike.
const MAX_SHORT_TIMER_MS = 6 * 24 * 3600 * 1000;
const LONG_TIMER_INTERVAL_MS = 3 * 24 * 3600 * 1000;
const MAX_SET_TIMEOUT_MS = 2 ** 31 - 1;
/** The Azure Storage provider's default work-item visibility timeout (AzureStorageOptions). */
export const DEFAULT_WORK_ITEM_VISIBILITY_MS = 5 * 60 * 1000;
const CARRIED_OVER: ReadonlySet<number> = new Set([
  EventType.EventRaised,
  EventType.ExecutionTerminated,
  EventType.ExecutionSuspended,
  EventType.ExecutionResumed,
]);

/**
 * Durable time: `base + (now - start) × speed`. Every OrchestratorStarted timestamp and every
 * timer comparison uses it, so a fast clock still gives the orchestration a consistent world.
 */
export class VirtualClock {
  private realStart = Date.now();
  private base = Date.now();

  constructor(readonly speed: number) {
    if (!(speed > 0)) throw new Error(`clockSpeed must be positive, got ${speed}`);
  }

  now(): number {
    return Math.floor(this.base + (Date.now() - this.realStart) * this.speed);
  }

  /** Never lets time run backwards across a restart: history written by a faster run stays in the past. */
  advanceTo(virtualMs: number): void {
    if (virtualMs > this.now()) {
      this.base = virtualMs;
      this.realStart = Date.now();
    }
  }

  realDelayUntil(virtualMs: number): number {
    return Math.max(0, Math.ceil((virtualMs - this.now()) / this.speed));
  }
}

export interface EngineOptions {
  worker: Worker;
  logger: Logger;
  /** Holds one JSON blob per instance of this task hub. */
  container: ContainerClient;
  taskHub: string;
  clock: VirtualClock;
  maxConcurrentActivities: number;
  /**
   * How long a work item stays invisible in its queue once a host took it: an activity a killed
   * host was running runs again only when it has passed (Azure Storage provider,
   * `storageProvider.workItemQueueVisibilityTimeout`, 5 minutes by default).
   */
  workItemVisibilityMs?: number;
}

type After = () => void | Promise<void>;

export type ClientOutcome = 'ok' | 'notFound' | 'gone';

const iso = (ms: number): string => new Date(ms).toISOString();

/** When an event happened on the virtual clock (0 when it carries no time). */
function eventTime(ev: HistoryEvent): number {
  const at = Date.parse(String(ev.Timestamp));
  return Number.isNaN(at) ? 0 : at;
}

function event(type: number, timestamp: string, fields: Record<string, unknown> = {}, eventId = -1): HistoryEvent {
  return { EventType: type, EventId: eventId, IsPlayed: false, Timestamp: timestamp, ...fields };
}

/** Depth-first through Task.all / Task.any, the order in which the library numbers its tasks. */
export function flattenActions(actions: unknown): Action[] {
  const out: Action[] = [];
  const walk = (a: unknown): void => {
    if (Array.isArray(a)) {
      a.forEach(walk);
      return;
    }
    const action = a as Action;
    if (action.actionType === ActionType.WhenAll || action.actionType === ActionType.WhenAny)
      (action.compoundActions ?? []).forEach(walk);
    else out.push(action);
  };
  walk(actions);
  return out;
}

function actionName(a: Action): string {
  if (a.actionType === ActionType.WaitForExternalEvent) return a.externalEventName ?? '';
  return a.functionName ?? '';
}

function historyKind(kind: number): string {
  switch (kind) {
    case ActionType.CallActivity:
    case ActionType.CallActivityWithRetry:
      return 'TaskScheduled';
    case ActionType.CallSubOrchestrator:
    case ActionType.CallSubOrchestratorWithRetry:
      return 'SubOrchestrationInstanceCreated';
    case ActionType.CreateTimer:
      return 'TimerCreated';
    default:
      return ACTION_NAMES[kind] ?? `action ${kind}`;
  }
}

function named(kind: string, name: string): string {
  return name ? `${kind} '${name}'` : kind;
}

/** Activity input as the TaskScheduled event carries it: strings arrive from the library as JSON text already. */
function activityInputText(input: unknown): string | undefined {
  if (input === undefined) return undefined;
  return typeof input === 'string' ? input : JSON.stringify(input);
}

/** The extension's custom status limit, KB of UTF-16 (DurableOrchestrationContext.cs:221-229). */
const CUSTOM_STATUS_MAX_KB = 16;

function jsonTextOrNull(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

function isActivity(kind: number): boolean {
  return kind === ActionType.CallActivity || kind === ActionType.CallActivityWithRetry;
}

export class DurableEngine {
  private readonly cache = new Map<string, InstanceState>();
  private readonly etags = new Map<string, string>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly running = new Set<string>();
  private readonly rerun = new Set<string>();
  private readonly timerHandles = new Set<NodeJS.Timeout>();
  private readonly activityQueue: Array<() => Promise<void>> = [];
  private activeActivities = 0;
  private stopped = false;

  /** The other inputs of an activity (a Durable client): activities may declare them like any function. */
  private extraInputsOf?: (fn: RegisteredFunction) => ParameterBinding[];

  constructor(private readonly o: EngineOptions) {}

  /** Set once the Durable API exists, before any instance runs. */
  setExtraInputs(inputs: (fn: RegisteredFunction) => ParameterBinding[]): void {
    this.extraInputsOf = inputs;
  }

  get taskHub(): string {
    return this.o.taskHub;
  }

  // ---------------------------------------------------------------- persistence

  private blobName(instanceId: string): string {
    return `instances/${encodeURIComponent(instanceId)}.json`;
  }

  async load(): Promise<number> {
    await this.o.container.createIfNotExists();
    let latest = 0;
    for await (const item of this.o.container.listBlobsFlat({ prefix: 'instances/' })) {
      const blob = this.o.container.getBlobClient(item.name);
      const body = await blob.downloadToBuffer();
      const st = JSON.parse(body.toString('utf8')) as InstanceState;
      if (st.schema !== 1) throw new Error(`task hub ${this.o.taskHub}: ${item.name} has an unknown state schema`);
      this.cache.set(st.instanceId, st);
      if (item.properties.etag) this.etags.set(st.instanceId, item.properties.etag);
      latest = Math.max(latest, Date.parse(st.virtualNow), ...st.inbox.map(eventTime));
    }
    this.o.clock.advanceTo(latest);
    return this.cache.size;
  }

  private async save(st: InstanceState): Promise<void> {
    st.lastUpdatedTime = new Date().toISOString();
    const text = JSON.stringify(st);
    const etag = this.etags.get(st.instanceId);
    const blob = this.o.container.getBlockBlobClient(this.blobName(st.instanceId));
    try {
      const res = await blob.upload(text, Buffer.byteLength(text), {
        conditions: etag ? { ifMatch: etag } : { ifNoneMatch: '*' },
        blobHTTPHeaders: { blobContentType: 'application/json' },
      });
      if (res.etag) this.etags.set(st.instanceId, res.etag);
      this.cache.set(st.instanceId, st);
    } catch (e) {
      if (e instanceof RestError && (e.statusCode === 412 || e.statusCode === 409)) {
        throw new Error(
          `the state of instance '${st.instanceId}' in task hub ${this.o.taskHub} was changed by someone else: is a second host running on this task hub?`,
        );
      }
      throw e;
    }
  }

  private async remove(instanceId: string): Promise<void> {
    await this.o.container.getBlobClient(this.blobName(instanceId)).deleteIfExists();
    this.cache.delete(instanceId);
    this.etags.delete(instanceId);
  }

  private withLock<T>(instanceId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(instanceId) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.locks.set(instanceId, tail);
    void tail.then(() => {
      if (this.locks.get(instanceId) === tail) this.locks.delete(instanceId);
    });
    return next;
  }

  // ---------------------------------------------------------------- start-up and shutdown

  /** Picks up where a previous host stopped: activities run again (at least once), timers re-armed. */
  resumeAll(): void {
    for (const st of this.cache.values()) {
      if (TERMINAL.has(st.runtimeStatus) && st.outbox.length === 0) continue;
      for (const a of st.activities) this.relaunchActivity(st.instanceId, st.executionId, a);
      for (const t of st.timers) this.armTimer(st.instanceId, st.executionId, t.id, t.fireAt);
      if (st.outbox.length > 0) void this.flushOutbox(st.instanceId);
      if (st.inbox.length > 0) this.kick(st.instanceId);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const h of this.timerHandles) clearTimeout(h);
    this.timerHandles.clear();
    this.activityQueue.length = 0;
  }

  // ---------------------------------------------------------------- client operations

  get(instanceId: string): InstanceState | undefined {
    return this.cache.get(instanceId);
  }

  instances(): InstanceState[] {
    return [...this.cache.values()];
  }

  isOrchestrator(name: string): boolean {
    return this.o.worker.functions.get(name)?.trigger.type === 'orchestrationTrigger';
  }

  /** Starts an instance; an id that is Pending, Running or Suspended is refused, as by the extension. */
  async startNew(
    name: string,
    instanceId: string | undefined,
    input: string | null,
  ): Promise<{ instanceId: string; conflict?: string }> {
    const id = instanceId ?? randomUUID().replace(/-/g, '');
    return this.withLock(id, async () => {
      const existing = this.cache.get(id);
      if (existing && !TERMINAL.has(existing.runtimeStatus)) {
        return {
          instanceId: id,
          conflict: `An Orchestration instance with the status ${existing.runtimeStatus} already exists.`,
        };
      }
      const st = this.newInstance(id, name, input, undefined);
      if (existing) st.createdTime = new Date().toISOString();
      await this.save(st);
      this.o.logger.info(CATEGORY, `${id}: orchestration '${name}' scheduled`, { instanceId: id });
      this.kick(id);
      return { instanceId: id };
    });
  }

  private newInstance(
    instanceId: string,
    name: string,
    input: string | null,
    parent: ParentLink | undefined,
  ): InstanceState {
    const now = new Date().toISOString();
    const executionId = randomUUID().replace(/-/g, '');
    const vnow = iso(this.o.clock.now());
    return {
      schema: 1,
      instanceId,
      name,
      executionId,
      runtimeStatus: 'Pending',
      input,
      output: null,
      customStatus: null,
      createdTime: now,
      lastUpdatedTime: now,
      parent,
      history: [],
      inbox: [this.executionStarted(instanceId, executionId, name, input, parent, vnow)],
      records: [],
      ids: {},
      nextId: 0,
      activities: [],
      timers: [],
      children: [],
      outbox: [],
      virtualNow: vnow,
    };
  }

  private executionStarted(
    instanceId: string,
    executionId: string,
    name: string,
    input: string | null,
    parent: ParentLink | undefined,
    ts: string,
  ): HistoryEvent {
    return event(EventType.ExecutionStarted, ts, {
      Name: name,
      Input: input,
      OrchestrationInstance: { InstanceId: instanceId, ExecutionId: executionId },
      ...(parent
        ? {
            ParentInstance: {
              Name: parent.name,
              TaskScheduleId: parent.taskId,
              OrchestrationInstance: { InstanceId: parent.instanceId, ExecutionId: parent.executionId },
            },
          }
        : {}),
    });
  }

  raiseEvent(instanceId: string, name: string, input: string | null): Promise<ClientOutcome> {
    return this.enqueueClientEvent(
      instanceId,
      event(EventType.EventRaised, iso(this.o.clock.now()), { Name: name, Input: input }),
    );
  }

  terminate(instanceId: string, reason: string): Promise<ClientOutcome> {
    return this.enqueueClientEvent(
      instanceId,
      event(EventType.ExecutionTerminated, iso(this.o.clock.now()), { Input: JSON.stringify(reason) }),
    );
  }

  suspend(instanceId: string, reason: string): Promise<ClientOutcome> {
    return this.enqueueClientEvent(
      instanceId,
      event(EventType.ExecutionSuspended, iso(this.o.clock.now()), { Reason: reason }),
    );
  }

  resume(instanceId: string, reason: string): Promise<ClientOutcome> {
    return this.enqueueClientEvent(
      instanceId,
      event(EventType.ExecutionResumed, iso(this.o.clock.now()), { Reason: reason }),
    );
  }

  private async enqueueClientEvent(instanceId: string, ev: HistoryEvent): Promise<ClientOutcome> {
    const outcome = await this.withLock(instanceId, async (): Promise<ClientOutcome> => {
      const st = this.cache.get(instanceId);
      if (!st) return 'notFound';
      if (TERMINAL.has(st.runtimeStatus)) return 'gone';
      st.inbox.push(ev);
      await this.save(st);
      return 'ok';
    });
    if (outcome === 'ok') this.kick(instanceId);
    return outcome;
  }

  /** Deletes a finished instance's state; running instances are left alone (0 deleted). */
  async purge(instanceId: string): Promise<'deleted' | 'notFound' | 'notTerminal'> {
    return this.withLock(instanceId, async () => {
      const st = this.cache.get(instanceId);
      if (!st) return 'notFound';
      if (!TERMINAL.has(st.runtimeStatus)) return 'notTerminal';
      await this.remove(instanceId);
      return 'deleted';
    });
  }

  // ---------------------------------------------------------------- the episode loop

  private kick(instanceId: string): void {
    if (this.stopped) return;
    if (this.running.has(instanceId)) {
      this.rerun.add(instanceId);
      return;
    }
    this.running.add(instanceId);
    void (async () => {
      try {
        for (;;) {
          this.rerun.delete(instanceId);
          let more = false;
          let after: After[] = [];
          try {
            const r = await this.withLock(instanceId, () => this.step(instanceId));
            more = r.more;
            after = r.after;
          } catch (e) {
            this.o.logger.error(
              CATEGORY,
              `${instanceId}: the host failed to process an episode: ${(e as Error).message}`,
              { instanceId },
            );
            break;
          }
          for (const fn of after) await fn();
          if (this.stopped) break;
          if (!more && !this.rerun.has(instanceId)) break;
        }
      } finally {
        this.running.delete(instanceId);
      }
    })();
  }

  private async step(instanceId: string): Promise<{ more: boolean; after: After[] }> {
    const st = this.cache.get(instanceId);
    if (!st || this.stopped) return { more: false, after: [] };
    if (TERMINAL.has(st.runtimeStatus)) {
      if (st.inbox.length > 0) {
        st.inbox = [];
        await this.save(st);
      }
      return { more: false, after: [] };
    }
    // A suspended instance only listens to resume and terminate; everything else waits in its inbox.
    const at =
      st.runtimeStatus === 'Suspended'
        ? st.inbox.findIndex(
            (e) => e.EventType === EventType.ExecutionResumed || e.EventType === EventType.ExecutionTerminated,
          )
        : 0;
    if (at < 0 || st.inbox.length === 0) return { more: false, after: [] };
    // If the episode cannot be saved, the instance goes back to its last saved state, event included.
    const saved = structuredClone(st);
    const [ev] = st.inbox.splice(at, 1) as [HistoryEvent];
    const after: After[] = [];
    try {
      await this.episode(st, ev, after);
      await this.save(st);
    } catch (e) {
      this.cache.set(instanceId, saved);
      throw e;
    }
    if (st.outbox.length > 0) after.push(() => this.flushOutbox(st.instanceId));
    return { more: st.inbox.length > 0, after };
  }

  private async episode(st: InstanceState, ev: HistoryEvent, after: After[]): Promise<void> {
    // Never before the event itself: a timer that a killed host had already fired (its TimerFired
    // saved in the inbox) is handled by the next host, whose clock starts from the last episode.
    // Handled at an earlier time, the timer looked unfired there, was chained like a long timer
    // with an id the library never took, and the library's next task then got that timer's
    // TimerFired as its result (undefined). On the extension a timer's message is only seen once
    // its FireAt has passed, so the orchestrator's time is never before it.
    const nowMs = Math.max(this.o.clock.now(), Date.parse(st.virtualNow), eventTime(ev));
    this.o.clock.advanceTo(nowMs);
    const now = iso(nowMs);
    st.virtualNow = now;

    switch (ev.EventType) {
      case EventType.ExecutionTerminated: {
        const reason = typeof ev.Input === 'string' ? ev.Input : JSON.stringify('');
        // The extension completes a terminated execution like any other: ExecutionCompleted with
        // status Terminated and the reason as its result follows the ExecutionTerminated event
        // (DurableTask.Core TaskOrchestrationContext.HandleExecutionTerminatedEvent).
        st.history.push(
          { ...ev, Timestamp: now },
          event(EventType.ExecutionCompleted, now, { OrchestrationStatus: 'Terminated', Result: reason }),
        );
        this.finish(st, 'Terminated', reason);
        this.o.logger.info(CATEGORY, `${st.instanceId}: terminated`, { instanceId: st.instanceId });
        return;
      }
      case EventType.ExecutionSuspended:
        st.history.push({ ...ev, Timestamp: now });
        st.runtimeStatus = 'Suspended';
        this.o.logger.info(CATEGORY, `${st.instanceId}: suspended`, { instanceId: st.instanceId });
        return;
      case EventType.ExecutionResumed:
        st.history.push({ ...ev, Timestamp: now });
        if (st.runtimeStatus === 'Suspended') st.runtimeStatus = 'Running';
        this.o.logger.info(CATEGORY, `${st.instanceId}: resumed`, { instanceId: st.instanceId });
        return;
      default:
        break;
    }
    if (ev.EventType === EventType.ExecutionStarted) st.runtimeStatus = 'Running';

    const bookkeeping: HistoryEvent[] = [];
    let failure: string | undefined;
    try {
      this.beforeDelivery(st, ev, nowMs, bookkeeping, after);
    } catch (e) {
      failure = (e as Error).message;
    }

    const orchestratorStarted = event(EventType.OrchestratorStarted, now);
    let result: OrchestratorResult | undefined;
    const fn = this.o.worker.functions.get(st.name);
    if (!failure && (!fn || fn.trigger.type !== 'orchestrationTrigger')) {
      failure = `The function '${st.name}' doesn't exist, is disabled, or is not an orchestrator function.`;
    } else if (!failure && fn) {
      const payload = {
        history: [
          ...st.history.map((e) => ({ ...e, IsPlayed: true })),
          orchestratorStarted,
          { ...ev, IsPlayed: false },
        ],
        input: st.input === null ? null : (JSON.parse(st.input) as unknown),
        instanceId: st.instanceId,
        isReplaying: st.history.length > 0,
        parentInstanceId: st.parent?.instanceId,
        upperSchemaVersion: 1,
        upperSchemaVersionNew: 2,
        longRunningTimerIntervalDuration: '3.00:00:00',
        maximumShortTimerDuration: '6.00:00:00',
        defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
      };
      try {
        const response = await this.o.worker.invoke(st.name, {
          inputData: [{ name: fn.triggerBindingName, data: { string: JSON.stringify(payload) } }],
          reason: `${EVENT_NAMES[ev.EventType] ?? ev.EventType} for instance ${st.instanceId}`,
        });
        const rv = response.returnValue;
        if (!rv || typeof rv.json !== 'string')
          throw new Error('the orchestrator returned no state (is it registered with df.app.orchestration?)');
        result = JSON.parse(rv.json) as OrchestratorResult;
        if (result.schemaVersion !== 2)
          failure = `the orchestrator answered with replay schema ${String(result.schemaVersion)}; the sandbox host speaks schema 2 only`;
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        const cut = message.indexOf(OOP_LABEL);
        if (cut >= 0) {
          try {
            result = JSON.parse(message.slice(cut + OOP_LABEL.length)) as OrchestratorResult;
            failure = result.error ?? 'the orchestrator failed without an error message';
          } catch {
            failure = `unreadable orchestrator failure state: ${message.slice(0, cut).trim()}`;
          }
        } else {
          failure = `the orchestrator failed outside the durable-functions protocol (a host or library bug): ${message}`;
        }
      }
    }

    const actionEvents: HistoryEvent[] = [];
    let flat: Action[] = [];
    if (result) {
      // The extension serializes the custom status first (OutOfProcOrchestrationShim, before the
      // actions): over 16 KB of UTF-16 it throws and the instance fails, the actions unscheduled and
      // the last accepted status kept (DurableOrchestrationContext.cs:221-229,
      // MessagePayloadDataConverter.Serialize(value, 16) truncates the size to whole KB).
      const text = jsonTextOrNull(result.customStatus);
      const kb = text === null ? 0 : Math.floor((text.length * 2) / 1024);
      if (kb > CUSTOM_STATUS_MAX_KB) {
        failure = `The UTF-16 size of the JSON-serialized payload must not exceed ${CUSTOM_STATUS_MAX_KB} KB. The current payload size is ${kb} KB.`;
      } else st.customStatus = text;
      flat = flattenActions(result.actions ?? []);
      const mismatch = this.checkDeterminism(st, flat, result.isDone && !failure);
      if (mismatch) failure = mismatch;
      else if (!failure) {
        this.applyCancellations(st, flat);
        for (let i = st.records.length; i < flat.length; i++) {
          const problem = this.schedule(st, flat[i] as Action, nowMs, actionEvents, after);
          if (problem) {
            failure = problem;
            break;
          }
        }
      }
    }

    st.history.push(orchestratorStarted, ev, ...bookkeeping, ...actionEvents);
    if (failure) {
      // Nothing this episode scheduled runs for a failed instance.
      after.length = 0;
      st.outbox = st.outbox.filter((m) => m.kind !== 'create');
      this.fail(st, failure);
    } else if (result?.isDone) {
      const can = flat.find((a) => a.actionType === ActionType.ContinueAsNew);
      if (can) this.continueAsNew(st, can, now);
      else this.complete(st, result.output);
    } else {
      st.history.push(event(EventType.OrchestratorCompleted, now));
    }
  }

  /**
   * The host-side part of retries and long timers. The library numbers the retry timer when it
   * reads the failure, and the next attempt when it reads that timer firing, before the user's
   * code runs again: so those ids are taken here, before the episode's new actions.
   */
  private beforeDelivery(
    st: InstanceState,
    ev: HistoryEvent,
    nowMs: number,
    events: HistoryEvent[],
    after: After[],
  ): void {
    const now = iso(nowMs);
    if (ev.EventType === EventType.TaskFailed || ev.EventType === EventType.SubOrchestrationInstanceFailed) {
      const role = st.ids[String(ev.TaskScheduledId)];
      const rec = role ? st.records[role.rec] : undefined;
      if (!role || !rec?.retry) return;
      const r = rec.retry;
      if (
        r.retryTimeoutInMilliseconds &&
        r.retryTimeoutInMilliseconds > 0 &&
        rec.firstAttemptAt &&
        nowMs - Date.parse(rec.firstAttemptAt) >= r.retryTimeoutInMilliseconds
      ) {
        throw new Error(
          `retryTimeoutInMilliseconds of '${rec.name}' elapsed: the Durable host stops retrying here without a timer, which durable-functions 3.5.0 would wait for forever; the sandbox host fails the instance instead`,
        );
      }
      let delay = r.firstRetryIntervalInMilliseconds * Math.pow(r.backoffCoefficient ?? 1, rec.attempt - 1);
      if (r.maxRetryIntervalInMilliseconds && r.maxRetryIntervalInMilliseconds > 0)
        delay = Math.min(delay, r.maxRetryIntervalInMilliseconds);
      const id = st.nextId++;
      st.ids[String(id)] = { rec: role.rec, role: 'retryTimer' };
      const fireAt = iso(nowMs + Math.round(delay));
      events.push(event(EventType.TimerCreated, now, { FireAt: fireAt }, id));
      this.addTimer(st, id, fireAt, after);
    } else if (ev.EventType === EventType.TimerFired) {
      const role = st.ids[String(ev.TimerId)];
      const rec = role ? st.records[role.rec] : undefined;
      if (!role || !rec) return;
      if (role.role === 'retryTimer' && rec.retry) {
        if (rec.attempt < rec.retry.maxNumberOfAttempts) {
          rec.attempt++;
          this.scheduleAttempt(st, role.rec, now, events, after);
        }
      } else if (role.role === 'timer' && rec.finalFireAt && Date.parse(rec.finalFireAt) > nowMs && !rec.canceled) {
        const id = st.nextId++;
        st.ids[String(id)] = { rec: role.rec, role: 'timer' };
        const fireAt = iso(this.nextTimerFire(nowMs, Date.parse(rec.finalFireAt)));
        events.push(event(EventType.TimerCreated, now, { FireAt: fireAt }, id));
        this.addTimer(st, id, fireAt, after);
      }
    }
  }

  private nextTimerFire(nowMs: number, finalMs: number): number {
    return finalMs - nowMs > MAX_SHORT_TIMER_MS ? nowMs + LONG_TIMER_INTERVAL_MS : finalMs;
  }

  /** Kind and name of every action the code schedules on replay must match what it scheduled before. */
  private checkDeterminism(st: InstanceState, flat: Action[], completing: boolean): string | undefined {
    const n = Math.min(flat.length, st.records.length);
    for (let i = 0; i < n; i++) {
      const a = flat[i] as Action;
      const rec = st.records[i] as ScheduledRecord;
      const nameless = rec.kind === ActionType.CreateTimer || rec.kind === ActionType.ContinueAsNew;
      if (a.actionType !== rec.kind || (!nameless && actionName(a) !== rec.name)) {
        // Same history event but another action (a retry added or dropped): name the action kinds.
        const recKind =
          rec.kind !== a.actionType && historyKind(rec.kind) === historyKind(a.actionType)
            ? (ACTION_NAMES[rec.kind] ?? String(rec.kind))
            : historyKind(rec.kind);
        return `Non-deterministic workflow detected: history has ${named(recKind, rec.name)} at position ${i} but the code scheduled ${named(ACTION_NAMES[a.actionType] ?? `action ${a.actionType}`, actionName(a))}`;
      }
    }
    if (completing && flat.length < st.records.length) {
      const rec = st.records[flat.length] as ScheduledRecord;
      return `Non-deterministic workflow detected: history has ${named(historyKind(rec.kind), rec.name)} at position ${flat.length} but the code completed without scheduling it`;
    }
    return undefined;
  }

  private applyCancellations(st: InstanceState, flat: Action[]): void {
    const n = Math.min(flat.length, st.records.length);
    for (let i = 0; i < n; i++) {
      const rec = st.records[i] as ScheduledRecord;
      if (rec.kind === ActionType.CreateTimer && (flat[i] as Action).isCanceled && !rec.canceled) {
        rec.canceled = true;
        st.timers = st.timers.filter((t) => st.ids[String(t.id)]?.rec !== i);
      }
    }
  }

  /** A new action: ids are taken exactly as the library counts tasks (external events and continue-as-new take none). */
  private schedule(
    st: InstanceState,
    action: Action,
    nowMs: number,
    events: HistoryEvent[],
    after: After[],
  ): string | undefined {
    const now = iso(nowMs);
    const kind = action.actionType;
    switch (kind) {
      case ActionType.CallActivity:
      case ActionType.CallActivityWithRetry:
      case ActionType.CallSubOrchestrator:
      case ActionType.CallSubOrchestratorWithRetry: {
        const withRetry = kind === ActionType.CallActivityWithRetry || kind === ActionType.CallSubOrchestratorWithRetry;
        if (withRetry && !(action.retryOptions && action.retryOptions.maxNumberOfAttempts >= 1))
          return `${ACTION_NAMES[kind]} '${action.functionName}' has no usable retryOptions`;
        st.records.push({
          kind,
          name: action.functionName ?? '',
          attempt: 1,
          firstAttemptAt: now,
          retry: withRetry ? action.retryOptions : undefined,
          input: action.input,
          instanceId: action.instanceId || undefined,
        });
        this.scheduleAttempt(st, st.records.length - 1, now, events, after);
        return undefined;
      }
      case ActionType.CreateTimer: {
        const finalMs = Date.parse(action.fireAt ?? '');
        if (Number.isNaN(finalMs)) return `CreateTimer with an unreadable fireAt: ${String(action.fireAt)}`;
        st.records.push({
          kind,
          name: '',
          attempt: 0,
          finalFireAt: action.fireAt,
          canceled: action.isCanceled || undefined,
        });
        const id = st.nextId++;
        st.ids[String(id)] = { rec: st.records.length - 1, role: 'timer' };
        const fireAt = iso(this.nextTimerFire(nowMs, finalMs));
        events.push(event(EventType.TimerCreated, now, { FireAt: fireAt }, id));
        if (!action.isCanceled) this.addTimer(st, id, fireAt, after);
        return undefined;
      }
      case ActionType.WaitForExternalEvent:
        st.records.push({ kind, name: action.externalEventName ?? '', attempt: 0 });
        return undefined;
      case ActionType.ContinueAsNew:
        st.records.push({ kind, name: '', attempt: 0 });
        return undefined;
      default:
        return `${ACTION_NAMES[kind] ?? `action type ${kind}`} is not implemented by the sandbox host`;
    }
  }

  private scheduleAttempt(
    st: InstanceState,
    recIndex: number,
    now: string,
    events: HistoryEvent[],
    after: After[],
  ): void {
    const rec = st.records[recIndex] as ScheduledRecord;
    const id = st.nextId++;
    st.ids[String(id)] = { rec: recIndex, role: 'task' };
    if (isActivity(rec.kind)) {
      events.push(event(EventType.TaskScheduled, now, { Name: rec.name, Input: activityInputText(rec.input) }, id));
      st.activities.push({ id, name: rec.name, input: rec.input, dispatchedAt: new Date().toISOString() });
      const { instanceId, executionId } = st;
      after.push(() => this.launchActivity(instanceId, executionId, id, rec.name, rec.input));
    } else {
      const childId = rec.instanceId ?? `${st.instanceId}:${id}`;
      const input = jsonTextOrNull(rec.input);
      events.push(
        event(
          EventType.SubOrchestrationInstanceCreated,
          now,
          { Name: rec.name, InstanceId: childId, Input: input },
          id,
        ),
      );
      st.children.push({ id, instanceId: childId });
      st.outbox.push({
        id: randomUUID(),
        kind: 'create',
        instanceId: childId,
        name: rec.name,
        input,
        parent: { instanceId: st.instanceId, executionId: st.executionId, taskId: id, name: st.name },
      });
    }
  }

  private addTimer(st: InstanceState, id: number, fireAt: string, after: After[]): void {
    st.timers.push({ id, fireAt });
    const { instanceId, executionId } = st;
    after.push(() => this.armTimer(instanceId, executionId, id, fireAt));
  }

  private complete(st: InstanceState, output: unknown): void {
    const text = output === undefined ? 'null' : JSON.stringify(output);
    st.history.push(
      event(EventType.ExecutionCompleted, st.virtualNow, { OrchestrationStatus: 'Completed', Result: text }),
    );
    this.finish(st, 'Completed', text);
    this.o.logger.info(CATEGORY, `${st.instanceId}: orchestration '${st.name}' completed`, {
      instanceId: st.instanceId,
    });
    if (st.parent) {
      this.toParent(
        st,
        event(EventType.SubOrchestrationInstanceCompleted, st.virtualNow, {
          TaskScheduledId: st.parent.taskId,
          Result: text,
        }),
      );
    }
  }

  private fail(st: InstanceState, message: string): void {
    const text = `Orchestrator function '${st.name}' failed: ${message}`;
    st.history.push(
      event(EventType.ExecutionCompleted, st.virtualNow, {
        OrchestrationStatus: 'Failed',
        Result: JSON.stringify(text),
      }),
    );
    this.finish(st, 'Failed', JSON.stringify(text));
    this.o.logger.error(CATEGORY, `${st.instanceId}: ${text}`, { instanceId: st.instanceId });
    if (st.parent) {
      this.toParent(
        st,
        event(EventType.SubOrchestrationInstanceFailed, st.virtualNow, {
          TaskScheduledId: st.parent.taskId,
          Reason: text,
          Details: '',
        }),
      );
    }
  }

  private finish(st: InstanceState, status: 'Completed' | 'Failed' | 'Terminated', outputText: string): void {
    st.runtimeStatus = status;
    st.output = outputText;
    st.inbox = [];
    st.activities = [];
    st.timers = [];
    st.children = [];
  }

  private continueAsNew(st: InstanceState, action: Action, now: string): void {
    const input =
      action.input === undefined
        ? null
        : typeof action.input === 'string'
          ? action.input
          : JSON.stringify(action.input);
    st.executionId = randomUUID().replace(/-/g, '');
    st.input = input;
    st.output = null;
    st.history = [];
    st.records = [];
    st.ids = {};
    st.nextId = 0;
    st.activities = [];
    st.timers = [];
    st.children = [];
    // External events that have not been read yet carry over to the new execution.
    const carried = st.inbox.filter((e) => CARRIED_OVER.has(e.EventType));
    st.inbox = [this.executionStarted(st.instanceId, st.executionId, st.name, input, st.parent, now), ...carried];
    st.runtimeStatus = 'Running';
    this.o.logger.info(CATEGORY, `${st.instanceId}: continued as new (execution ${st.executionId})`, {
      instanceId: st.instanceId,
    });
  }

  private toParent(st: InstanceState, ev: HistoryEvent): void {
    const parent = st.parent as ParentLink;
    st.outbox.push({
      id: randomUUID(),
      kind: 'deliver',
      instanceId: parent.instanceId,
      executionId: parent.executionId,
      event: ev,
    });
  }

  // ---------------------------------------------------------------- deliveries

  /** Adds a completion to an instance's inbox if the task it answers is still open there. */
  private async deliver(instanceId: string, executionId: string, ev: HistoryEvent): Promise<void> {
    if (this.stopped) return;
    const accepted = await this.withLock(instanceId, async () => {
      const st = this.cache.get(instanceId);
      if (!st || st.executionId !== executionId || TERMINAL.has(st.runtimeStatus)) return false;
      if (!this.claimOpenTask(st, ev)) return false;
      st.inbox.push(ev);
      await this.save(st);
      return true;
    });
    if (accepted) this.kick(instanceId);
  }

  private claimOpenTask(st: InstanceState, ev: HistoryEvent): boolean {
    const take = <T extends { id: number }>(list: T[], id: unknown): T[] | undefined => {
      const at = list.findIndex((x) => x.id === id);
      if (at < 0) return undefined;
      return [...list.slice(0, at), ...list.slice(at + 1)];
    };
    switch (ev.EventType) {
      case EventType.TaskCompleted:
      case EventType.TaskFailed: {
        const rest = take(st.activities, ev.TaskScheduledId);
        if (!rest) return false;
        st.activities = rest;
        return true;
      }
      case EventType.SubOrchestrationInstanceCompleted:
      case EventType.SubOrchestrationInstanceFailed: {
        const rest = take(st.children, ev.TaskScheduledId);
        if (!rest) return false;
        st.children = rest;
        return true;
      }
      case EventType.TimerFired: {
        const rest = take(st.timers, ev.TimerId);
        if (!rest) return false;
        st.timers = rest;
        return true;
      }
      default:
        return true;
    }
  }

  private armTimer(instanceId: string, executionId: string, id: number, fireAt: string): void {
    if (this.stopped) return;
    const due = Date.parse(fireAt);
    const wait = Math.min(this.o.clock.realDelayUntil(due), MAX_SET_TIMEOUT_MS);
    const handle = setTimeout(() => {
      this.timerHandles.delete(handle);
      if (this.o.clock.now() < due) {
        this.armTimer(instanceId, executionId, id, fireAt);
        return;
      }
      void this.deliver(
        instanceId,
        executionId,
        event(EventType.TimerFired, iso(Math.max(due, this.o.clock.now())), { TimerId: id, FireAt: fireAt }),
      ).catch((e: Error) =>
        this.o.logger.error(CATEGORY, `${instanceId}: could not deliver timer ${id}: ${e.message}`, { instanceId }),
      );
    }, wait);
    handle.unref();
    this.timerHandles.add(handle);
  }

  /**
   * An activity a previous host took and did not finish: its work item becomes visible again, and
   * runs again, once the visibility timeout has passed since it was taken, as on the extension
   * (DurableTask.AzureStorage WorkItemQueue; the default 5 minutes is the extension's).
   */
  private relaunchActivity(
    instanceId: string,
    executionId: string,
    a: { id: number; name: string; input: unknown; dispatchedAt?: string },
  ): void {
    const visibility = this.o.workItemVisibilityMs ?? DEFAULT_WORK_ITEM_VISIBILITY_MS;
    const taken = a.dispatchedAt ? Date.parse(a.dispatchedAt) : Date.now();
    const wait = Math.min(Math.max(0, taken + visibility - Date.now()), MAX_SET_TIMEOUT_MS);
    this.o.logger.info(
      CATEGORY,
      `${instanceId}: activity '${a.name}' (task ${a.id}) was in flight; it runs again when its work item is visible again in ${Math.ceil(wait / 1000)} s`,
      { instanceId },
    );
    const handle = setTimeout(() => {
      this.timerHandles.delete(handle);
      this.launchActivity(instanceId, executionId, a.id, a.name, a.input);
    }, wait);
    handle.unref();
    this.timerHandles.add(handle);
  }

  private launchActivity(instanceId: string, executionId: string, id: number, name: string, input: unknown): void {
    this.activityQueue.push(() => this.runActivity(instanceId, executionId, id, name, input));
    this.pumpActivities();
  }

  private pumpActivities(): void {
    while (!this.stopped && this.activeActivities < this.o.maxConcurrentActivities && this.activityQueue.length > 0) {
      const job = this.activityQueue.shift() as () => Promise<void>;
      this.activeActivities++;
      void job()
        .catch((e: Error) => this.o.logger.error(CATEGORY, `activity bookkeeping failed: ${e.message}`))
        .finally(() => {
          this.activeActivities--;
          this.pumpActivities();
        });
    }
  }

  private async runActivity(
    instanceId: string,
    executionId: string,
    id: number,
    name: string,
    input: unknown,
  ): Promise<void> {
    const fn = this.o.worker.functions.get(name);
    let ev: HistoryEvent;
    const ts = (): string => iso(this.o.clock.now());
    if (!fn || fn.trigger.type !== 'activityTrigger') {
      const message = `The function '${name}' doesn't exist, is disabled, or is not an activity function.`;
      ev = event(EventType.TaskFailed, ts(), {
        TaskScheduledId: id,
        Reason: `Activity function '${name}' failed: ${message}`,
        Details: '',
        FailureDetails: {
          ErrorType: 'FunctionNotFoundException',
          ErrorMessage: message,
          StackTrace: undefined,
          IsNonRetriable: false,
        },
      });
    } else {
      const data =
        input === undefined
          ? undefined
          : typeof input === 'string'
            ? { string: input }
            : { json: JSON.stringify(input) };
      try {
        const response = await this.o.worker.invoke(name, {
          inputData: [{ name: fn.triggerBindingName, data }, ...(this.extraInputsOf?.(fn) ?? [])],
          reason: `TaskScheduled ${id} of instance ${instanceId}`,
        });
        ev = event(EventType.TaskCompleted, ts(), { TaskScheduledId: id, Result: typedResult(response.returnValue) });
      } catch (e) {
        ev = event(EventType.TaskFailed, ts(), { TaskScheduledId: id, ...failureOf(name, e) });
      }
    }
    await this.deliver(instanceId, executionId, ev);
  }

  // ---------------------------------------------------------------- messages between instances

  private async flushOutbox(instanceId: string): Promise<void> {
    const st = this.cache.get(instanceId);
    if (!st || st.outbox.length === 0) return;
    const done: string[] = [];
    for (const msg of [...st.outbox]) {
      try {
        await this.applyOutbox(msg);
        done.push(msg.id);
      } catch (e) {
        this.o.logger.error(
          CATEGORY,
          `${instanceId}: could not reach instance '${msg.instanceId}': ${(e as Error).message}`,
          { instanceId },
        );
      }
    }
    if (done.length === 0) return;
    await this.withLock(instanceId, async () => {
      const cur = this.cache.get(instanceId);
      if (!cur) return;
      cur.outbox = cur.outbox.filter((m) => !done.includes(m.id));
      await this.save(cur);
    });
  }

  private async applyOutbox(msg: OutboxMessage): Promise<void> {
    if (msg.kind === 'deliver') {
      await this.deliver(msg.instanceId, msg.executionId, msg.event);
      return;
    }
    const refusal = await this.withLock(msg.instanceId, async (): Promise<string | undefined> => {
      const existing = this.cache.get(msg.instanceId);
      const p = existing?.parent;
      if (
        p &&
        p.instanceId === msg.parent.instanceId &&
        p.executionId === msg.parent.executionId &&
        p.taskId === msg.parent.taskId
      )
        return undefined;
      if (existing && !TERMINAL.has(existing.runtimeStatus)) {
        return `An orchestration with instance ID '${msg.instanceId}' already exists and is ${existing.runtimeStatus}.`;
      }
      const child = this.newInstance(msg.instanceId, msg.name, msg.input, msg.parent);
      await this.save(child);
      this.o.logger.info(
        CATEGORY,
        `${msg.instanceId}: sub-orchestration '${msg.name}' scheduled by ${msg.parent.instanceId}`,
        { instanceId: msg.instanceId },
      );
      this.kick(msg.instanceId);
      return undefined;
    });
    if (refusal) {
      const reason = `Orchestrator function '${msg.name}' failed: ${refusal}`;
      await this.deliver(
        msg.parent.instanceId,
        msg.parent.executionId,
        event(EventType.SubOrchestrationInstanceFailed, iso(this.o.clock.now()), {
          TaskScheduledId: msg.parent.taskId,
          Reason: reason,
          Details: '',
        }),
      );
    }
  }
}

/** An activity's return value as TaskCompleted.Result: JSON text, never missing. */
function typedResult(
  rv:
    | {
        json?: string | null;
        string?: string | null;
        int?: number | null;
        double?: number | null;
        bytes?: Uint8Array | null;
      }
    | null
    | undefined,
): string {
  if (!rv) return 'null';
  if (typeof rv.json === 'string') return rv.json;
  if (typeof rv.string === 'string') return JSON.stringify(rv.string);
  if (typeof rv.int === 'number') return String(rv.int);
  if (typeof rv.double === 'number') return String(rv.double);
  if (rv.bytes) return JSON.stringify(Buffer.from(rv.bytes).toString('base64'));
  return 'null';
}

/**
 * TaskFailed fields for an activity error. The message stays intact (orchestrators parse it).
 * With an exception-properties provider the library puts a JSON failure payload in the message,
 * which the extension unpacks into FailureDetails; so does this host.
 */
export function failureOf(name: string, e: unknown): Record<string, unknown> {
  const err = e instanceof Error ? e : new Error(String(e));
  let details: Record<string, unknown> = {
    ErrorType: err.name || 'Error',
    ErrorMessage: err.message,
    StackTrace: err.stack,
    IsNonRetriable: false,
  };
  try {
    const payload = JSON.parse(err.message) as Record<string, unknown>;
    if (payload && typeof payload.errorType === 'string' && typeof payload.errorMessage === 'string') {
      details = {
        ErrorType: payload.errorType,
        ErrorMessage: payload.errorMessage,
        StackTrace: payload.stackTrace,
        IsNonRetriable: payload.isNonRetriable === true,
        Properties: payload.properties,
      };
    }
  } catch {
    // a plain message
  }
  return {
    Reason: `Activity function '${name}' failed: ${String(details.ErrorMessage)}`,
    Details: typeof details.StackTrace === 'string' ? details.StackTrace : '',
    FailureDetails: details,
  };
}
