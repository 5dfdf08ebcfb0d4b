/**
 * azd's postdeploy hook (azure.yaml): what can only happen once the code runs in Azure.
 *
 *   node dist/tools/postdeploy.js        (azd runs it with the environment's values set)
 *
 * 1. With the Event Grid trigger, deploys infra/eventgrid.bicep: the subscription that pushes
 *    BlobCreated events of the submissions container to the blob extension's webhook. Its key,
 *    `blobs_extension`, exists only after the host has started with the deployed trigger, so
 *    this waits for it; Event Grid validates the webhook on creation, so a refused first try is
 *    retried. Deploying it again changes nothing.
 * 2. Says whether the Store client secret is in the Key Vault yet, and how to put it there.
 * 3. Prints where the app is and how to get a host key for the CLI (never the key itself).
 * It uses the Azure CLI (`az`), as the official sample's hook does.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectRoot } from './package';

/** The azd environment values the hook reads: outputs of infra/main.bicep (a test checks they are). */
export const HOOK_INPUTS = [
  'AZURE_RESOURCE_GROUP',
  'AZURE_FUNCTION_APP_NAME',
  'BLOB_TRIGGER_SOURCE',
  'EVENT_GRID_SYSTEM_TOPIC_NAME',
  'AZURE_STORAGE_ACCOUNT_NAME',
  'SUBMISSIONS_CONTAINER',
  'DEAD_LETTER_CONTAINER',
  'BLOB_TRIGGER_FUNCTION_NAME',
  'AZURE_KEY_VAULT_NAME',
  'STORE_CLIENT_SECRET_NAME',
  'STORE_SUBMITTER_FUNCTIONS_URL',
] as const;
type Inputs = Record<(typeof HOOK_INPUTS)[number], string>;

export interface AzResult {
  status: number | null;
  stdout: string;
  stderr: string;
}
export type Az = (args: string[]) => AzResult;

export interface HookOptions {
  env: Record<string, string | undefined>;
  az: Az;
  log: (line: string) => void;
  /** Waiting for the webhook key: how many looks, and how long between them. */
  keyAttempts?: number;
  keyIntervalMs?: number;
  deployAttempts?: number;
  deployIntervalMs?: number;
  root?: string;
}

export class HookError extends Error {}

function inputs(env: HookOptions['env'], needed: ReadonlyArray<keyof Inputs>): Inputs {
  const missing = needed.filter((n) => !env[n]?.trim());
  if (missing.length > 0)
    throw new HookError(
      `postdeploy: ${missing.join(', ')} not set; run it through azd (azd hooks run postdeploy), which sets the outputs of infra/main.bicep`,
    );
  return Object.fromEntries(HOOK_INPUTS.map((n) => [n, env[n]?.trim() ?? ''])) as Inputs;
}

/** The `az deployment group create` arguments for infra/eventgrid.bicep. */
export function eventGridDeployment(v: Inputs, root: string): string[] {
  return [
    'deployment',
    'group',
    'create',
    '--resource-group',
    v.AZURE_RESOURCE_GROUP,
    '--name',
    'submission-zips-event-subscription',
    '--template-file',
    join(root, 'infra', 'eventgrid.bicep'),
    '--parameters',
    `functionAppName=${v.AZURE_FUNCTION_APP_NAME}`,
    `systemTopicName=${v.EVENT_GRID_SYSTEM_TOPIC_NAME}`,
    `storageAccountName=${v.AZURE_STORAGE_ACCOUNT_NAME}`,
    `submissionsContainerName=${v.SUBMISSIONS_CONTAINER}`,
    `deadLetterContainerName=${v.DEAD_LETTER_CONTAINER}`,
    `functionName=${v.BLOB_TRIGGER_FUNCTION_NAME}`,
    '--output',
    'none',
  ];
}

export async function runPostdeploy(o: HookOptions): Promise<void> {
  const root = o.root ?? projectRoot();
  const eventGrid = (o.env.BLOB_TRIGGER_SOURCE ?? 'eventGrid') === 'eventGrid';
  const v = inputs(
    o.env,
    eventGrid
      ? HOOK_INPUTS
      : ['AZURE_RESOURCE_GROUP', 'AZURE_FUNCTION_APP_NAME', 'AZURE_KEY_VAULT_NAME', 'STORE_CLIENT_SECRET_NAME'],
  );
  const version = o.az(['version', '--output', 'none']);
  if (version.status !== 0)
    throw new HookError(
      'postdeploy: the Azure CLI (az) is needed and did not run: install it, az login, then azd hooks run postdeploy' +
        (version.stderr ? ` (${version.stderr.trim()})` : ''),
    );

  if (eventGrid) {
    o.log(`Waiting for the blob extension's webhook key on ${v.AZURE_FUNCTION_APP_NAME}...`);
    const attempts = o.keyAttempts ?? 40;
    let ready = false;
    for (let i = 0; i < attempts && !ready; i++) {
      if (i > 0) await sleep(o.keyIntervalMs ?? 15_000);
      const keys = o.az([
        'functionapp',
        'keys',
        'list',
        '--resource-group',
        v.AZURE_RESOURCE_GROUP,
        '--name',
        v.AZURE_FUNCTION_APP_NAME,
        '--query',
        'systemKeys.blobs_extension',
        '--output',
        'tsv',
      ]);
      // The key is a secret: only whether it exists is looked at, it is never printed.
      ready = keys.status === 0 && keys.stdout.trim().length > 0;
    }
    if (!ready)
      throw new HookError(
        `postdeploy: ${v.AZURE_FUNCTION_APP_NAME} has no blobs_extension key yet: the host has not started the blob trigger. ` +
          'Check the app starts (Application Insights, or az functionapp log), then run azd hooks run postdeploy again.',
      );

    o.log(`Subscribing ${v.BLOB_TRIGGER_FUNCTION_NAME} to BlobCreated events of ${v.SUBMISSIONS_CONTAINER}/*.zip...`);
    const deployAttempts = o.deployAttempts ?? 3;
    let last: AzResult | undefined;
    for (let i = 0; i < deployAttempts; i++) {
      if (i > 0) await sleep(o.deployIntervalMs ?? 30_000);
      last = o.az(eventGridDeployment(v, root));
      if (last.status === 0) break;
      o.log(`  not yet (${firstLine(last.stderr)}); trying again`);
    }
    if (last?.status !== 0)
      throw new HookError(`postdeploy: the Event Grid subscription could not be created: ${last?.stderr.trim() ?? ''}`);
    o.log('  done: zips dropped into the container now start runs.');
  } else {
    o.log('Polling blob trigger: no Event Grid subscription to create.');
  }

  const secret = o.az([
    'keyvault',
    'secret',
    'show',
    '--vault-name',
    v.AZURE_KEY_VAULT_NAME,
    '--name',
    v.STORE_CLIENT_SECRET_NAME,
    '--query',
    'id',
    '--output',
    'tsv',
  ]);
  if (secret.status !== 0 || !secret.stdout.trim()) {
    o.log(
      [
        '',
        `The Store client secret is not in the Key Vault yet. Until it is, every run fails at checkCredential. Set it, then restart the app:`,
        `  az keyvault secret set --vault-name ${v.AZURE_KEY_VAULT_NAME} --name ${v.STORE_CLIENT_SECRET_NAME} --file <file holding the secret>`,
        `  az functionapp restart --resource-group ${v.AZURE_RESOURCE_GROUP} --name ${v.AZURE_FUNCTION_APP_NAME}`,
      ].join('\n'),
    );
  }
  o.log(
    [
      '',
      `The app: ${v.STORE_SUBMITTER_FUNCTIONS_URL || v.AZURE_FUNCTION_APP_NAME}`,
      'A host key for the CLI (it calls several functions; a function key opens only its own function):',
      `  export STORE_SUBMITTER_FUNCTION_KEY="$(az functionapp keys list --resource-group ${v.AZURE_RESOURCE_GROUP} --name ${v.AZURE_FUNCTION_APP_NAME} --query functionKeys.default --output tsv)"`,
    ].join('\n'),
  );
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

function runAz(args: string[]): AzResult {
  // On Windows az is az.cmd, which only a shell runs; the shell then needs the quoting.
  const windows = process.platform === 'win32';
  const quote = (a: string): string => (/[\s"&|<>^()]/.test(a) ? `"${a.replace(/"/g, '""')}"` : a);
  const r = spawnSync('az', windows ? args.map(quote) : args, { encoding: 'utf8', shell: windows });
  return { status: r.error ? null : r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error?.message || '') };
}

if (require.main === module) {
  runPostdeploy({ env: process.env, az: runAz, log: (l) => process.stdout.write(`${l}\n`) }).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
