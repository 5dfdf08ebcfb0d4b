/**
 * The sandbox's child processes and the ports they hold: children that end with their parent
 * however it dies, and a port already held by some process (a sandbox left over from a killed
 * run, say) reported as that, with the process id, before anything is started on it.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  linkSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The preload that makes a child end with its parent (see parentWatch.cjs), from sources or dist/. */
export function parentWatchPreload(): string {
  for (const candidate of [
    join(__dirname, 'parentWatch.cjs'),
    join(__dirname, '..', '..', 'sandbox', 'parentWatch.cjs'),
  ])
    if (existsSync(candidate)) return candidate;
  throw new Error(`sandbox/parentWatch.cjs not found beside ${__dirname}`);
}

/**
 * Node arguments and environment for a child that must end with its parent. Spawn it with
 * stdin as a pipe: the pipe's end-of-file is how it learns of its parent's death.
 */
export function parentWatch(): { execArgv: string[]; env: Record<string, string> } {
  return { execArgv: ['--require', parentWatchPreload()], env: { SANDBOX_WATCH_PARENT: '1' } };
}

export interface PortClaim {
  port: number;
  /** What the sandbox wanted it for: "Azurite blob service". */
  what: string;
  /** The option that picks another port: "--blob-port". */
  flag?: string;
}

export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(
    message: string,
    readonly port: number,
    readonly pid?: number,
  ) {
    super(message);
  }
}

/** Refuses, naming the process that holds it, a port some other process already listens on. */
export async function assertPortsFree(claims: PortClaim[]): Promise<void> {
  for (const claim of claims) {
    if (await canListen(claim.port)) continue;
    const owner = portOwner(claim.port);
    const who = owner
      ? `process ${owner.pid}${owner.command ? ` (${owner.command})` : ''}`
      : 'another process (its id could not be read)';
    const stop = owner ? `stop it (kill ${owner.pid})` : 'stop it';
    throw new PortInUseError(
      `Port ${claim.port}, wanted for the ${claim.what}, is already in use by ${who}. ` +
        `A sandbox left running or killed earlier? ${stop[0]!.toUpperCase()}${stop.slice(1)}` +
        `${claim.flag ? `, or choose another port with ${claim.flag}` : ''}.`,
      claim.port,
      owner?.pid,
    );
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The process listening on 127.0.0.1:`port` (or any address), from /proc on Linux, else from lsof. */
export function portOwner(port: number): { pid: number; command?: string } | undefined {
  if (process.platform === 'linux') {
    const inodes = listeningInodes(port);
    if (inodes.size === 0) return undefined;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let fds: string[];
      try {
        fds = readdirSync(`/proc/${entry}/fd`);
      } catch {
        continue; // gone, or not ours to read
      }
      for (const fd of fds) {
        let target: string;
        try {
          target = readlinkSync(`/proc/${entry}/fd/${fd}`);
        } catch {
          continue;
        }
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode && inodes.has(inode)) return { pid: Number(entry), command: commandLine(Number(entry)) };
      }
    }
    return undefined;
  }
  try {
    const out = execFileSync('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-t'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const pid = Number(out.split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? { pid } : undefined;
  } catch {
    return undefined; // no lsof (Windows), or nothing found
  }
}

function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT; state 0A is LISTEN; the inode is the tenth column.
      if (cols.length > 9 && cols[1]!.endsWith(`:${hexPort}`) && cols[3] === '0A') inodes.add(cols[9]!);
    }
  }
  return inodes;
}

function commandLine(pid: number): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    return text.length > 160 ? `${text.slice(0, 157)}...` : text || undefined;
  } catch {
    return undefined;
  }
}

/** Pids of the processes whose parent is `pid` (Linux; empty elsewhere). */
export function childPids(pid: number): number[] {
  if (process.platform !== 'linux') return [];
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name (field 2) is in parentheses and may hold spaces; the parent pid follows it.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

let lockCalls = 0;

/**
 * Holds a lock shared by every process of this user on the machine until `release` is called: the
 * file `name.lock` in the temporary directory, holding its owner's process id. The file appears whole
 * or not at all (written aside, then hard-linked into place, which fails if it exists), so a reader
 * never sees an owner without an id. A lock whose owner has died (killed mid-start, say) is taken
 * over, so it never needs clearing by hand. Waiting is by polling: it orders starts, it does not time them.
 */
export async function machineLock(name: string): Promise<() => void> {
  const file = join(tmpdir(), `${name}.lock`);
  const mine = `${file}.${process.pid}.${++lockCalls}`;
  writeFileSync(mine, String(process.pid));
  try {
    for (;;) {
      try {
        linkSync(mine, file);
        return () => rmSync(file, { force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let owner: number;
      try {
        owner = Number(readFileSync(file, 'utf8'));
      } catch {
        continue; // released between the two calls
      }
      if (!isAlive(owner)) {
        // Take it over by moving it aside: of two waiters that saw the same dead owner, only one
        // moves its file; one that moved a live owner's file instead (taken meanwhile) puts it back.
        const moved = `${mine}.stale`;
        try {
          renameSync(file, moved);
          if (Number(readFileSync(moved, 'utf8')) !== owner) linkSync(moved, file);
        } catch {
          // moved or put back by someone else first: look again
        }
        rmSync(moved, { force: true });
        continue;
      }
      await sleep(100);
    }
  } finally {
    rmSync(mine, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
