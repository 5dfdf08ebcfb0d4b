import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, createServer } from 'node:net';
import { assertPortsFree, parentWatch } from './processes';

/** The storage emulator's published development account (its key is public, not a secret). */
export const DEV_ACCOUNT = 'devstoreaccount1';
export const DEV_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/**
 * A second account plays the Store's own ingestion storage, so that copying from the
 * user's account to it crosses an account boundary and source authorization is really checked.
 */
export const INGEST_ACCOUNT = 'storeingest';

export interface AzuriteOptions {
  blobPort?: number;
  queuePort?: number;
  tablePort?: number;
  /** Key of the ingestion account; random per start unless given. */
  ingestKey?: string;
  /** Where Azurite keeps its data; in memory when not given. */
  location?: string;
}

export interface Azurite {
  blobPort: number;
  queuePort: number;
  tablePort: number;
  blobEndpoint: string;
  ingestKey: string;
  /** Connection string for the development account (what `UseDevelopmentStorage=true` means, on these ports). */
  connectionString: string;
  /** Connection string for the ingestion account. */
  ingestConnectionString: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function connectionStringFor(
  account: string,
  key: string,
  ports: { blob: number; queue: number; table: number },
): string {
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${account}`,
    `AccountKey=${key}`,
    `BlobEndpoint=http://127.0.0.1:${ports.blob}/${account}`,
    `QueueEndpoint=http://127.0.0.1:${ports.queue}/${account}`,
    `TableEndpoint=http://127.0.0.1:${ports.table}/${account}`,
  ].join(';');
}

export async function waitForPort(port: number, timeoutMs = 20000, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null)
      throw new Error(`process exited with code ${child.exitCode} before port ${port} opened`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  const blobPort = options.blobPort ?? (await freePort());
  const queuePort = options.queuePort ?? (await freePort());
  const tablePort = options.tablePort ?? (await freePort());
  const ingestKey = options.ingestKey ?? randomBytes(64).toString('base64');
  // An Azurite left over on these ports would answer in its place, with another ingestion key:
  // "Server failed to authenticate the request" would then hide the real problem.
  await assertPortsFree([
    { port: blobPort, what: 'Azurite blob service' },
    { port: queuePort, what: 'Azurite queue service' },
    { port: tablePort, what: 'Azurite table service' },
  ]);
  const watch = parentWatch();
  const args = [
    ...watch.execArgv,
    require.resolve('azurite/dist/src/azurite.js'),
    '--blobPort',
    String(blobPort),
    '--queuePort',
    String(queuePort),
    '--tablePort',
    String(tablePort),
    '--blobHost',
    '127.0.0.1',
    '--queueHost',
    '127.0.0.1',
    '--tableHost',
    '127.0.0.1',
    // @azure/storage-blob sends an API version newer than Azurite knows.
    '--skipApiVersionCheck',
    '--disableProductStyleUrl',
    '--disableTelemetry',
    '--silent',
    '--loose',
  ];
  if (options.location) args.push('--location', options.location);
  else args.push('--inMemoryPersistence');
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      ...watch.env,
      AZURITE_ACCOUNTS: `${DEV_ACCOUNT}:${DEV_ACCOUNT_KEY};${INGEST_ACCOUNT}:${ingestKey}`,
    },
    // stdin is the parent-death watch: it reads end-of-file when this process dies, however.
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  try {
    // A failed start shows at once (the process exits); the deadline is only for a hung one, so
    // it is far above what a busy machine takes to start Node and Azurite (30 s was not).
    await Promise.all([blobPort, queuePort, tablePort].map((p) => waitForPort(p, 5 * 60_000, child)));
    // Something else may have taken a port between the check and the bind: then not ours that answers.
    if (child.exitCode !== null) throw new Error(`Azurite exited with code ${child.exitCode} after its ports opened`);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`Azurite did not start: ${(e as Error).message}\n${stderr}`);
  }
  const ports = { blob: blobPort, queue: queuePort, table: tablePort };
  return {
    blobPort,
    queuePort,
    tablePort,
    blobEndpoint: `http://127.0.0.1:${blobPort}/${DEV_ACCOUNT}`,
    ingestKey,
    connectionString: connectionStringFor(DEV_ACCOUNT, DEV_ACCOUNT_KEY, ports),
    ingestConnectionString: connectionStringFor(INGEST_ACCOUNT, ingestKey, ports),
    stop: () => stopChild(child),
  };
}

export async function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
