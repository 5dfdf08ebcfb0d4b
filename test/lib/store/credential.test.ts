import { loadConfig } from '../../../lib/config';
import { ConfigurationError } from '../../../lib/errors';
import { checkCredential } from '../../../lib/store/credential';

const env = {
  TASK_HUB_NAME: 'StoreSubmitterTest',
  PURGE_SCHEDULE: '0 30 3 * * *',
  SUBMISSIONS_STORAGE: 'UseDevelopmentStorage=true',
  SUBMISSIONS_CONTAINER: 'submissions',
  STORE_TENANT_ID: '00000000-0000-0000-0000-000000000001',
  STORE_CLIENT_ID: '00000000-0000-0000-0000-000000000002',
  // what the app sees when App Service cannot resolve the reference: the reference itself
  STORE_CLIENT_SECRET: '@Microsoft.KeyVault(SecretUri=https://kv-test.vault.azure.net/secrets/store-client-secret)',
  // were a token asked for, it would be asked here, where nothing answers
  STORE_AUTHORITY_HOST: 'https://127.0.0.1:9/',
};

describe('the Store credential', () => {
  it('stops at once, naming the cause, when STORE_CLIENT_SECRET is a Key Vault reference App Service did not resolve', async () => {
    const store = loadConfig(env).store;
    const failure = await checkCredential(store).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(ConfigurationError);
    expect(failure).toMatchObject({ retriable: false });
    expect((failure as Error).message).toMatch(/Key Vault reference that App Service could not resolve/);
    expect((failure as Error).message).toContain('Key Vault Secrets User');
  });
});
