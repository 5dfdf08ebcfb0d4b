/**
 * The fewest app settings lib/config.ts accepts (a secret credential, a connection string), for
 * unit tests of one setting: each test adds or changes what it is about. One fixture, so a
 * setting that becomes required is added here once.
 */
export const MINIMAL_SETTINGS: Readonly<Record<string, string>> = {
  TASK_HUB_NAME: 'StoreSubmitterTest',
  PURGE_SCHEDULE: '0 30 3 * * *',
  SUBMISSIONS_STORAGE: 'UseDevelopmentStorage=true',
  SUBMISSIONS_CONTAINER: 'submissions',
  STORE_TENANT_ID: 'tenant',
  STORE_CLIENT_ID: 'client',
  STORE_CLIENT_SECRET: 'not-a-real-secret',
};
