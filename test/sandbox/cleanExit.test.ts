/**
 * The sandbox dies cleanly: killed by any signal, SIGKILL included, it leaves no process behind
 * (Azurite and the host watch their parent), a host whose output pipe breaks stops instead of
 * looping on EPIPE, and a port still held by some process is named with that process's id.
 * Linux only: the processes are found through /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../sandbox/azurite';
import { assertPortsFree, childPids } from '../../sandbox/processes';
import { ensureBuilt, fixture, uniqueHub, waitFor } from './host/hostHelpers';

const REPO = resolve(__dirname, '..', '..');
const linux = process.platform === 'linux' ? describe : describe.skip;

const alive = (pid: number): boolean => existsSync(`/proc/${pid}`) && !/\) Z /.test(statOf(pid));
const statOf = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return '';
  }
};
const commandOf = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
};

interface Launched {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function launchSandbox(args: string[]): Launched {
  const child = spawn(process.execPath, [join(REPO, 'dist', 'sandbox', 'main.js'), ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, output: () => output, exited };
}

/** Until the banner shows; a sandbox that exits first fails at once, with what it printed. */
async function untilBanner(run: Launched, what: string): Promise<void> {
  const exited = run.exited.then((code) => {
    throw new Error(`the sandbox exited (${code}) before its banner: ${run.output()}`);
  });
  await Promise.race([waitFor(what, () => (run.output().includes('Sandbox running') ? true : undefined)), exited]);
  exited.catch(() => undefined);
}

async function sandboxPorts(): Promise<{ args: string[]; ports: number[] }> {
  const ports: number[] = [];
  for (let i = 0; i < 7; i++) ports.push(await freePort());
  const flags = [
    '--blob-port',
    '--queue-port',
    '--table-port',
    '--emulator-port',
    '--emulator-tls-port',
    '--host-port',
    '--notify-port',
  ];
  return { args: flags.flatMap((f, i) => [f, String(ports[i])]), ports };
}

linux('the sandbox dies cleanly', () => {
  const started: ChildProcess[] = [];
  beforeAll(() => ensureBuilt());
  afterAll(() => {
    for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  it('kill -9 during a run leaves no process and no held port; the next sandbox starts on the same ports', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-kill-'));
    const logFile = join(dir, 'host.log');
    const { args, ports } = await sandboxPorts();
    const first = launchSandbox([...args, '--log-file', logFile]);
    started.push(first.child);
    await untilBanner(first, 'the sandbox banner');
    const pid = first.child.pid!;
    const children = childPids(pid);
    const azurite = children.find((c) => commandOf(c).includes('azurite.js'));
    const host = children.find((c) => commandOf(c).includes(join('sandbox', 'host', 'main.js')));
    expect({ azurite, host }).toEqual({ azurite: expect.any(Number), host: expect.any(Number) });

    // The host is busy answering (and logging) when its parent dies.
    await fetch(`http://127.0.0.1:${ports[5]}/api/submissions?status=Running`).catch(() => undefined);

    first.child.kill('SIGKILL');
    await first.exited;
    await waitFor('the sandbox children to end', () => (children.every((c) => !alive(c)) ? true : undefined));
    await expect(assertPortsFree(ports.map((port) => ({ port, what: `port ${port}` })))).resolves.toBeUndefined();

    // The host saw its parent go and stopped; it never looped on a broken pipe.
    const log = readFileSync(logFile, 'utf8');
    expect(log).toMatch(/Parent process gone|Host output stream closed/);
    expect(log).not.toMatch(/EPIPE/);
    const size = statSync(logFile).size;
    expect(size).toBeLessThan(1 << 20);

    const second = launchSandbox([...args, '--log-file', logFile]);
    started.push(second.child);
    await untilBanner(second, 'the second sandbox banner');
    const secondChildren = childPids(second.child.pid!);
    const answer = await fetch(`http://127.0.0.1:${ports[3]}/_emulator/state`);
    expect(answer.status).toBe(200);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    await waitFor('the second sandbox children to end', () =>
      secondChildren.every((c) => !alive(c)) ? true : undefined,
    );
  });

  it('names the process that holds a port, with its id, instead of failing on authentication', async () => {
    const holder: Server = createServer();
    const port = await freePort();
    await new Promise<void>((done) => holder.listen(port, '127.0.0.1', () => done()));
    try {
      const { args } = await sandboxPorts();
      const at = args.indexOf('--blob-port');
      args[at + 1] = String(port);
      const run = launchSandbox(args);
      started.push(run.child);
      expect(await run.exited).toBe(1);
      expect(run.output()).toContain(
        `Port ${port}, wanted for the Azurite blob service, is already in use by process ${process.pid} (`,
      );
      expect(run.output()).toMatch(/kill \d+\), or choose another port with --blob-port/);
      expect(run.output()).not.toMatch(/authenticate/);
    } finally {
      await new Promise((done) => holder.close(done));
    }
  });

  it('a host whose output pipe breaks stops writing and exits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'host-epipe-'));
    const logFile = join(dir, 'host.log');
    const port = await freePort();
    // Without --exit-with-parent: only the broken pipe can tell this host to stop.
    const host = spawn(
      process.execPath,
      [
        join(REPO, 'dist', 'sandbox', 'host', 'main.js'),
        '--app',
        fixture('http-app'),
        '--port',
        String(port),
        '--task-hub',
        uniqueHub(),
        '--log-file',
        logFile,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', FUNCTIONS_WORKER_RUNTIME: 'node' } },
    );
    started.push(host);
    const exited = new Promise<void>((done) => host.once('exit', () => done()));
    let out = '';
    host.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await waitFor('the host to be ready', () => (out.includes('"event":"ready"') ? true : undefined));
    host.stdout.destroy();
    host.stderr.destroy();
    // Each request is a log line: the first write after the pipe closed meets EPIPE.
    for (let i = 0; i < 5 && host.exitCode === null; i++)
      await fetch(`http://127.0.0.1:${port}/api/items/abc/1`).catch(() => undefined);
    await exited;
    const log = readFileSync(logFile, 'utf8');
    expect(log).toContain('Host output stream closed');
    expect(log.split('\n').filter((l) => /EPIPE/.test(l))).toHaveLength(0);
    expect(statSync(logFile).size).toBeLessThan(1 << 20);
  });
});
