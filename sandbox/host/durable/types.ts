/** Durable Task history event types, numbered as durable-functions 3.5.0 reads them. */
export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
  ExecutionSuspended: 19,
  ExecutionResumed: 20,
} as const;

export const EVENT_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(EventType).map(([k, v]) => [v, k]),
);

/** Action types of the out-of-process protocol (durable-functions `ActionType`). */
export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

export const ACTION_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(ActionType).map(([k, v]) => [v, k]),
);

export interface HistoryEvent {
  EventType: number;
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
  [key: string]: unknown;
}

export interface RetryOptions {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

export interface Action {
  actionType: number;
  functionName?: string;
  input?: unknown;
  retryOptions?: RetryOptions;
  instanceId?: string;
  fireAt?: string;
  isCanceled?: boolean;
  externalEventName?: string;
  compoundActions?: Action[];
}

/** What the orchestrator returns (or carries behind `$OutOfProcData$:` when it fails). */
export interface OrchestratorResult {
  isDone: boolean;
  actions: Action[][];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
  schemaVersion?: number;
}

export type RuntimeStatus =
  'Pending' | 'Running' | 'Completed' | 'ContinuedAsNew' | 'Failed' | 'Terminated' | 'Suspended';

export const TERMINAL: ReadonlySet<RuntimeStatus> = new Set<RuntimeStatus>(['Completed', 'Failed', 'Terminated']);

/**
 * One atomic action the orchestrator scheduled in this execution, in the order the library
 * flattens them: what the nondeterminism check compares, and the host-side bookkeeping
 * (retries, long timers) the library expects the Durable host to do.
 */
export interface ScheduledRecord {
  kind: number;
  name: string;
  retry?: RetryOptions;
  /** Attempts started so far (retries). */
  attempt: number;
  firstAttemptAt?: string;
  /** Activity input as the action carried it (JSON text for strings), kept to schedule retries. */
  input?: unknown;
  /** Sub-orchestration instance id the code asked for, if any. */
  instanceId?: string;
  /** A timer's final fire time; timers longer than the short-timer limit are split like the extension does. */
  finalFireAt?: string;
  canceled?: boolean;
}

export type IdRole = 'task' | 'retryTimer' | 'timer';

export interface ParentLink {
  instanceId: string;
  executionId: string;
  taskId: number;
  name: string;
}

export type OutboxMessage =
  | { id: string; kind: 'create'; instanceId: string; name: string; input: string | null; parent: ParentLink }
  | { id: string; kind: 'deliver'; instanceId: string; executionId: string; event: HistoryEvent };

/** Everything the host knows about one instance; persisted as one JSON blob. */
export interface InstanceState {
  schema: 1;
  instanceId: string;
  name: string;
  executionId: string;
  runtimeStatus: RuntimeStatus;
  /** JSON text. */
  input: string | null;
  output: string | null;
  customStatus: string | null;
  createdTime: string;
  lastUpdatedTime: string;
  parent?: ParentLink;
  /** History of the current execution, as delivered to the orchestrator. */
  history: HistoryEvent[];
  /** New events not yet delivered, oldest first; one is delivered per episode. */
  inbox: HistoryEvent[];
  records: ScheduledRecord[];
  /** Task id → which record it belongs to. */
  ids: Record<string, { rec: number; role: IdRole }>;
  /** Mirror of the library's task counter. */
  nextId: number;
  /** Activities in flight; `dispatchedAt` (real time) is when their work item was queued. */
  activities: Array<{ id: number; name: string; input: unknown; dispatchedAt?: string }>;
  timers: Array<{ id: number; fireAt: string }>;
  children: Array<{ id: number; instanceId: string }>;
  outbox: OutboxMessage[];
  /** Latest virtual time this instance has seen; keeps the clock monotonic across restarts. */
  virtualNow: string;
}
