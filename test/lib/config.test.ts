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
      SUBMISSIONS_STORAGE__blobServiceUri: 'https://acct.blob.core.windows.net',
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
});
