/**
 * Timer triggers as the Functions host runs them: a six-field NCRONTAB schedule
 * (`{second} {minute} {hour} {day} {month} {day-of-week}`, UTC), `%SETTING%` expressions resolved
 * from the app settings, each occurrence one invocation with a TimerInfo input. The real host's
 * timer extension keeps its schedule status in blobs and takes a lease so one instance runs each
 * occurrence; the sandbox host is one process and keeps neither. The admin API's manual run
 * (`POST /admin/functions/{name}`, http.ts) invokes one at once.
 */
import type { Worker, RegisteredFunction, ParameterBinding } from './core';
import type { Logger } from './log';
import { resolveSettingExpressions } from './storage';
import { text } from './bindings';

const CATEGORY = 'Host.Triggers.Timer';

export interface CronSchedule {
  seconds: number[];
  minutes: number[];
  hours: number[];
  days: number[];
  months: number[];
  /** 0 = Sunday, as NCRONTAB counts (7 is Sunday too). */
  daysOfWeek: number[];
}

const FIELDS: Array<{ name: keyof CronSchedule; min: number; max: number }> = [
  { name: 'seconds', min: 0, max: 59 },
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'days', min: 1, max: 31 },
  { name: 'months', min: 1, max: 12 },
  { name: 'daysOfWeek', min: 0, max: 7 },
];

/**
 * A six-field NCRONTAB expression, the form the timer trigger takes
 * (learn.microsoft.com/azure/azure-functions/functions-bindings-timer, "NCRONTAB expressions"):
 * `*`, numbers, ranges `a-b`, lists `a,b` and steps `*\/n`, `a-b/n`. Month and day names are not
 * taken here; a TimeSpan schedule (`hh:mm:ss`, App Service plans only) neither.
 */
export function parseNcrontab(expression: string): CronSchedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 6)
    throw new Error(
      `'${expression}' is not a six-field NCRONTAB expression ({second} {minute} {hour} {day} {month} {day-of-week})`,
    );
  const out = {} as CronSchedule;
  parts.forEach((part, i) => {
    const { name, min, max } = FIELDS[i]!;
    const values = new Set<number>();
    for (const item of part.split(',')) {
      const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
      if (!m) throw new Error(`'${expression}': '${item}' in the ${name} field is not taken by the sandbox host`);
      const from = m[1] === '*' ? min : Number(m[2]);
      const to = m[1] === '*' ? max : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? max : from;
      const step = m[4] !== undefined ? Number(m[4]) : 1;
      if (from < min || to > max || from > to || step < 1)
        throw new Error(`'${expression}': '${item}' is out of range for the ${name} field (${min}-${max})`);
      for (let v = from; v <= to; v += step) values.add(name === 'daysOfWeek' && v === 7 ? 0 : v);
    }
    out[name] = [...values].sort((a, b) => a - b);
  });
  return out;
}

/** The first occurrence strictly after `after` (UTC), within the next eight years, else undefined. */
export function nextOccurrence(s: CronSchedule, after: Date): Date | undefined {
  const start = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
  const day = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()));
  for (let d = 0; d < 366 * 8; d++, day.setUTCDate(day.getUTCDate() + 1)) {
    // NCrontab needs both the day of month and the day of week to match.
    if (!s.months.includes(day.getUTCMonth() + 1) || !s.days.includes(day.getUTCDate())) continue;
    if (!s.daysOfWeek.includes(day.getUTCDay())) continue;
    for (const h of s.hours)
      for (const m of s.minutes)
        for (const sec of s.seconds) {
          const at = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), h, m, sec);
          if (at >= start.getTime()) return new Date(at);
        }
  }
  return undefined;
}

interface TimerFunction {
  fn: RegisteredFunction;
  schedule: CronSchedule;
  expression: string;
  timer?: NodeJS.Timeout;
}

export interface TimerOptions {
  worker: Worker;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  extraInputs: (fn: RegisteredFunction) => ParameterBinding[];
}

export class TimerTriggerListener {
  private readonly timers = new Map<string, TimerFunction>();
  private stopped = false;

  constructor(private readonly o: TimerOptions) {
    for (const fn of o.worker.functions.values()) {
      if ((fn.trigger.type ?? '').toLowerCase() !== 'timertrigger') continue;
      const what = `function '${fn.name}' timer schedule`;
      const expression = resolveSettingExpressions(text(fn.trigger.schedule), o.env, what);
      let schedule: CronSchedule;
      try {
        schedule = parseNcrontab(expression);
      } catch (e) {
        throw new Error(`${what}: ${(e as Error).message}`);
      }
      this.timers.set(fn.name.toLowerCase(), { fn, schedule, expression });
    }
  }

  /** Whether `name` is a timer function (names are case-insensitive, as in the host). */
  has(name: string): boolean {
    return this.timers.has(name.toLowerCase());
  }

  start(): void {
    for (const t of this.timers.values()) {
      this.schedule(t);
      const next = nextOccurrence(t.schedule, new Date());
      this.o.logger.info(
        CATEGORY,
        `'${t.fn.name}' scheduled '${t.expression}' (UTC); next occurrence ${next?.toISOString() ?? 'never'}`,
      );
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
  }

  private schedule(t: TimerFunction): void {
    if (this.stopped) return;
    const next = nextOccurrence(t.schedule, new Date());
    if (!next) return;
    // setTimeout takes at most 2^31-1 ms: a far occurrence is waited for in legs.
    const delay = Math.min(next.getTime() - Date.now(), 2 ** 31 - 1);
    t.timer = setTimeout(
      () => {
        if (Date.now() + 1000 < next.getTime()) return this.schedule(t);
        void this.fire(t.fn, `Timer fired at ${new Date().toISOString()}`, false).finally(() => this.schedule(t));
      },
      Math.max(0, delay),
    );
    t.timer.unref();
  }

  /** A manual run (the admin API): invoked at once, answered before it ends. */
  invokeNow(name: string): boolean {
    const t = this.timers.get(name.toLowerCase());
    if (!t) return false;
    void this.fire(t.fn, 'This function was programmatically called via the host APIs.', false);
    return true;
  }

  private async fire(fn: RegisteredFunction, reason: string, isPastDue: boolean): Promise<void> {
    // TimerInfo as the host serializes it; the library camel-cases it into a Timer.
    const timerInfo = { Schedule: { AdjustForDST: true }, ScheduleStatus: null, IsPastDue: isPastDue };
    try {
      await this.o.worker.invoke(fn.name, {
        inputData: [
          { name: fn.triggerBindingName, data: { json: JSON.stringify(timerInfo) } },
          ...this.o.extraInputs(fn),
        ],
        reason,
      });
    } catch (e) {
      this.o.logger.error(CATEGORY, `'${fn.name}' failed: ${(e as Error).message}`);
    }
  }
}
