import { readFileSync } from 'node:fs';
import { type EmulatorConfig, type SeedData, readSeedFile, startEmulator } from './index';

const USAGE = `Usage: node dist/sandbox/emulator/main.js --ingest-connection-string <cs> [options]

  --port <n>                       HTTP port (API, admin, upload proxy); default: a free port
  --tls-port <n>                   HTTPS port (token endpoint); default: a free port
  --ingest-connection-string <cs>  the storeingest account of Azurite (or env EMULATOR_INGEST_CONNECTION_STRING)
  --seed <default|none|file.json>  seed data; default: default
  --config <file.json>             partial config (timings, rate limit, token lifetime, SAS version...)
  --tls-dir <dir>                  TLS material folder; default: <repo>/.sandbox/tls`;

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    out[name as string] = value;
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const ingestConnectionString = args['ingest-connection-string'] ?? process.env.EMULATOR_INGEST_CONNECTION_STRING;
  if (!ingestConnectionString) throw new Error(`--ingest-connection-string is required\n\n${USAGE}`);
  const seedArg = args.seed ?? 'default';
  const seed: 'default' | 'none' | SeedData =
    seedArg === 'default' || seedArg === 'none' ? seedArg : readSeedFile(seedArg);
  const config = args.config ? (JSON.parse(readFileSync(args.config, 'utf8')) as Partial<EmulatorConfig>) : undefined;
  const emulator = await startEmulator({
    port: args.port ? Number(args.port) : undefined,
    tlsPort: args['tls-port'] ? Number(args['tls-port']) : undefined,
    ingestConnectionString,
    seed,
    config,
    tlsDir: args['tls-dir'],
  });
  // The client secret changes per start and is not printed (no secret in any log): the admin API hands it out.
  console.log(
    [
      'Store submission API emulator running',
      `  API:            ${emulator.apiBaseUrl}`,
      `  admin:          ${emulator.url}/_emulator/state`,
      `  authority host: ${emulator.authorityHost}`,
      `  tenant id:      ${emulator.tenantId}`,
      `  client id:      ${emulator.clientId}`,
      `  client secret:  GET ${emulator.url}/_emulator/secrets (clientSecret)`,
      `  trust CA:       NODE_EXTRA_CA_CERTS=${emulator.caCertPath}`,
    ].join('\n'),
  );
  const shutdown = (): void => {
    void emulator.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((e: unknown) => {
  console.error((e as Error).message);
  process.exit(1);
});
