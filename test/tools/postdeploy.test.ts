/**
 * The azd postdeploy hook. Azure and its CLI cannot run here, so `az` is a recorded stand-in
 * that answers as the real CLI does (exit code, tsv on stdout); the hook's own decisions are
 * what is tested.
 */
import { HOOK_INPUTS, HookError, runPostdeploy, type AzResult } from '../../tools/postdeploy';

const ENV: Record<string, string> = {
  AZURE_RESOURCE_GROUP: 'rg-prod',
  AZURE_FUNCTION_APP_NAME: 'func-abc',
  BLOB_TRIGGER_SOURCE: 'eventGrid',
  EVENT_GRID_SYSTEM_TOPIC_NAME: 'evgt-abc',
  AZURE_STORAGE_ACCOUNT_NAME: 'stabc',
  SUBMISSIONS_CONTAINER: 'submissions',
  DEAD_LETTER_CONTAINER: 'submissions-deadletter',
  BLOB_TRIGGER_FUNCTION_NAME: 'submissionBlobTrigger',
  AZURE_KEY_VAULT_NAME: 'kv-abc',
  STORE_CLIENT_SECRET_NAME: 'store-client-secret',
  STORE_SUBMITTER_FUNCTIONS_URL: 'https://func-abc.azurewebsites.net',
};
const KEY = 'blobs-extension-key-value';

function fakeAz(answers: { keyAfter?: number; deployFailures?: number; secret?: boolean; noCli?: boolean }) {
  const calls: string[][] = [];
  let keyLooks = 0;
  let deploys = 0;
  const ok = (stdout = ''): AzResult => ({ status: 0, stdout, stderr: '' });
  const az = (args: string[]): AzResult => {
    calls.push(args);
    const cmd = args.slice(0, 3).join(' ');
    if (args[0] === 'version') return answers.noCli ? { status: null, stdout: '', stderr: 'spawn az ENOENT' } : ok();
    if (cmd === 'functionapp keys list') return ok(++keyLooks > (answers.keyAfter ?? 0) ? `${KEY}\n` : '\n');
    if (cmd === 'deployment group create')
      return ++deploys <= (answers.deployFailures ?? 0)
        ? { status: 1, stdout: '', stderr: 'ERROR: Webhook validation handshake failed\nmore' }
        : ok();
    if (cmd === 'keyvault secret show')
      return answers.secret === false
        ? { status: 3, stdout: '', stderr: 'SecretNotFound' }
        : ok('https://kv-abc.vault.azure.net/secrets/store-client-secret/1\n');
    throw new Error(`unexpected az ${args.join(' ')}`);
  };
  return { az, calls };
}

async function run(env: Record<string, string | undefined>, az: ReturnType<typeof fakeAz>['az']) {
  const lines: string[] = [];
  await runPostdeploy({
    env,
    az,
    log: (l) => lines.push(l),
    keyIntervalMs: 0,
    deployIntervalMs: 0,
    root: '/repo',
  });
  return lines.join('\n');
}

describe('postdeploy hook', () => {
  it('waits for the webhook key, then deploys infra/eventgrid.bicep with the environment values', async () => {
    const { az, calls } = fakeAz({ keyAfter: 2 });
    const out = await run(ENV, az);
    expect(calls.filter((c) => c[0] === 'functionapp')).toHaveLength(3);
    const deploy = calls.find((c) => c[0] === 'deployment')!;
    expect(deploy).toEqual(
      expect.arrayContaining(['--resource-group', 'rg-prod', '--template-file', '/repo/infra/eventgrid.bicep']),
    );
    expect(deploy).toEqual(
      expect.arrayContaining([
        'functionAppName=func-abc',
        'systemTopicName=evgt-abc',
        'storageAccountName=stabc',
        'submissionsContainerName=submissions',
        'deadLetterContainerName=submissions-deadletter',
        'functionName=submissionBlobTrigger',
      ]),
    );
    // the key is looked at, never passed on or printed
    expect(JSON.stringify(calls.slice(calls.indexOf(deploy)))).not.toContain(KEY);
    expect(out).not.toContain(KEY);
    expect(out).toContain('functionKeys.default');
    expect(out).not.toContain('not in the Key Vault yet');
  });

  it('retries the subscription when Event Grid refuses the first handshake, and fails with its message after the last try', async () => {
    const once = fakeAz({ deployFailures: 1 });
    await run(ENV, once.az);
    expect(once.calls.filter((c) => c[0] === 'deployment')).toHaveLength(2);

    const never = fakeAz({ deployFailures: 99 });
    await expect(run(ENV, never.az)).rejects.toThrow(
      /Event Grid subscription could not be created: ERROR: Webhook validation/,
    );
    expect(never.calls.filter((c) => c[0] === 'deployment')).toHaveLength(3);
  });

  it('stops with what to check when the host never creates the key', async () => {
    const { az } = fakeAz({ keyAfter: 1000 });
    const lines: string[] = [];
    await expect(
      runPostdeploy({ env: ENV, az, log: (l) => lines.push(l), keyAttempts: 3, keyIntervalMs: 0, root: '/repo' }),
    ).rejects.toThrow(/func-abc has no blobs_extension key yet/);
  });

  it('creates no subscription for the polling trigger', async () => {
    const { az, calls } = fakeAz({});
    const out = await run({ ...ENV, BLOB_TRIGGER_SOURCE: 'polling', EVENT_GRID_SYSTEM_TOPIC_NAME: '' }, az);
    expect(calls.filter((c) => c[0] === 'deployment' || c[0] === 'functionapp')).toEqual([]);
    expect(out).toContain('Polling blob trigger');
  });

  it('says how to set the Store secret when the vault does not have it', async () => {
    const { az } = fakeAz({ secret: false });
    const out = await run(ENV, az);
    expect(out).toContain('az keyvault secret set --vault-name kv-abc --name store-client-secret');
    expect(out).toContain('az functionapp restart --resource-group rg-prod --name func-abc');
  });

  it('names what is missing when it runs outside azd, and when the Azure CLI is not there', async () => {
    const { az } = fakeAz({});
    await expect(run({}, az)).rejects.toThrow(HookError);
    await expect(run({ ...ENV, AZURE_FUNCTION_APP_NAME: '' }, az)).rejects.toThrow(/AZURE_FUNCTION_APP_NAME not set/);
    await expect(run(ENV, fakeAz({ noCli: true }).az)).rejects.toThrow(/the Azure CLI \(az\) is needed.*ENOENT/);
    expect(HOOK_INPUTS.length).toBeGreaterThan(0);
  });
});
