/**
 * Runs a command with CPU-bound processes beside it, to prove that a busy machine does not
 * change a test's verdict (CI shares two cores with other builds):
 *
 *   npm run build && node dist/test/busy.js -- node dist/test/run.js
 *   node dist/test/busy.js --hogs 4 --runs 5 -- node dist/test/run.js --selectProjects e2e
 *   npm run test:busy                        (the whole suite, one hog per core)
 *
 * Each hog is a child process spinning at normal priority until the command ends; with one hog
 * per core the suite gets about half the CPU it would get alone. `--runs N` runs the command N
 * times in a row and stops at the first failure. Exits with the command's code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';

interface Options {
  hogs: number;
  runs: number;
  command: string[];
}

export function parseArgs(argv: string[]): Options {
  const split = argv.indexOf('--');
  const own = split < 0 ? [] : argv.slice(0, split);
  const command = split < 0 ? argv : argv.slice(split + 1);
  const options: Options = { hogs: availableParallelism(), runs: 1, command };
  for (let i = 0; i < own.length; i++) {
    const flag = own[i];
    const value = Number(own[i + 1]);
    if ((flag !== '--hogs' && flag !== '--runs') || !Number.isInteger(value) || value < (flag === '--runs' ? 1 : 0)) {
      throw new Error(`usage: busy [--hogs N] [--runs N] -- command [args...] (at ${flag})`);
    }
    options[flag === '--hogs' ? 'hogs' : 'runs'] = value;
    i++;
  }
  if (options.command.length === 0) throw new Error('usage: busy [--hogs N] [--runs N] -- command [args...]');
  return options;
}

/**
 * One process that keeps a core busy until killed. It also stops by itself when this script is
 * gone (even killed with SIGKILL), so a hog never outlives the run on a shared machine.
 */
const HOG = `
  const parent = ${process.pid};
  for (;;) {
    const until = Date.now() + 200;
    while (Date.now() < until);
    if (process.ppid !== parent) process.exit(0);
  }
`;

function startHog(): ChildProcess {
  return spawn(process.execPath, ['-e', HOG], { stdio: 'ignore' });
}

function runOnce(command: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit' });
    child.on('error', (err) => {
      console.error(`busy: cannot start ${command[0]}: ${err.message}`);
      resolve(127);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(): Promise<number> {
  const { hogs, runs, command } = parseArgs(process.argv.slice(2));
  const running = Array.from({ length: hogs }, startHog);
  const stopHogs = (): void => {
    for (const hog of running) hog.kill('SIGKILL');
  };
  process.once('SIGINT', () => {
    stopHogs();
    process.exit(130);
  });
  process.once('SIGTERM', () => {
    stopHogs();
    process.exit(143);
  });
  try {
    for (let run = 1; run <= runs; run++) {
      const began = new Date();
      console.error(
        `busy: run ${run} of ${runs} with ${hogs} CPU hog(s), started ${began.toISOString()}: ${command.join(' ')}`,
      );
      const code = await runOnce(command);
      const minutes = ((Date.now() - began.getTime()) / 60_000).toFixed(1);
      console.error(`busy: run ${run} of ${runs} exited with ${code} after ${minutes} min`);
      if (code !== 0) return code;
    }
    return 0;
  } finally {
    stopHogs();
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(2);
    },
  );
}
