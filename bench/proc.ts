/**
 * Process figures from /proc (Linux): CPU time of another process (Azurite, the Functions
 * host), and this process's resident memory. Elsewhere they read as undefined and the tables
 * show a dash.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

let ticks: number | undefined;
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** User + system CPU seconds a process has used so far (its finished children included). */
export function cpuSecondsOf(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces; the fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(fields[i]));
    return (utime! + stime! + cutime! + cstime!) / clockTicks();
  } catch {
    return undefined;
  }
}

/** The Azurite process serving `blobPort`, found by its command line; undefined if none is visible. */
export function azuritePid(blobPort: number): number | undefined {
  if (!existsSync('/proc')) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const at = args.indexOf('--blobPort');
      if (at > 0 && args[at + 1] === String(blobPort) && args.some((a) => a.includes('azurite'))) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return undefined;
}

/** VmRSS and VmHWM (peak) of this process in bytes. */
export function memoryOfSelf(): { rss: number; peak: number } {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kib = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: kib('VmRSS') * 1024, peak: kib('VmHWM') * 1024 };
  } catch {
    const usage = process.resourceUsage();
    return { rss: process.memoryUsage().rss, peak: usage.maxRSS * 1024 };
  }
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  date: string;
}

let nprocCache: number | undefined;
function nproc(): number {
  if (nprocCache === undefined) {
    nprocCache = cpus().length;
    try {
      nprocCache = Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || nprocCache;
    } catch {
      // os.cpus() is good enough
    }
  }
  return nprocCache;
}

export function machine(): Machine {
  return {
    cpus: nproc(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
  };
}

export function machineLine(m: Machine = machine()): string {
  return `${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB RAM, Node ${m.node}, ${m.platform}, ${m.date.slice(0, 16).replace('T', ' ')} UTC`;
}

/** Busy and total CPU ticks of the whole machine (all cores), from the first line of /proc/stat. */
function systemTicks(): { busy: number; total: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/**
 * Starts measuring the machine's CPU use; the returned function gives the average number of busy
 * cores since then. Minus what the measured processes used, it shows how much else was running.
 */
export function machineCpuMeter(): () => number | undefined {
  const start = systemTicks();
  const cores = nproc();
  return () => {
    const end = systemTicks();
    if (!start || !end || end.total === start.total) return undefined;
    return ((end.busy - start.busy) / (end.total - start.total)) * cores;
  };
}

/** CPU seconds of this process's children that have ended and been reaped (curl, upload children). */
export function reapedChildrenCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / clockTicks();
  } catch {
    return undefined;
  }
}

/**
 * Waits (up to `maxWaitMs`) until the machine has been quiet for a moment: fewer than
 * `maxBusyCores` busy cores over `sampleMs`. On a shared machine other work skews throughput
 * figures; waiting for a lull is better than reporting the skew. Returns the busy cores seen last.
 */
export async function quietMoment(maxWaitMs: number, maxBusyCores = 0.4, sampleMs = 500): Promise<number | undefined> {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    const meter = machineCpuMeter();
    await new Promise((r) => setTimeout(r, sampleMs));
    const busy = meter();
    if (busy === undefined || busy <= maxBusyCores || Date.now() >= deadline) return busy;
  }
}

/** VmRSS and VmHWM (peak since start) of another process in bytes; undefined when it cannot be read. */
export function memoryOf(pid: number | undefined): { rss: number; peak: number } | undefined {
  if (!pid) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    const m = { rss: kib('VmRSS') * 1024, peak: kib('VmHWM') * 1024 };
    return Number.isFinite(m.rss) && Number.isFinite(m.peak) ? m : undefined;
  } catch {
    return undefined;
  }
}
