/**
 * infra/: what `azd up` would create, read from the Bicep CLI's offline evaluation of the
 * template (`bicep snapshot`: every resource with its properties, runtime values left as
 * expressions) for each hosting plan and trigger source. The app settings are checked against
 * lib/config.ts itself: the settings the template sets must load, and every name must be one the
 * app or the platform reads. Needs the Bicep CLI: .ci/run installs it and sets BICEP; elsewhere
 * this file skips itself unless BICEP or a `bicep` on PATH is found.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { loadConfig, SETTINGS, TASK_HUB_NAME_RE } from '../../lib/config';
import { HOOK_INPUTS, eventGridDeployment } from '../../tools/postdeploy';
import { projectRoot } from '../../tools/package';
import { loadApp, type LoadedApp } from '../helpers/app';

const root = projectRoot(__dirname);
const infra = join(root, 'infra');

function findBicep(): string | undefined {
  if (process.env.BICEP && existsSync(process.env.BICEP)) return process.env.BICEP;
  const installed = join(root, '.tools', 'bicep', 'bin', 'bicep'); // where .ci/bicep.sh puts it
  if (existsSync(installed)) return installed;
  const cache = join(root, '.tools', 'bicep', 'packages', 'azure.bicep.commandline.linux-x64');
  if (existsSync(cache)) {
    for (const version of readdirSync(cache).sort().reverse()) {
      const bin = join(cache, version, 'tools', 'bicep');
      if (existsSync(bin)) return bin;
    }
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'bicep'))) return join(dir, 'bicep');
  }
  return undefined;
}

const bicep = findBicep();
if (!bicep && process.env.CI) throw new Error('CI: the Bicep CLI is missing; .ci/run installs it and sets BICEP');
if (!bicep)
  console.warn('test/infra/template.test.ts skipped: no Bicep CLI (set BICEP, or run .ci/run, which installs it)');
const describeWithBicep = bicep ? describe : describe.skip;

interface Resource {
  type: string;
  name: string;
  id?: string;
  kind?: string;
  properties?: Record<string, unknown>;
  [key: string]: unknown;
}
interface Snapshot {
  predictedResources: Resource[];
  outputs: Record<string, unknown>;
}

const IDS = {
  subscription: '00000000-0000-0000-0000-000000000000',
  tenant: '00000000-0000-0000-0000-00000000000a',
  storeTenant: '00000000-0000-0000-0000-00000000000b',
  storeClient: '00000000-0000-0000-0000-00000000000c',
  deployer: '00000000-0000-0000-0000-00000000000d',
};

let work: string;
let counter = 0;

/** Evaluates `template` with `params` as ARM would, offline; throws with the CLI's message when the template refuses them. */
function snapshot(template: string, params: Record<string, string | number>): Snapshot {
  const name = `s${counter++}`;
  const paramFile = join(work, `${name}.bicepparam`);
  const lines = [`using '${relative(work, join(infra, template)).split('\\').join('/')}'`];
  for (const [k, v] of Object.entries(params)) lines.push(`param ${k} = ${typeof v === 'number' ? v : `'${v}'`}`);
  writeFileSync(paramFile, `${lines.join('\n')}\n`);
  const args = ['snapshot', paramFile, '--mode', 'overwrite', '--subscription-id', IDS.subscription];
  args.push('--tenant-id', IDS.tenant, '--location', 'westeurope', '--deployment-name', name);
  if (template !== 'main.bicep') args.push('--resource-group', 'rg-test');
  const r = spawnSync(bicep!, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bicep snapshot ${template} ${JSON.stringify(params)}:\n${r.stdout}${r.stderr}`);
  return JSON.parse(readFileSync(join(work, `${name}.snapshot.json`), 'utf8')) as Snapshot;
}

function mainParams(overrides: Record<string, string | number> = {}): Record<string, string | number> {
  return {
    environmentName: 'test',
    location: 'westeurope',
    storeTenantId: IDS.storeTenant,
    storeClientId: IDS.storeClient,
    principalId: IDS.deployer,
    ...overrides,
  };
}

const one = (s: Snapshot, type: string): Resource => {
  const found = s.predictedResources.filter((r) => r.type === type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0]!;
};
const all = (s: Snapshot, type: string): Resource[] => s.predictedResources.filter((r) => r.type === type);
/** The site's config resource `name` (appsettings, slotConfigNames), if the template makes it. */
const siteConfig = (s: Snapshot, name: string): Resource | undefined => {
  const found = all(s, 'Microsoft.Web/sites/config').filter((r) => r.name.split('/').pop() === name);
  if (found.length > 1) throw new Error(`expected at most one sites/config ${name}, found ${found.length}`);
  return found[0];
};
const appSettings = (s: Snapshot): Record<string, string> =>
  siteConfig(s, 'appsettings')!.properties as Record<string, string>;
/** A value ARM computes at deployment (a reference, a key) is an expression in the snapshot. */
const isExpression = (v: string): boolean => v.startsWith('[') && v.endsWith(']');

// Names the Functions platform and host read from app settings, not the app
// (learn.microsoft.com/azure/azure-functions/functions-app-settings).
const PLATFORM_SETTINGS = new Set([
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
  'FUNCTIONS_EXTENSION_VERSION',
  'FUNCTIONS_WORKER_RUNTIME',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'WEBSITE_CONTENTSHARE',
  'WEBSITE_SKIP_CONTENTSHARE_VALIDATION',
]);
// The properties of an identity-based connection <NAME>__<property> (functions-reference,
// "Configure an identity-based connection").
const CONNECTION_PROPERTIES = new Set([
  'serviceUri',
  'blobServiceUri',
  'queueServiceUri',
  'tableServiceUri',
  'accountName',
  'credential',
  'clientId',
]);
// Settings Flex Consumption refuses: it takes the runtime from functionAppConfig and has no
// content share (flex-consumption-plan, "Deprecated properties and settings").
const REFUSED_ON_FLEX = [
  'FUNCTIONS_EXTENSION_VERSION',
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_WORKER_RUNTIME_VERSION',
  'WEBSITE_NODE_DEFAULT_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'WEBSITE_CONTENTSHARE',
  'SCM_DO_BUILD_DURING_DEPLOYMENT',
];

const SCENARIOS = [
  { label: 'Flex Consumption, Event Grid (the default)', overrides: {}, plan: 'flex', eventGrid: true },
  {
    label: 'Premium, polling trigger',
    overrides: { hostingPlan: 'premium', blobTriggerSource: 'polling' },
    plan: 'premium',
    eventGrid: false,
  },
  { label: 'Dedicated, Event Grid', overrides: { hostingPlan: 'dedicated' }, plan: 'dedicated', eventGrid: true },
] as const;

describeWithBicep('infra/ (Bicep, evaluated offline)', () => {
  let app: LoadedApp;
  const snapshots = new Map<string, Snapshot>();

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'store-submitter-bicep-'));
    app = loadApp(root);
    for (const s of SCENARIOS) snapshots.set(s.label, snapshot('main.bicep', mainParams(s.overrides)));
  }, 600_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  describe.each(SCENARIOS)('$label', (scenario) => {
    const snap = (): Snapshot => snapshots.get(scenario.label)!;

    it('sets every app setting lib/config.ts needs: the settings load', () => {
      const settings = appSettings(snap());
      // Values ARM fills in at deployment (endpoints, the vault URI, ids) get a stand-in here.
      const env = Object.fromEntries(
        Object.entries(settings).map(([k, v]) => [k, isExpression(v) ? 'https://resolved-at-deployment.invalid/' : v]),
      );
      expect(() => loadConfig(env)).not.toThrow();
      // The approval gate's wait, as the template's parameter sets it (72 hours unless azd is told otherwise).
      expect(settings[SETTINGS.approvalTimeoutHours]).toBe('72');
      expect(loadConfig(env).polling.approvalTimeoutHours).toBe(72);
      // The history purge: 30 days, every night
      expect(loadConfig(env).history).toEqual({ retentionDays: 30, purgeSchedule: '0 30 3 * * *' });
      // and the settings the bindings and host.json name, which config does not read itself
      const referenced = new Set<string>();
      for (const p of app.functions.flatMap((f) => f.paths))
        for (const m of p.matchAll(/%([^%]+)%/g)) referenced.add(m[1]!);
      for (const m of readFileSync(join(root, 'host.json'), 'utf8').matchAll(/%([^%]+)%/g)) referenced.add(m[1]!);
      const missing = [...referenced].filter((n) => !(n in settings));
      expect(missing).toEqual([]);
      const connections = new Set(app.functions.flatMap((f) => f.connections));
      expect(connections.size).toBeGreaterThan(0);
      for (const c of connections) {
        // identity-based: the trigger needs the queue endpoint too (its receipts and poison queue)
        expect(settings).toHaveProperty(`${c}__blobServiceUri`);
        expect(settings).toHaveProperty(`${c}__queueServiceUri`);
      }
    });

    it('sets no setting that neither the app nor the platform reads', () => {
      const known = new Set<string>(Object.values(SETTINGS));
      const connections = new Set(['AzureWebJobsStorage', ...app.functions.flatMap((f) => f.connections)]);
      const unknown = Object.keys(appSettings(snap())).filter((name) => {
        if (known.has(name) || PLATFORM_SETTINGS.has(name)) return false;
        const [base, property, ...rest] = name.split('__');
        return !(rest.length === 0 && connections.has(base!) && property && CONNECTION_PROPERTIES.has(property));
      });
      expect(unknown).toEqual([]);
    });

    it('holds no secret in app settings: storage by identity, the Store secret and any key by Key Vault reference', () => {
      const settings = appSettings(snap());
      expect(Object.keys(settings).filter((k) => /^AzureWebJobsStorage$|^SUBMISSIONS_STORAGE$/.test(k))).toEqual([]);
      expect(settings.AzureWebJobsStorage__credential).toBe('managedidentity');
      expect(settings.SUBMISSIONS_STORAGE__credential).toBe('managedidentity');
      expect(settings[SETTINGS.credentialKind]).toBe('secret');
      expect(settings[SETTINGS.clientSecret]).toMatch(/^\[format\('@Microsoft\.KeyVault\(SecretUri=/);
      for (const [name, value] of Object.entries(settings)) {
        expect(`${name}=${value}`).not.toMatch(/AccountKey=|SharedAccessSignature=|[?&]sig=/i);
        if (/CONNECTIONSTRING$/.test(name) && name !== 'APPLICATIONINSIGHTS_CONNECTION_STRING')
          expect(value).toContain('@Microsoft.KeyVault(');
      }
      const app = one(snap(), 'Microsoft.Web/sites');
      expect((app.properties as { keyVaultReferenceIdentity?: string }).keyVaultReferenceIdentity).toContain(
        'userAssignedIdentities',
      );
      for (const account of all(snap(), 'Microsoft.Storage/storageAccounts')) {
        // only the Premium content share's own account takes a key (Azure Files has no identity access)
        const sharedKey = (account.properties as { allowSharedKeyAccess?: boolean }).allowSharedKeyAccess;
        expect(
          sharedKey === true ? all(snap(), 'Microsoft.Storage/storageAccounts/fileServices/shares').length : 0,
        ).toBe(sharedKey === true ? 1 : 0);
      }
    });

    it(`runs Node 22 on the ${scenario.plan} plan with the settings that plan accepts`, () => {
      const site = one(snap(), 'Microsoft.Web/sites');
      const props = site.properties as {
        functionAppConfig?: { runtime: { name: string; version: string }; deployment: unknown };
        siteConfig: { linuxFxVersion?: string };
      };
      const planSku = one(snap(), 'Microsoft.Web/serverfarms').sku as { name: string; tier: string };
      const settings = appSettings(snap());
      if (scenario.plan === 'flex') {
        expect(planSku).toEqual({ name: 'FC1', tier: 'FlexConsumption' });
        expect(props.functionAppConfig?.runtime).toEqual({ name: 'node', version: '22' });
        expect(props.siteConfig.linuxFxVersion).toBeUndefined();
        expect(REFUSED_ON_FLEX.filter((n) => n in settings)).toEqual([]);
      } else {
        expect(planSku.tier).toBe(scenario.plan === 'premium' ? 'ElasticPremium' : 'PremiumV3');
        expect(props.functionAppConfig).toBeUndefined();
        expect(props.siteConfig.linuxFxVersion).toBe('Node|22');
        expect(settings.FUNCTIONS_WORKER_RUNTIME).toBe('node');
        expect(settings.FUNCTIONS_EXTENSION_VERSION).toBe('~4');
      }
      if (scenario.plan === 'premium') {
        expect(settings.WEBSITE_CONTENTAZUREFILECONNECTIONSTRING).toContain('@Microsoft.KeyVault(');
        expect(settings.WEBSITE_SKIP_CONTENTSHARE_VALIDATION).toBe('1');
      }
    });

    it('creates the submissions and reports containers the settings name', () => {
      const settings = appSettings(snap());
      const containers = all(snap(), 'Microsoft.Storage/storageAccounts/blobServices/containers').map((c) =>
        c.name.split('/').pop()!,
      );
      expect(containers).toEqual(
        expect.arrayContaining([settings[SETTINGS.submissionsContainer], settings[SETTINGS.reportsContainer]]),
      );
    });

    it('gives the app identity only data roles on its own storage, the vault and telemetry', () => {
      const s = snap();
      const identity = one(s, 'Microsoft.ManagedIdentity/userAssignedIdentities');
      const storage = all(s, 'Microsoft.Storage/storageAccounts').find(
        (a) => a.name.startsWith('st') && !a.name.startsWith('stc'),
      )!;
      const vault = one(s, 'Microsoft.KeyVault/vaults');
      const insights = one(s, 'Microsoft.Insights/components');
      const ofApp = all(s, 'Microsoft.Authorization/roleAssignments').filter((r) =>
        String((r.properties as { principalId: string }).principalId).includes(identity.id!),
      );
      const granted = ofApp
        .map((r) => {
          const role = String((r.properties as { roleDefinitionId: string }).roleDefinitionId)
            .split('/')
            .pop()!;
          // a role assignment's id is <scope>/providers/Microsoft.Authorization/roleAssignments/<name>
          const scope = r.id!.split('/providers/Microsoft.Authorization/roleAssignments/')[0];
          return `${role} on ${scope}`;
        })
        .sort();
      expect(granted).toEqual(
        [
          `b7e6dc6d-f1e8-4753-8033-0f276bb0955b on ${storage.id}`, // Storage Blob Data Owner
          `974c5e8b-45b9-4653-ba55-5f855dd0fb88 on ${storage.id}`, // Storage Queue Data Contributor
          `0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3 on ${storage.id}`, // Storage Table Data Contributor
          `4633458b-17de-408a-b874-0445c86b69e6 on ${vault.id}`, // Key Vault Secrets User
          `3913510d-42f4-4e42-8a64-420c390055eb on ${insights.id}`, // Monitoring Metrics Publisher
        ].sort(),
      );
    });

    it(`gives the deployment its own task hub${scenario.plan === 'flex' ? ' (Flex has no slots)' : ', slot-sticky'}`, () => {
      const hub = appSettings(snap())[SETTINGS.taskHubName]!;
      expect(hub).toMatch(TASK_HUB_NAME_RE);
      expect(hub).toMatch(/^StoreSubmitter[a-z0-9]{13}$/);
      expect(snap().outputs.TASK_HUB_NAME).toBe(hub);
      const sticky = siteConfig(snap(), 'slotConfigNames');
      if (scenario.plan === 'flex') expect(sticky).toBeUndefined();
      else
        expect((sticky?.properties as { appSettingNames?: string[] }).appSettingNames).toEqual([SETTINGS.taskHubName]);
    });

    it(
      scenario.eventGrid ? 'has the storage system topic for the Event Grid trigger' : 'has no Event Grid resources',
      () => {
        expect(all(snap(), 'Microsoft.EventGrid/systemTopics')).toHaveLength(scenario.eventGrid ? 1 : 0);
        expect(snap().outputs.BLOB_TRIGGER_SOURCE).toBe(scenario.eventGrid ? 'eventGrid' : 'polling');
        // The app registers its trigger with that source (functions/submissionBlob.ts, lib/triggerSource.ts).
        expect(appSettings(snap()).SUBMISSIONS_TRIGGER_SOURCE).toBe(
          scenario.eventGrid ? 'EventGrid' : 'LogsAndContainerScan',
        );
      },
    );
  });

  it('names a different task hub for another environment on the same subscription', () => {
    const hub = (s: Snapshot): string => appSettings(s)[SETTINGS.taskHubName]!;
    const other = snapshot('main.bicep', mainParams({ environmentName: 'staging' }));
    expect(hub(other)).toMatch(TASK_HUB_NAME_RE);
    expect(hub(other)).not.toBe(hub(snapshots.get(SCENARIOS[0].label)!));
  });

  it('refuses the polling trigger on Flex Consumption, as the host would', () => {
    expect(() => snapshot('main.bicep', mainParams({ blobTriggerSource: 'polling' }))).toThrow(
      /polling is not possible on Flex Consumption/,
    );
  });

  it('outputs every value the postdeploy hook reads', () => {
    const outputs = snapshots.get(SCENARIOS[0].label)!.outputs;
    expect(HOOK_INPUTS.filter((n) => !(n in outputs))).toEqual([]);
  });

  it('subscribes the registered blob trigger to BlobCreated events of .zip blobs in the container, through the blob extension webhook', () => {
    const blobTrigger = app.functions.filter((f) => f.trigger === 'blobTrigger');
    expect(blobTrigger).toHaveLength(1);
    const outputs = snapshots.get(SCENARIOS[0].label)!.outputs as Record<string, string>;
    expect(outputs.BLOB_TRIGGER_FUNCTION_NAME).toBe(blobTrigger[0]!.name);

    // what the hook passes, and only what the template takes
    const args = eventGridDeployment(Object.fromEntries(HOOK_INPUTS.map((n) => [n, outputs[n] ?? n])) as never, root);
    const at = args.indexOf('--parameters');
    const passed = Object.fromEntries(
      args.slice(at + 1, args.indexOf('--output')).map((a) => a.split('=') as [string, string]),
    );
    const s = snapshot('eventgrid.bicep', passed);
    const sub = one(s, 'Microsoft.EventGrid/systemTopics/eventSubscriptions').properties as {
      destination: { endpointType: string; properties: { endpointUrl: string } };
      filter: { includedEventTypes: string[]; subjectBeginsWith: string; subjectEndsWith: string };
      deadLetterWithResourceIdentity: { deadLetterDestination: { properties: { blobContainerName: string } } };
    };
    expect(sub.destination.endpointType).toBe('WebHook');
    // https://<app host>/runtime/webhooks/blobs?functionName=Host.Functions.<name>&code=<blobs_extension key>
    const url =
      /^\[format\('https:\/\/\{0\}\/runtime\/webhooks\/blobs\?functionName=Host\.Functions\.\{1\}&code=\{2\}', reference\('[^']+\/Microsoft\.Web\/sites\/([^'/]+)', '[^']+'\)\.defaultHostName, '([^']+)', listKeys\('[^']+\/Microsoft\.Web\/sites\/([^'/]+)\/host\/default', '[^']+'\)\.systemKeys\.blobs_extension\)\]$/.exec(
        sub.destination.properties.endpointUrl,
      );
    expect(url?.slice(1)).toEqual([
      outputs.AZURE_FUNCTION_APP_NAME,
      blobTrigger[0]!.name,
      outputs.AZURE_FUNCTION_APP_NAME,
    ]);
    expect(sub.filter.includedEventTypes).toEqual(['Microsoft.Storage.BlobCreated']);
    expect(sub.filter.subjectBeginsWith).toBe(`/blobServices/default/containers/${outputs.SUBMISSIONS_CONTAINER}/`);
    expect(sub.filter.subjectEndsWith).toBe('.zip');
    expect(sub.deadLetterWithResourceIdentity.deadLetterDestination.properties.blobContainerName).toBe(
      outputs.DEAD_LETTER_CONTAINER,
    );
  });
});
