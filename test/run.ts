/**
 * `npm test` runs jest through this launcher: the Store emulator's token endpoint serves
 * TLS with the sandbox's own CA, and Node reads NODE_EXTRA_CA_CERTS only at start-up, so
 * jest (and every worker and child it starts) is launched with it set.
 *
 * `--durable real` (`npm run test:real`) runs the Durable tiers (orchestrations, end to end,
 * reliability) again on the real Durable Task extension in the .NET reference host. Without the
 * .NET SDK it says so and skips them, except in CI (CI=true), where that is a failure.
 */
import { spawn } from 'node:child_process';
import { ensureTlsMaterial } from '../sandbox/tls';
import { buildRefHost, dotnetVersion } from '../sandbox/refhost';

/** The tiers whose runs go through the Durable engine, and the check that compares the two engines. */
export const REAL_ENGINE_TIERS = ['test/orchestrations', 'test/e2e', 'test/reliability', 'test/differential'];
/** Their jest projects (jest.config.js): the unit tier's in-process orchestrator tests start no engine. */
const REAL_ENGINE_PROJECTS = ['orchestrations', 'e2e', 'reliability', 'differential'];

function main(): void {
  let args = process.argv.slice(2);
  const env: NodeJS.ProcessEnv = { ...process.env };
  const at = args.indexOf('--durable');
  if (at >= 0) {
    const engine = args[at + 1];
    args = [...args.slice(0, at), ...args.slice(at + 2)];
    if (engine !== 'real' && engine !== 'home') throw new Error(`--durable is 'real' or 'home', got '${engine}'`);
    env.SANDBOX_DURABLE = engine;
  }
  if (env.SANDBOX_DURABLE === 'real') {
    const version = dotnetVersion();
    if (!version) {
      const why =
        'the real-engine tier needs the .NET SDK (`dotnet`), which is not installed: see sandbox/refhost/README.md';
      if (process.env.CI === 'true') {
        console.error(`Failing: ${why}.`);
        process.exit(1);
      }
      console.log(`Skipping ${REAL_ENGINE_TIERS.join(', ')} on the real Durable Task extension: ${why}.`);
      process.exit(0);
    }
    console.log(`Durable engine: the Durable Task extension in the reference host (.NET SDK ${version})`);
    // Built once here: test files start their hosts side by side.
    buildRefHost((line) => console.log(line));
    // A path given on the command line narrows the run; otherwise the Durable tiers.
    if (!args.some((a) => !a.startsWith('-')))
      args = [...REAL_ENGINE_TIERS, '--selectProjects', ...REAL_ENGINE_PROJECTS, ...args];
  }
  const { caCertPath } = ensureTlsMaterial();
  const child = spawn(process.execPath, [require.resolve('jest/bin/jest'), ...args], {
    stdio: 'inherit',
    env: { ...env, NODE_EXTRA_CA_CERTS: caCertPath },
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

main();
