/**
 * The sandbox host as each hosting plan (`plan`, `--plan`; lib/hostPlan.ts): it refuses at start
 * what that plan's real host refuses, and fails an invocation that runs past `functionTimeout`
 * as the real host does. No test waits on a race: the timeout is host.json's one second, and the
 * function that times out waits on a promise that never resolves.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHost, type RunningHost } from '../../../sandbox/host';
import { testStorage } from '../../helpers/azurite';
import { ensureBuilt, fixture, startOrchestration, tempApp, uniqueHub, waitForStatus } from './hostHelpers';

const settings = (): Record<string, string> => ({ AzureWebJobsStorage: testStorage().connectionString });

function withHostJson(name: string, hostJson: Record<string, unknown>): string {
  const dir = tempApp(name);
  writeFileSync(join(dir, 'host.json'), JSON.stringify({ version: '2.0', ...hostJson }));
  return dir;
}

beforeAll(() => ensureBuilt());

describe('sandbox host: refused at start as the plan refuses', () => {
  it("refuses a functionTimeout over Consumption's 10 minutes, in the host's words, and starts with it elsewhere", async () => {
    const app = withHostJson('plan-app', { functionTimeout: '00:30:00' });
    await expect(
      startHost({ appDir: app, settings: settings(), taskHub: uniqueHub(), plan: 'consumption' }),
    ).rejects.toThrow('FunctionTimeout must be greater than 00:00:01 and less than 00:10:00.');
    for (const plan of ['premium', 'flex', 'dedicated'] as const) {
      const host = await startHost({ appDir: app, settings: settings(), taskHub: uniqueHub(), plan });
      await host.stop();
    }
  });

  it('refuses no timeout at all (-1) on Consumption only', async () => {
    const app = withHostJson('plan-app', { functionTimeout: '-1' });
    await expect(
      startHost({ appDir: app, settings: settings(), taskHub: uniqueHub(), plan: 'consumption' }),
    ).rejects.toThrow('FunctionTimeout must be greater than 00:00:01');
    const host = await startHost({ appDir: app, settings: settings(), taskHub: uniqueHub(), plan: 'dedicated' });
    await host.stop();
  });

  it('refuses on Flex a blob trigger whose source is not EventGrid, naming it; Premium runs it', async () => {
    const blobSettings = { ...settings(), WATCH_STORAGE: testStorage().connectionString };
    Object.assign(blobSettings, {
      WATCH_CONTAINER: 'plans-watch',
      SDK_CONTAINER: 'plans-sdk',
      POISON_CONTAINER: 'plans-poison',
    });
    await expect(startHost({ appDir: fixture('blob-app'), settings: blobSettings, plan: 'flex' })).rejects.toThrow(
      /The Flex Consumption SKU only supports EventGrid as the source for BlobTrigger functions\. Please update function\(s\): onZip, onZipSdk, alwaysFails\.$/,
    );
    const host = await startHost({ appDir: fixture('blob-app'), settings: blobSettings, plan: 'premium' });
    await host.stop();
  });
});

describe.each(['consumption', 'premium'] as const)('sandbox host as %s: functionTimeout per invocation', (plan) => {
  let host: RunningHost;
  beforeAll(async () => {
    host = await startHost({ appDir: fixture('plan-app'), settings: settings(), taskHub: uniqueHub(), plan });
  });
  afterAll(() => host?.stop());

  it("fails an activity still running at the timeout with the host's message; the orchestration goes on", async () => {
    const id = await startOrchestration(host, 'callHang');
    const done = await waitForStatus(host, id, ['Completed', 'Failed']);
    expect(done.runtimeStatus).toBe('Completed');
    const output = done.output as { quick: unknown; caught?: string; hung?: string };
    expect(output.quick).toEqual({ quick: 1 });
    expect(output.hung).toBeUndefined();
    expect(output.caught).toContain('Timeout value of 00:00:01 was exceeded by function: Functions.hang');
    const logs = host.logs().map((l) => l.message);
    expect(
      logs.some((m) =>
        /^Timeout value of 00:00:01 exceeded by function 'Functions\.hang' \(Id: '.+'\)\. Initiating cancellation\.$/.test(
          m,
        ),
      ),
    ).toBe(true);
    expect(
      logs.some((m) => /^Executed 'Functions\.hang' \(Failed, .*Timeout value of 00:00:01 was exceeded/.test(m)),
    ).toBe(true);
  });

  it('fails an HTTP invocation the same way: 500, and the host keeps serving', async () => {
    const res = await host.fetch(`/api/hang`);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('');
    const id = await startOrchestration(host, 'callHang');
    expect((await waitForStatus(host, id, ['Completed', 'Failed'])).runtimeStatus).toBe('Completed');
  });
});
