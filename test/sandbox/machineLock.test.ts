/**
 * The machine-wide start lock (sandbox/processes.ts machineLock): what keeps two reference hosts
 * from starting together and racing for the Durable extension's RPC port. A second caller waits
 * for the first to let go, in this process and from another one, and a lock whose owner was
 * killed is taken over instead of waited for forever.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { machineLock } from '../../sandbox/processes';

const REPO = resolve(__dirname, '..', '..');
const BUILT = join(REPO, 'dist', 'sandbox', 'processes.js');

/** A promise's state now, without waiting for it. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  // A few turns of the event loop: enough for a lock that is free to be taken, and a lock
  // that is held stays held however long this takes.
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  return done;
}

/** Another process that takes the lock and holds it until its stdin ends or it is killed. */
function holderProcess(name: string) {
  if (!existsSync(BUILT) || statSync(BUILT).mtimeMs < statSync(join(REPO, 'sandbox', 'processes.ts')).mtimeMs)
    throw new Error('dist/sandbox/processes.js is missing or older than its source: run `npm run build` first');
  const child = spawn(
    process.execPath,
    [
      '-e',
      `require(${JSON.stringify(BUILT)}).machineLock(${JSON.stringify(name)}).then((release) => {` +
        `console.log('held'); process.stdin.on('end', () => { release(); console.log('released'); }); process.stdin.resume(); })`,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout });
  const said = (what: string) => new Promise<void>((done) => lines.on('line', (l) => l === what && done()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return { child, held: said('held'), released: said('released'), exited };
}

describe('machineLock', () => {
  const name = `store-submitter-test-lock-${process.pid}`;

  it('makes a second caller in the same process wait until the first lets go', async () => {
    const first = await machineLock(name);
    const second = machineLock(name);
    expect(await settled(second)).toBe(false);
    first();
    const release = await second;
    expect(readFileSync(join(tmpdir(), `${name}.lock`), 'utf8')).toBe(String(process.pid));
    release();
    expect(existsSync(join(tmpdir(), `${name}.lock`))).toBe(false);
  });

  it('waits for another process that holds it, and takes it when that process lets go', async () => {
    const other = holderProcess(name);
    await other.held;
    const mine = machineLock(name);
    expect(await settled(mine)).toBe(false);
    other.child.stdin.end();
    await other.released;
    (await mine)();
    await other.exited;
  });

  it('takes over a lock whose owner was killed while holding it', async () => {
    const other = holderProcess(name);
    await other.held;
    const owner = Number(readFileSync(join(tmpdir(), `${name}.lock`), 'utf8'));
    expect(owner).toBe(other.child.pid);
    other.child.kill('SIGKILL');
    await other.exited;
    const release = await machineLock(name);
    expect(readFileSync(join(tmpdir(), `${name}.lock`), 'utf8')).toBe(String(process.pid));
    release();
  });
});
