/**
 * Client-side pacing of Store API calls, so that the runs of one process together stay under
 * the tenant's rate limit (20 calls per minute) instead of learning it from 429s: a burst of
 * runs otherwise spends about half of its calls on refusals, and at the Store's real scale
 * every 429 whose Retry-After exceeds the client's own wait costs the run a durable retry.
 *
 * This pacer is per process: in memory, shared by every client of the process (activities make
 * a client per invocation). When the Function App scales out, each instance would pace itself to
 * the same limit, so N instances could together send N times the budget: with
 * STORE_BUDGET_CONTAINER set, the clients take their slots from a budget in storage that every
 * instance shares (lib/store/budget.ts), and this pacer is only the fallback when that storage
 * fails. Either way the retries on 429 with Retry-After stay the backstop, for other tools
 * calling the Store with the same tenant.
 */
import type { PipelinePolicy, PipelineRequest } from '@azure/core-rest-pipeline';

/** Something that holds a call until the budget has room: this file's CallPacer, or the shared budget. */
export interface Pacer {
  /** Resolves when the call may go; call the returned function once its answer (or failure) is in. */
  acquire(request?: PipelineRequest): Promise<() => void>;
}

export class CallPacer implements Pacer {
  /** When recent calls got their answer (ms), oldest first. */
  private readonly answered: number[] = [];
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(limit >= 1) || !(windowMs > 0)) throw new RangeError('a pacer needs limit >= 1 and windowMs > 0');
  }

  /**
   * Waits for a slot, first come first served; call the returned function once the answer (or
   * the failure) is in. A call counts against the window from its answer, not from its start:
   * the Store counts a call when it arrives, which is somewhere in between, so counting from the
   * answer can never put more than `limit` calls into any window the Store sees.
   */
  async acquire(): Promise<() => void> {
    if (this.waiting.length > 0 || !this.hasRoom()) {
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        this.pump();
      });
    } else {
      this.inFlight++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      this.answered.push(this.now());
      this.pump();
    };
  }

  /** Calls waiting for a slot (for tests and logs). */
  get queued(): number {
    return this.waiting.length;
  }

  private hasRoom(): boolean {
    const since = this.now() - this.windowMs;
    while (this.answered.length > 0 && (this.answered[0] as number) <= since) this.answered.shift();
    return this.inFlight + this.answered.length < this.limit;
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.hasRoom()) {
      this.inFlight++;
      (this.waiting.shift() as () => void)();
    }
    if (this.waiting.length === 0 || this.timer) return;
    // Full because of answered calls: wake when the oldest leaves the window. Full because of
    // calls in flight: their release pumps.
    const oldest = this.answered[0];
    if (oldest === undefined) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.pump();
      },
      Math.max(1, oldest + this.windowMs - this.now() + 1),
    );
    this.timer.unref?.();
  }
}

const pacers = new Map<string, CallPacer>();

/** The process's pacer for one tenant on one API (and one limit), made on first use. */
export function sharedPacer(key: string, limit: number, windowMs: number): CallPacer {
  const full = `${key}|${limit}|${windowMs}`;
  let pacer = pacers.get(full);
  if (!pacer) pacers.set(full, (pacer = new CallPacer(limit, windowMs)));
  return pacer;
}

/**
 * Holds each attempt (retries and the resend after a token refresh included) until the pacer
 * has room. It sits outside the per-attempt timeout, so waiting for a slot never times a call out.
 */
export function pacingPolicy(
  pacer: Pacer,
  applies: (request: PipelineRequest) => boolean = () => true,
  name = 'storePacingPolicy',
): PipelinePolicy {
  return {
    name,
    async sendRequest(request, next) {
      if (!applies(request)) return next(request);
      const release = await pacer.acquire(request);
      try {
        return await next(request);
      } finally {
        release();
      }
    },
  };
}

/** A commit call (`POST …/submissions/{id}/commit`), which the Store limits beyond the call limit. */
export function isCommitCall(request: PipelineRequest): boolean {
  return request.method === 'POST' && /\/submissions\/[^/]+\/commit$/i.test(new URL(request.url).pathname);
}
