import { loadConfig } from '../../lib/config';
import { ConfigurationError } from '../../lib/errors';
import { MINIMAL_SETTINGS } from '../helpers/settings';

const minimal = MINIMAL_SETTINGS;

describe('loadConfig', () => {
  it('applies defaults and infers the credential kind', () => {
    const c = loadConfig(minimal);
    expect(c.store.credentialKind).toBe('secret');
    expect(c.store.apiBaseUrl).toBe('https://manage.devcenter.microsoft.com/v1.0/my/');
    expect(c.store.tokenScope).toBe('https://manage.devcenter.microsoft.com/.default');
    expect(c.reportsContainer).toBe('submission-reports');
    expect(c.polling.firstIntervalSeconds).toBe(30);
  });

  it('names every missing or malformed setting in one error', () => {
    let error: unknown;
    try {
      loadConfig({
        STORE_CLIENT_ID: 'client',
        STORE_CREDENTIAL: 'secret',
        UPLOAD_CONCURRENCY: 'lots',
        STORE_API_BASE_URL: 'not a url',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    const message = (error as Error).message;
    for (const name of [
      'TASK_HUB_NAME',
      'SUBMISSIONS_STORAGE',
      'SUBMISSIONS_CONTAINER',
      'STORE_TENANT_ID',
      'STORE_CLIENT_SECRET',
      'UPLOAD_CONCURRENCY',
      'STORE_API_BASE_URL',
    ]) {
      expect(message).toContain(name);
    }
  });

  it('accepts an identity-based storage connection and managed identity without a secret', () => {
    const c = loadConfig({
      TASK_HUB_NAME: 'StoreSubmitterTest',
      PURGE_SCHEDULE: '0 30 3 * * *',
      SUBMISSIONS_STORAGE__blobServiceUri: 'https://acct.blob.core.windows.net',
      SUBMISSIONS_STORAGE__queueServiceUri: 'https://acct.queue.core.windows.net',
      SUBMISSIONS_CONTAINER: 'submissions',
      STORE_TENANT_ID: 'tenant',
      STORE_CREDENTIAL: 'managedIdentity',
    });
    expect(c.store.credentialKind).toBe('managedIdentity');
    expect(c.submissionsStorage).toBe('SUBMISSIONS_STORAGE');
  });

  it('adds the trailing slash the API base URL needs for relative paths', () => {
    expect(loadConfig({ ...minimal, STORE_API_BASE_URL: 'http://127.0.0.1:7080/v1.0/my' }).store.apiBaseUrl).toBe(
      'http://127.0.0.1:7080/v1.0/my/',
    );
  });

  describe('the task hub name (TASK_HUB_NAME, host.json hubName)', () => {
    const problemsOf = (env: Record<string, string>): string[] => {
      try {
        loadConfig(env);
        return [];
      } catch (e) {
        return (e as ConfigurationError).problems;
      }
    };

    it('is required: host.json takes the hub from it', () => {
      const { TASK_HUB_NAME: _dropped, ...rest } = minimal;
      expect(problemsOf(rest)).toEqual(['TASK_HUB_NAME is not set']);
      expect(loadConfig(minimal).taskHubName).toBe('StoreSubmitterTest');
    });

    it.each(['abc', 'StoreSubmitter1a2b3c4d5e6f7', 'A'.repeat(45)])('takes %s', (name) => {
      expect(loadConfig({ ...minimal, TASK_HUB_NAME: name }).taskHubName).toBe(name);
    });

    it.each([
      ['two characters', 'ab'],
      ['46 characters', 'A'.repeat(46)],
      ['a digit first', '1StoreSubmitter'],
      ['a hyphen', 'Store-Submitter'],
      ['an underscore', 'Store_Submitter'],
      ['an unresolved expression', '%TASK_HUB_NAME%'],
    ])('refuses %s at start, naming the setting and the rule', (_what, name) => {
      const problems = problemsOf({ ...minimal, TASK_HUB_NAME: name });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^TASK_HUB_NAME must be 3 to 45 letters and digits, starting with a letter/);
      expect(problems[0]).toContain(`"${name}"`);
    });
  });

  describe('identity-based storage connections', () => {
    const identity = {
      ...minimal,
      SUBMISSIONS_STORAGE: '',
      SUBMISSIONS_STORAGE__blobServiceUri: 'https://acct.blob.core.windows.net',
      SUBMISSIONS_STORAGE__queueServiceUri: 'https://acct.queue.core.windows.net',
    };
    const problemsOf = (env: Record<string, string>): string[] => {
      try {
        loadConfig(env);
        return [];
      } catch (e) {
        return (e as ConfigurationError).problems;
      }
    };

    it('takes the blob and queue endpoints', () => {
      expect(loadConfig(identity).submissionsStorage).toBe('SUBMISSIONS_STORAGE');
    });

    it('requires __queueServiceUri beside __blobServiceUri: the blob trigger needs the queues', () => {
      const { SUBMISSIONS_STORAGE__queueServiceUri: _dropped, ...blobOnly } = identity;
      const problems = problemsOf(blobOnly);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^SUBMISSIONS_STORAGE__queueServiceUri is not set/);
      expect(problems[0]).toContain('Storage Queue Data Contributor');
    });

    it('refuses __serviceUri alone, which names the blob endpoint only', () => {
      const problems = problemsOf({
        ...minimal,
        SUBMISSIONS_STORAGE: '',
        SUBMISSIONS_STORAGE__serviceUri: 'https://acct.blob.core.windows.net',
      });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain('SUBMISSIONS_STORAGE__blobServiceUri and SUBMISSIONS_STORAGE__queueServiceUri');
    });

    it('names both forms when the connection is missing', () => {
      const { SUBMISSIONS_STORAGE: _dropped, ...none } = minimal;
      expect(problemsOf(none)).toEqual([
        'SUBMISSIONS_STORAGE (or SUBMISSIONS_STORAGE__blobServiceUri and SUBMISSIONS_STORAGE__queueServiceUri for an identity-based connection) is not set',
      ]);
    });

    it('requires the queue and table endpoints of an identity-based AzureWebJobsStorage (the task hub)', () => {
      const host = { AzureWebJobsStorage__blobServiceUri: 'https://acct.blob.core.windows.net' };
      expect(problemsOf({ ...identity, ...host }).map((p) => p.split(':')[0])).toEqual([
        'AzureWebJobsStorage__queueServiceUri is not set',
        'AzureWebJobsStorage__tableServiceUri is not set',
      ]);
      expect(
        problemsOf({
          ...identity,
          ...host,
          AzureWebJobsStorage__queueServiceUri: 'https://acct.queue.core.windows.net',
          AzureWebJobsStorage__tableServiceUri: 'https://acct.table.core.windows.net',
        }),
      ).toEqual([]);
      // a connection string is the host's business
      expect(problemsOf({ ...identity, AzureWebJobsStorage: 'UseDevelopmentStorage=true' })).toEqual([]);
    });
  });

  describe('the history purge settings', () => {
    const problemsOf = (env: Record<string, string>): string[] => {
      try {
        loadConfig(env);
        return [];
      } catch (e) {
        return (e as ConfigurationError).problems;
      }
    };

    it('keeps 30 days by default and takes 0 (every ended instance)', () => {
      expect(loadConfig(minimal).history).toEqual({ retentionDays: 30, purgeSchedule: '0 30 3 * * *' });
      expect(loadConfig({ ...minimal, HISTORY_RETENTION_DAYS: '0' }).history.retentionDays).toBe(0);
    });

    it('requires the schedule the timer binding names, in six fields', () => {
      const { PURGE_SCHEDULE: _dropped, ...rest } = minimal;
      expect(problemsOf(rest)).toEqual(['PURGE_SCHEDULE is not set']);
      expect(problemsOf({ ...minimal, PURGE_SCHEDULE: '30 3 * * *' })[0]).toMatch(
        /^PURGE_SCHEDULE must be a six-field NCRONTAB expression/,
      );
      expect(problemsOf({ ...minimal, HISTORY_RETENTION_DAYS: '-1' })[0]).toMatch(
        /^HISTORY_RETENTION_DAYS must be a number/,
      );
    });
  });
});
