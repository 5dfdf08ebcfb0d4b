/**
 * The sandbox's child processes and the ports they hold: children that end with their parent
 * however it dies, and a port already held by some process (a sandbox left over from a killed
 * run, say) reported as that, with the process id, before anything is started on it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

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
