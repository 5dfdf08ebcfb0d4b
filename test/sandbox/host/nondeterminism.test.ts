import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHost } from '../../../sandbox/host';
import { testStorage } from '../../helpers/azurite';
import { ensureBuilt, startOrchestration, tempApp, uniqueHub, waitFor, waitForStatus } from './hostHelpers';

describe('sandbox host: nondeterminism check', () => {
  beforeAll(ensureBuilt);

  it('fails an instance whose code schedules a different task than its history on replay', async () => {
    const appDir = tempApp('nondeterminism-app');
    const options = { appDir, settings: { AzureWebJobsStorage: testStorage().connectionString }, taskHub: uniqueHub() };

    let host = await startHost(options);
    let id: string;
    try {
      id = await startOrchestration(host, 'workflow');
      // stepA done, now waiting on the event.
      await waitFor('stepA to complete', () =>
        host.logs().find((l) => l.message.startsWith("Executed 'Functions.stepA' (Succeeded")),
      );
      await waitFor(
        'the episode after stepA',
        () => host.logs().filter((l) => l.message.startsWith("Executed 'Functions.workflow'")).length >= 2 || undefined,
      );
    } finally {
      await host.stop();
    }

    // Version 2 of the orchestrator calls stepB where the history has stepA.
    const file = join(appDir, 'src', 'app.js');
    writeFileSync(file, readFileSync(file, 'utf8').replace("callActivity('stepA')", "callActivity('stepB')"));

    host = await startHost(options);
    try {
      const raise = await host.fetch(`/runtime/webhooks/durabletask/instances/${id}/raiseEvent/Go`, {
        method: 'POST',
        body: '"go"',
      });
      expect(raise.status).toBe(202);
      const done = await waitForStatus(host, id, ['Completed', 'Failed']);
      expect(done.runtimeStatus).toBe('Failed');
      expect(done.output).toBe(
        "Orchestrator function 'workflow' failed: Non-deterministic workflow detected: history has TaskScheduled 'stepA' at position 0 but the code scheduled CallActivity 'stepB'",
      );
      // stepC never ran: the old result was not handed to the new call.
      expect(
        host
          .logs()
          .some(
            (l) =>
              l.message.startsWith("Executing 'Functions.stepC'") ||
              l.message.startsWith("Executing 'Functions.stepB'"),
          ),
      ).toBe(false);
    } finally {
      await host.stop();
    }
  });

  it('lets unchanged code replay the same history to completion', async () => {
    const appDir = tempApp('nondeterminism-app');
    const options = { appDir, settings: { AzureWebJobsStorage: testStorage().connectionString }, taskHub: uniqueHub() };
    const host = await startHost(options);
    try {
      const id = await startOrchestration(host, 'workflow');
      await waitForStatus(host, id, ['Running']);
      await host.fetch(`/runtime/webhooks/durabletask/instances/${id}/raiseEvent/Go`, {
        method: 'POST',
        body: '"go"',
      });
      expect((await waitForStatus(host, id, ['Completed', 'Failed'])).output).toEqual(['a', 'go', 'c']);
    } finally {
      await host.stop();
    }
  });
});
