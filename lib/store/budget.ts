/**
 * The Store's rate limit as one budget for every instance of the app: 20 calls a minute per
 * tenant (and a lower limit for commits) hold for the tenant, not per process, so when the
 * Function App scales out the instances must share them. lib/store/pacing.ts paces one
 * process; this module paces all of them through a small document in storage.
 *
 * The choice: a sliding window of granted send times ("slots"), one blob per tenant and API
 * (lib/store/budgetBlob.ts), updated by read, decide, write-if-the-ETag-is-unchanged (a lost race
 * on 412 reads again). Not a lease: a lease makes every call of every instance wait for one
 * holder, and a holder that dies blocks everyone until the lease expires (15-60 s, a whole
 * window); a conditional write has no holder, so a dead instance blocks nobody. Not a bound on
 * how many instances call the Store either: the scale controller decides the instance count,
 * and a bound would need its own shared state anyway.
 *
 * The rule (`grantSlots`, pure, tested on its own): slots are granted in order, and a new slot is
 * at least `windowMs + guardMs` after the slot `limit` places before it, so no `windowMs` of send
 * times holds more than `limit` slots, whichever instance holds them. A caller sends at its slot;
 * every attempt (retries and the resend after a token refresh included) takes its own slot.
 *
 * Failure modes, and what bounds each:
 * - An instance dies holding slots: they are spent, as calls the Store never saw; nobody waits on
 *   them. Grants lie at most one window ahead (`horizonMs`), so a dead instance wastes at most the
 *   slots it took for its waiting callers in that window, and after `windowMs + guardMs` nothing
 *   of it counts. Callers that would get a later slot wait without one and ask again.
 * - Clock skew: slots are times on the clock of the instance that took them. Skew between two
 *   instances shortens the true distance between their slots by the skew; the guard absorbs it,
 *   with the other causes below (Azure's instances keep NTP time, within milliseconds).
 * - Latency: the Store counts a call when it arrives; two calls a window apart arrive less than a
 *   window apart when the first is slower on the way. The guard covers that too. A caller that
 *   reaches its slot late (a busy event loop) by more than half the guard gives it back and takes
 *   a new one instead of sending late (`LATE_RETRIES` times; then it sends); slots are granted
 *   ahead of now by the longest recent storage write, so a slow write does not make it late.
 * - Storage latency and contention: one read and one conditional write per grant; the callers of
 *   one process waiting together take their slots in one write, so the rate of writes is bounded
 *   by the Store's own limit, not by the number of callers. Slow storage delays grants, never
 *   breaks the rule (a slot is never before the read it was decided on).
 * - Storage failing: the process falls back to its own pacer (pacing.ts) for the calls waiting
 *   then, and logs it once; those calls are unknown to the other instances, so the retries on 429
 *   with Retry-After stay the backstop, as they are for other tools calling with the same tenant.
 */
import type { PipelineRequest } from '@azure/core-rest-pipeline';
import { isCommitCall, type Pacer } from './pacing';

/** The shared document: granted send times (ms since the epoch) of every call, and of the commits among them. */
export interface BudgetWindow {
  slots: number[];
  commits: number[];
}

export interface BudgetRule {
  /** Calls allowed per window. */
  limit: number;
  windowMs: number;
  /** Added to the window between a slot and the one `limit` places later: skew, latency, lateness. */
  guardMs: number;
}

export interface BudgetRules {
  calls: BudgetRule;
  /** Commits, which take a call slot too; none: commits are limited as calls only. */
  commits?: BudgetRule;
  /** How far ahead a slot may be granted; default the calls' window. */
  horizonMs?: number;
}

export type CallKind = 'call' | 'commit';

/**
 * The guard for a window: a tenth of it, at least 100 ms, at most 1 s (1.7 % of the Store's
 * minute). On the Store's minute it covers a second of skew, latency and lateness together; the
 * short windows of the tests pay a larger share for the stalls of a busy machine.
 */
export function guardFor(windowMs: number): number {
  return Math.min(1000, Math.max(100, Math.round(windowMs / 10)));
}

export function budgetRule(limit: number, windowMs: number): BudgetRule {
  if (!(limit >= 1) || !(windowMs > 0)) throw new RangeError('a budget needs limit >= 1 and windowMs > 0');
  return { limit: Math.floor(limit), windowMs, guardMs: guardFor(windowMs) };
}

export interface Grants {
  /** A send time for each caller asking, in their order; undefined for one left waiting. */
  slots: Array<number | undefined>;
  /** The document to write back. */
  window: BudgetWindow;
  /** Whether the document changed (slots granted or given back): only then is it written. */
  changed: boolean;
  /** When callers are left waiting: the earliest time one of their slots falls within the horizon. */
  retryAt?: number;
}

/** A slot a caller took and did not use (it came too late for it): given back before the grant. */
export interface Returned {
  at: number;
  kind: CallKind;
}

/**
 * Which slots callers asking at `now` get, given the window as read: for each, in order, the
 * earliest time at or after `now` that keeps every stretch of `windowMs + guardMs` at `limit`
 * slots or fewer (in the calls' list and, for a commit, in the commits' list too), if that time
 * is within the horizon. A slot may fall between slots granted earlier: a commit held back by
 * the commit limit does not hold back the calls behind it. Slots in `returned` leave the lists
 * first (removing a slot never breaks the rule). Slots a window and a guard old no longer
 * constrain anything and are dropped.
 */
export function grantSlots(
  window: BudgetWindow,
  kinds: CallKind[],
  now: number,
  rules: BudgetRules,
  returned: Returned[] = [],
): Grants {
  const horizon = rules.horizonMs ?? rules.calls.windowMs;
  const calls = recent(window.slots, now, rules.calls);
  const commits = rules.commits ? recent(window.commits, now, rules.commits) : [];
  let changed = false;
  for (const r of returned) {
    changed = removeOne(calls, r.at) || changed;
    if (r.kind === 'commit') changed = removeOne(commits, r.at) || changed;
  }
  const slots: Array<number | undefined> = [];
  let retryAt: number | undefined;
  for (const kind of kinds) {
    const lists: Array<[number[], BudgetRule]> = [[calls, rules.calls]];
    if (kind === 'commit' && rules.commits) lists.push([commits, rules.commits]);
    const at = earliest(lists, now);
    if (at > now + horizon) {
      slots.push(undefined);
      retryAt = Math.min(retryAt ?? Infinity, at - horizon);
      continue;
    }
    for (const [list] of lists) insertSorted(list, at);
    slots.push(at);
    changed = true;
  }
  return { slots, window: { slots: calls, commits }, changed, retryAt };
}

function removeOne(list: number[], value: number): boolean {
  const i = list.indexOf(value);
  if (i < 0) return false;
  list.splice(i, 1);
  return true;
}

/** True when a caller at `now` is too late for its `slot` and should take a new one. */
export function isLate(slot: number, now: number, rule: BudgetRule): boolean {
  return now - slot > rule.guardMs / 2;
}

/** The earliest time at or after `now` that fits every list: `now` or the moment an old slot stops counting. */
function earliest(lists: Array<[number[], BudgetRule]>, now: number): number {
  const candidates = [now];
  for (const [list, rule] of lists) for (const s of list) candidates.push(s + span(rule));
  const ordered = candidates.filter((c) => c >= now).sort((a, b) => a - b);
  for (const c of ordered) if (lists.every(([list, rule]) => fits(list, c, rule))) return c;
  // Unreachable: the last slot plus a span always fits.
  return ordered[ordered.length - 1] as number;
}

/** Whether `at` can join `sorted` with every `limit + 1` consecutive slots at least a span apart. */
function fits(sorted: number[], at: number, rule: BudgetRule): boolean {
  const next = [...sorted];
  const i = insertSorted(next, at);
  const gap = span(rule);
  for (let j = Math.max(0, i - rule.limit); j <= i && j + rule.limit < next.length; j++) {
    if ((next[j + rule.limit] as number) - (next[j] as number) < gap) return false;
  }
  return true;
}

function span(rule: BudgetRule): number {
  return rule.windowMs + rule.guardMs;
}

function insertSorted(list: number[], value: number): number {
  let i = list.length;
  while (i > 0 && (list[i - 1] as number) > value) i--;
  list.splice(i, 0, value);
  return i;
}

/** Numbers only, ascending, and only those that still count: a document another version (or a person) wrote may be odd. */
function recent(slots: unknown, now: number, rule: BudgetRule): number[] {
  if (!Array.isArray(slots)) return [];
  return slots
    .filter((s): s is number => typeof s === 'number' && Number.isFinite(s) && s > now - span(rule))
    .sort((a, b) => a - b);
}

/** Where the window lives: a read with its version, and a write that loses when the version moved. */
export interface BudgetStore {
  read(): Promise<{ window: BudgetWindow; etag?: string }>;
  /** False when someone wrote since the read (412, or 409 for a first write). */
  write(window: BudgetWindow, etag: string | undefined): Promise<boolean>;
}

export interface SharedBudgetOptions {
  now?: () => number;
  /** Waits `ms` (tests inject their own; the default is a timer that does not hold the process open). */
  sleep?: (ms: number) => Promise<void>;
  /** One line when storage fails and the process falls back to its own pacer. */
  warn?: (message: string) => void;
}

/** Lost races in a row before the callers waiting go to the fallback pacer (contention that high means storage trouble). */
const MAX_CONFLICTS = 50;
/** Times a caller late for its slot takes a new one before it sends anyway. */
export const LATE_RETRIES = 3;
/** How many recent writes the lead is taken from. */
const LEAD_SAMPLES = 8;

interface Waiter {
  kind: CallKind;
  request?: PipelineRequest;
  late: number;
  /** The slot it holds and gives back with its next grant (it came too late for it). */
  holds?: number;
  resolve: (release: () => void) => void;
}

const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, ms));
    timer.unref?.();
  });

/**
 * A pacer (the interface of pacing.ts) that takes its slots from a shared window, for calls and,
 * for a commit call, from the commits' window at the same time. One per process and document
 * (`sharedBudget` in budgetBlob.ts): the callers of the process queue here, first come first
 * served, and one grant at a time goes to storage for all of them.
 *
 * Slots are granted from `now + lead`, the lead being the longest of the last few writes: the
 * caller learns its slot only when the write is done, and a slot already past by then would
 * make it late. A caller late all the same (a busy event loop) gives its slot back with its
 * next grant, so coming late costs that caller time, not the tenant a call.
 */
export class SharedBudget implements Pacer {
  private readonly waiting: Waiter[] = [];
  private running = false;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private warned = false;
  private readonly writeMs: number[] = [];
  /** Ends the pump's wait for a slot to come within the horizon: a new caller may fit sooner. */
  private wake: (() => void) | undefined;

  constructor(
    private readonly store: BudgetStore,
    readonly rules: BudgetRules,
    /** The process's own pacing (calls and commits), for when storage fails. */
    private readonly fallback: Pacer,
    private readonly options: SharedBudgetOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
  }

  acquire(request?: PipelineRequest): Promise<() => void> {
    const kind: CallKind = request && isCommitCall(request) ? 'commit' : 'call';
    return new Promise((resolve) => {
      this.waiting.push({ kind, request, late: 0, resolve });
      this.wake?.();
      void this.pump();
    });
  }

  /** Callers waiting for a grant (for tests and logs). */
  get queued(): number {
    return this.waiting.length;
  }

  /** How far ahead of now slots are granted: the longest recent write, at most a quarter of the horizon. */
  get leadMs(): number {
    const horizon = this.rules.horizonMs ?? this.rules.calls.windowMs;
    return Math.min(Math.max(0, ...this.writeMs), horizon / 4);
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.waiting.length > 0) {
        const asking = this.waiting.slice(0, this.rules.calls.limit);
        let grants: Grants;
        try {
          grants = await this.reserve(asking);
        } catch (e) {
          this.warnOnce(`the shared Store budget is unavailable (${(e as Error).message}); pacing per process`);
          for (const w of this.waiting.splice(0)) void this.fallback.acquire(w.request).then(w.resolve);
          break;
        }
        asking.forEach((w, i) => {
          const slot = grants.slots[i];
          if (slot === undefined) return;
          this.waiting.splice(this.waiting.indexOf(w), 1);
          void this.sendAt(w, slot);
        });
        if (grants.retryAt !== undefined && grants.slots.every((s) => s === undefined)) {
          const retryAt = grants.retryAt;
          await new Promise<void>((resolve) => {
            this.wake = resolve;
            void this.sleep(retryAt - this.leadMs - this.now()).then(resolve);
          });
          this.wake = undefined;
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** One grant: read, decide, conditional write; a lost race reads again. */
  private async reserve(asking: Waiter[]): Promise<Grants> {
    const kinds = asking.map((w) => w.kind);
    const returned = asking.flatMap((w) => (w.holds === undefined ? [] : [{ at: w.holds, kind: w.kind }]));
    for (let conflicts = 0; conflicts < MAX_CONFLICTS; conflicts++) {
      const { window, etag } = await this.store.read();
      const from = this.now();
      const grants = grantSlots(window, kinds, from + this.leadMs, this.rules, returned);
      if (!grants.changed) return grants;
      const ok = await this.store.write(grants.window, etag);
      this.writeMs.push(this.now() - from);
      if (this.writeMs.length > LEAD_SAMPLES) this.writeMs.shift();
      if (ok) {
        for (const w of asking) w.holds = undefined;
        return grants;
      }
    }
    throw new Error(`${MAX_CONFLICTS} conflicting writes in a row`);
  }

  private async sendAt(w: Waiter, slot: number): Promise<void> {
    const wait = slot - this.now();
    if (wait > 0) await this.sleep(wait);
    if (isLate(slot, this.now(), this.rules.calls) && w.late < LATE_RETRIES) {
      w.late++;
      w.holds = slot;
      this.waiting.unshift(w);
      this.wake?.();
      void this.pump();
      return;
    }
    // A slot counts from its send time: there is nothing to give back once the answer is in.
    w.resolve(() => undefined);
  }

  private warnOnce(message: string): void {
    if (this.warned) return;
    this.warned = true;
    this.options.warn?.(message);
  }
}
