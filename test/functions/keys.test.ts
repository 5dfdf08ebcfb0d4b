/**
 * Keys and exposure, on the sandbox host, which enforces keys as Azure does unless told not to: every route of the app
 * refuses a call without a key and a call with another function's key (401), opens to its own
 * function key and to a host key, and no answer of any route carries a key of any kind (the
 * Durable extension's system key above all: it opens terminate, purge and rewind on every run).
 */
import { SEED_IDS } from '../../sandbox/emulator';
import { allKeyValues, type HostKeys } from '../../sandbox/host/keys';
import { goodZip, packageFor } from '../helpers/zips';
import { startHost } from '../../sandbox/host';
import { repoRoot } from '../../sandbox/stack';
import { BlobServiceClient } from '@azure/storage-blob';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import { E2E_SETTINGS } from '../e2e/support';

const PACKAGE = 'packages/ContosoDemo_3.0.1.0_x64.msixupload';

interface Route {
  fn: string;
  methods: string[];
  template: string;
}

describe('keys and exposure of the HTTP API', () => {
  let sandbox: TestSandbox;
  let keys: HostKeys;
  let routes: Route[];

  beforeAll(async () => {
    sandbox = await startTestSandbox({
      // No enforceKeys option: keys are required by default.
      host: { blobPollIntervalMs: 3_600_000 },
      settings: { ...E2E_SETTINGS },
    });
    keys = sandbox.host.keys!;
    // The host's route table, as it logs it at start: `name: [GET,POST] http://.../api/template`.
    routes = sandbox.logs.flatMap((l) => {
      const m = /^(\w+): \[([A-Z,]+)\] https?:\/\/[^/]+\/api\/(\S+)$/.exec(l.message);
      return m ? [{ fn: m[1]!, methods: m[2]!.split(','), template: m[3]! }] : [];
    });
  });
  afterAll(() => sandbox?.stop());

  function scan(what: string, headers: Headers, body: string): void {
    const answer = `${what}\n${JSON.stringify([...headers.entries()])}\n${body}`;
    for (const key of allKeyValues(keys)) expect(answer).not.toContain(key);
    expect(answer).not.toMatch(/[?&]code=|x-functions-key|runtime\/webhooks/i);
  }

  async function call(method: string, path: string, key?: string, body?: unknown): Promise<Response> {
    return fetch(`${sandbox.host.url}/api/${path}`, {
      method,
      headers: {
        ...(key ? { 'x-functions-key': key } : {}),
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  it('every route: 401 without a key and with another function’s key; open to its own key and a host key; no answer carries a key', async () => {
    expect(routes.map((r) => r.fn).sort()).toEqual(Object.keys(keys.functions).sort());
    expect(routes.length).toBeGreaterThanOrEqual(10);

    // A real run, so the routes of a run answer about one.
    const name = 'keys/app.zip';
    const zip = goodZip(
      {
        target: { kind: 'app', applicationId: SEED_IDS.demoApp },
        submission: { applicationPackages: [{ fileName: PACKAGE }] },
        options: { dryRun: true },
      },
      { [PACKAGE]: packageFor(PACKAGE) },
    );
    await sandbox.drop(name, zip);
    const started = await call('POST', 'submissions', keys.functions.startSubmission!.default, { blob: name });
    const startedBody = await started.text();
    expect(started.status).toBe(202);
    scan('POST submissions', started.headers, startedBody);
    const id = String((JSON.parse(startedBody) as { id: string }).id);
    await sandbox.finished(id);

    const params: Record<string, string> = { instanceId: id, kind: 'app', id: SEED_IDS.demoApp, action: 'pause' };
    for (const route of routes) {
      const path = route.template.replace(/\{(\w+)\}/g, (_, p: string) => encodeURIComponent(params[p] ?? 'x'));
      const otherFn = Object.keys(keys.functions).find((f) => f !== route.fn)!;
      for (const method of route.methods) {
        const body = method === 'POST' ? (route.fn === 'startSubmission' ? { blob: name } : {}) : undefined;
        const what = `${method} ${path} (${route.fn})`;
        const cases: Array<[string, string | undefined, boolean]> = [
          ['no key', undefined, false],
          ["another function's key", keys.functions[otherFn]!.default, false],
          ['a wrong key', 'not-a-key', false],
          ['its own key', keys.functions[route.fn]!.default, true],
          ['a host key', keys.host.default, true],
        ];
        for (const [how, key, opens] of cases) {
          const response = await call(method, path, key, body);
          const text = await response.text();
          expect({ what, how, refused: response.status === 401 }).toEqual({ what, how, refused: !opens });
          scan(`${what} with ${how}`, response.headers, text);
        }
      }
    }
  });

  it("the Durable extension's webhooks take its system key or the master key, never a host key", async () => {
    const hooks = `${sandbox.host.url}/runtime/webhooks/durabletask/instances?top=1`;
    expect((await fetch(hooks)).status).toBe(401);
    expect((await fetch(hooks, { headers: { 'x-functions-key': keys.host.default! } })).status).toBe(401);
    expect((await fetch(`${hooks}&code=${keys.system.durabletask_extension!}`)).status).toBe(200);
    expect((await fetch(hooks, { headers: { 'x-functions-key': keys.master } })).status).toBe(200);
  });

  it('a restarted host requires the keys its callers hold: they are kept in azure-webjobs-secrets, as the real host keeps them', async () => {
    const hostId = sandbox.settings.AzureFunctionsWebHost__hostid!;
    const secrets = BlobServiceClient.fromConnectionString(sandbox.azurite.connectionString).getContainerClient(
      'azure-webjobs-secrets',
    );
    const stored = JSON.parse(
      (await secrets.getBlockBlobClient(`${hostId}/host.json`).downloadToBuffer()).toString(),
    ) as {
      masterKey: { value: string };
    };
    expect(stored.masterKey.value).toBe(keys.master);
    // A second host process of the same app (a restart, or another instance): the same keys.
    const again = await startHost({
      appDir: repoRoot(),
      settings: sandbox.settings,
      taskHub: `${hostId.replace(/-/g, '')}again`,
      blobPollIntervalMs: 3_600_000,
    });
    try {
      expect(again.keys).toEqual(keys);
      const status = (key: string) =>
        fetch(`${again.url}/api/submissions`, { headers: { 'x-functions-key': key } }).then((r) => r.status);
      expect(await status(keys.host.default!)).toBe(200);
      expect(await status('a-key-of-another-host')).toBe(401);
    } finally {
      await again.stop();
    }
  });
});
