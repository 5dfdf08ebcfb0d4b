/**
 * `npm test` runs jest through this launcher: the Store emulator's token endpoint serves
 * TLS with the sandbox's own CA, and Node reads NODE_EXTRA_CA_CERTS only at start-up, so
 * jest (and every worker and child it starts) is launched with it set.
 */
import { spawn } from 'node:child_process';
import { ensureTlsMaterial } from '../sandbox/tls';

const { caCertPath } = ensureTlsMaterial();
const child = spawn(process.execPath, [require.resolve('jest/bin/jest'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, NODE_EXTRA_CA_CERTS: caCertPath },
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
