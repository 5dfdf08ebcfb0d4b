/**
 * `npm run sandbox`: Azurite, the Store emulator and the local Functions host running the
 * app, wired together; every zip dropped into the `submissions` container is submitted to
 * the emulator. A local webhook receiver gets the runs' events (NOTIFY_WEBHOOK_URL points at
 * it) and prints each, with whether its signature held. `--demo` also drops a sample zip and
 * follows it to Published.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { instanceIdFor } from '../lib/instanceId';
import { writeDemoZip } from './demo';
import { readSeedFile } from './emulator';
import { repoRoot, startSandbox, type Sandbox } from './stack';
import { defaultDurableEngine, type DurableEngineKind } from './host';
import { HOSTING_PLANS, isHostingPlan, type HostingPlan } from '../lib/hostPlan';
import { requireDotnet } from './refhost';
import { sandboxSecret, startWebhookReceiver, type Arrival, type Receiver } from './notifyReceiver';

interface Args {
  demo: boolean;
  durable: DurableEngineKind;
  plan?: HostingPlan;
  seed?: string;
  logFile?: string;
  ports: { blob: number; queue: number; table: number; emulator: number; emulatorTls: number; host: number };
  notifyPort: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    demo: false,
    durable: defaultDurableEngine(),
    ports: { blob: 10000, queue: 10001, table: 10002, emulator: 7080, emulatorTls: 7443, host: 7071 },
    notifyPort: 7090,
  };
  const portFlags: Record<string, keyof Args['ports']> = {
    '--blob-port': 'blob',
    '--queue-port': 'queue',
    '--table-port': 'table',
    '--emulator-port': 'emulator',
    '--emulator-tls-port': 'emulatorTls',
    '--host-port': 'host',
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--demo') args.demo = true;
    else if (flag === '--durable') {
      const v = argv[++i];
      if (v !== 'home' && v !== 'real')
        throw new Error(
          "--durable is 'real' (the Durable Task extension, needs .NET) or 'home' (the sandbox's own engine)",
        );
      args.durable = v;
    } else if (flag === '--plan') {
      const v = argv[++i] ?? '';
      if (!isHostingPlan(v)) throw new Error(`--plan is one of ${HOSTING_PLANS.join(', ')}`);
      args.plan = v;
    } else if (flag === '--seed') {
      args.seed = argv[++i];
      if (!args.seed) throw new Error('--seed needs a JSON file (see sandbox/emulator/README.md)');
    } else if (flag === '--log-file') {
      args.logFile = argv[++i];
      if (!args.logFile) throw new Error('--log-file needs a path');
    } else if (flag === '--notify-port') {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 1 || value > 65535) throw new Error(`${flag} needs a port number`);
      args.notifyPort = value;
    } else if (flag === '--help' || flag === '-h') {
      console.log(
        `Usage: npm run sandbox [-- --demo] [--durable real|home] [--plan ${HOSTING_PLANS.join('|')}] [--seed FILE] [--log-file PATH] [${Object.keys(
          portFlags,
        )
          .map((f) => `${f} N`)
          .join('] [')}] [--notify-port N]`,
      );
      process.exit(0);
    } else if (portFlags[flag]) {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 1 || value > 65535) throw new Error(`${flag} needs a port number`);
      args.ports[portFlags[flag]] = value;
    } else throw new Error(`Unknown option ${flag}; see --help`);
  }
  return args;
}

function banner(sandbox: Sandbox, logFile: string, receiver: Receiver): string {
  const e = sandbox.emulator;
  return [
    '',
    'Sandbox running (Ctrl+C stops it):',
    `  Functions host      ${sandbox.host.url}/api/submissions`,
    // Keys are required, as on Azure; they are made for this sandbox and kept in its Azurite.
    `  Host key            ${sandbox.host.keys?.host.default ?? '(none required)'}`,
    `                      (x-functions-key or ?code=; for the CLI: export STORE_SUBMITTER_FUNCTION_KEY=<the key>)`,
    `  Master key          ${sandbox.host.keys?.master ?? '(none required)'}   (/admin and the Durable webhooks)`,
    `  Store API emulator  ${e.apiBaseUrl}   admin: ${e.url}/_emulator/state`,
    `  Token endpoint      ${e.authorityHost}/${e.tenantId}/oauth2/v2.0/token`,
    `  Storage             ${sandbox.azurite.connectionString}`,
    `  Webhook receiver    ${receiver.url}   (NOTIFY_WEBHOOK_URL; the secret is new each session)`,
    '',
    `Host log: ${logFile}`,
    '',
    'Drop a zip:',
    `  npm run drop -- path/to/your-submission.zip`,
    '',
  ].join('\n');
}

async function followDemo(sandbox: Sandbox): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'store-demo-'));
  const zipPath = join(dir, 'demo.zip');
  await writeDemoZip(zipPath);
  const blob = sandbox.submissions.getBlockBlobClient('demo/contoso-demo-1.2.3.zip');
  const uploaded = await blob.uploadFile(zipPath);
  const instanceId = instanceIdFor(sandbox.submissions.containerName, blob.name, uploaded.etag!);
  console.log(`Dropped ${sandbox.submissions.containerName}/${blob.name}; run ${instanceId}`);
  const statusUrl = `${sandbox.host.url}/api/submissions/${instanceId}`;
  let last = '';
  const deadline = Date.now() + 5 * 60_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    const response = await sandbox.host.fetch(statusUrl);
    if (response.status === 404) continue;
    const doc = (await response.json()) as {
      status: string;
      phase: string;
      storeStatus?: string;
      failure?: { message: string; advice?: string };
    };
    const line = `${doc.status.padEnd(9)} ${doc.phase.padEnd(26)} ${doc.storeStatus ?? ''}`;
    if (line !== last) console.log(`  ${new Date().toISOString().slice(11, 19)}  ${line}`);
    last = line;
    if (doc.status === 'Succeeded') {
      console.log(`Published. Status document: ${statusUrl}`);
      return true;
    }
    if (doc.status === 'Failed' || doc.status === 'Canceled') {
      console.error(
        `The demo run ${doc.status.toLowerCase()}: ${doc.failure?.message ?? ''}\n${doc.failure?.advice ?? ''}`,
      );
      return false;
    }
  }
  console.error('The demo run did not finish within 5 minutes.');
  return false;
}

/** One line per event that reached the sandbox's webhook receiver. */
function printArrival(a: Arrival): void {
  const e = a.event;
  const what = e ? `event #${e.sequence} ${e.type}: ${e.text}` : 'a request that is no run event';
  const check = a.verified ? 'signature verified' : `signature REFUSED (${a.why ?? 'invalid'})`;
  console.log(`  ${a.at.slice(11, 19)}  webhook <- ${what} [${check}]`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.durable === 'real') {
    const version = requireDotnet();
    console.log(`Durable engine: the Durable Task extension in the .NET reference host (.NET SDK ${version})`);
  }
  mkdirSync(join(repoRoot(), '.sandbox'), { recursive: true });
  // The runs' events come here, signed with a secret made for this session.
  const secret = sandboxSecret();
  const receiver = await startWebhookReceiver(secret, { port: args.notifyPort, onArrival: printArrival }).catch(
    (e: unknown) => {
      throw new Error(
        `The webhook receiver cannot listen on port ${args.notifyPort} (${e instanceof Error ? e.message : String(e)}); move it with --notify-port N`,
      );
    },
  );
  const logFile = args.logFile ? resolve(args.logFile) : join(repoRoot(), '.sandbox', 'host.log');
  const sandbox = await startSandbox({
    ports: args.ports,
    emulator: args.seed ? { seed: readSeedFile(args.seed) } : undefined,
    host: {
      durable: args.durable,
      plan: args.plan,
      blobPollIntervalMs: 1000,
      logFile,
      // The product's own lines tell the story; the host's bookkeeping stays in the log file.
      onLog: (line) => {
        if (!args.demo && !/^(Host|Worker)/.test(line.category))
          console.log(`  ${line.time.slice(11, 19)}  ${line.message}`);
      },
    },
    settings: {
      NOTIFY_WEBHOOK_URL: receiver.url,
      NOTIFY_WEBHOOK_SECRET: secret,
      NOTIFY_STATUS_BASE_URL: `http://127.0.0.1:${args.ports.host}`,
    },
  }).catch(async (e: unknown) => {
    await receiver.stop();
    throw e;
  });
  const stop = async (code: number): Promise<never> => {
    await sandbox.stop();
    await receiver.stop();
    process.exit(code);
  };
  // Signals that can be caught stop the children here; for SIGKILL each child watches its parent
  // itself (sandbox/processes.ts) and ends on its own.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => void stop(0));
  console.log(banner(sandbox, logFile, receiver));
  if (args.demo) await stop((await followDemo(sandbox)) ? 0 : 1);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
