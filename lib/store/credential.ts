/**
 * The Store API credential: one `@azure/identity` credential per process and configuration,
 * chosen by `STORE_CREDENTIAL`, wrapped so that the client can force a really new token after
 * a 401 (identity's credentials cache their tokens and expose no "refresh now"). The same
 * credential serves both Store APIs: the scope is asked for per token (the MSI/EXE API takes the
 * same Azure AD app, with the Manager role, as the v1.0 API: windows-dev-docs
 * hub/apps/publish/store-submission-api.md, "How to associate an Azure AD application").
 */
import { createHash } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import {
  AzureAuthorityHosts,
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  WorkloadIdentityCredential,
  type AccessToken,
  type GetTokenOptions,
  type TokenCredential,
} from '@azure/identity';
import type { Config } from '../config';
import { ConfigurationError } from '../errors';
import { registerSecret } from '../redact';
import { tokenError, withTokenDeadline, type RefreshableCredential } from './policies';

export interface CredentialExtras {
  /** PEM of extra CAs to trust for the authority host (an emulated token endpoint), on top of the public roots. */
  caCertificates?: string;
}

/** Building a new credential (and so a new token) at most this often, however many 401s arrive. */
const MIN_RENEW_INTERVAL_MS = 10_000;

const PUBLIC_AUTHORITY_HOSTS = new Set(
  [
    AzureAuthorityHosts.AzurePublicCloud,
    AzureAuthorityHosts.AzureGovernment,
    AzureAuthorityHosts.AzureChina,
    'https://login.windows.net',
    'https://login.microsoftonline.de',
    'https://login.partner.microsoftonline.cn',
  ].map((h) => new URL(h).hostname),
);

/** Instance discovery only knows Microsoft's clouds; any other authority (an emulator, ADFS) must skip it. */
export function isPublicAuthority(authorityHost: string): boolean {
  try {
    return PUBLIC_AUTHORITY_HOSTS.has(new URL(authorityHost).hostname.toLowerCase());
  } catch {
    return false;
  }
}

class StoreCredential implements RefreshableCredential {
  private inner: TokenCredential;
  private renewedAt = 0;

  constructor(private readonly build: () => TokenCredential) {
    this.inner = build();
  }

  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    return this.inner.getToken(scopes, options).then(remember);
  }

  /** A fresh credential has an empty token cache, so the token it returns is newly issued. */
  refreshToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    if (Date.now() - this.renewedAt >= MIN_RENEW_INTERVAL_MS) {
      this.inner = this.build();
      this.renewedAt = Date.now();
    }
    return this.getToken(scopes, options);
  }
}

function remember(token: AccessToken | null): AccessToken | null {
  if (token) registerSecret(token.token);
  return token;
}

function build(store: Config['store'], extras: CredentialExtras): () => TokenCredential {
  const common = {
    authorityHost: store.authorityHost,
    ...(isPublicAuthority(store.authorityHost) ? {} : { disableInstanceDiscovery: true }),
    ...(extras.caCertificates ? { tlsOptions: { ca: [...rootCertificates, extras.caCertificates] } } : {}),
  };
  switch (store.credentialKind) {
    case 'secret': {
      const secret = store.clientSecret;
      if (!secret) throw new ConfigurationError('STORE_CLIENT_SECRET is not set', ['STORE_CLIENT_SECRET is not set']);
      // App Service passes a Key Vault reference it could not resolve on as its own text
      // (learn.microsoft.com/azure/app-service/app-service-key-vault-references, "Troubleshoot").
      // Sent as a secret it would only earn an "invalid client secret" from Entra ID.
      if (/^@Microsoft\.KeyVault\(/i.test(secret.trim())) {
        const problem = `STORE_CLIENT_SECRET is a Key Vault reference that App Service could not resolve (${secret.trim()}): the secret does not exist yet, or the app's identity may not read it (Key Vault Secrets User). Set the secret, then restart the app.`;
        throw new ConfigurationError(problem, [problem]);
      }
      registerSecret(secret);
      return () => new ClientSecretCredential(store.tenantId, store.clientId, secret, common);
    }
    case 'certificate': {
      const certificatePath = store.clientCertificatePath;
      if (!certificatePath)
        throw new ConfigurationError('STORE_CLIENT_CERTIFICATE_PATH is not set', [
          'STORE_CLIENT_CERTIFICATE_PATH is not set',
        ]);
      return () => new ClientCertificateCredential(store.tenantId, store.clientId, { certificatePath }, common);
    }
    case 'managedIdentity':
      // The token comes from the host's identity endpoint; authority settings do not apply.
      return () =>
        store.clientId ? new ManagedIdentityCredential({ clientId: store.clientId }) : new ManagedIdentityCredential();
    case 'workloadIdentity':
      // The federated token file comes from AZURE_FEDERATED_TOKEN_FILE, as the platform sets it.
      return () => new WorkloadIdentityCredential({ tenantId: store.tenantId, clientId: store.clientId, ...common });
  }
}

const credentials = new Map<string, StoreCredential>();

function keyOf(store: Config['store'], extras: CredentialExtras): string {
  const digest = (s: string | undefined): string | undefined =>
    s ? createHash('sha256').update(s).digest('hex') : undefined;
  return JSON.stringify([
    store.credentialKind,
    store.tenantId,
    store.clientId,
    store.authorityHost,
    store.clientCertificatePath,
    digest(store.clientSecret),
    digest(extras.caCertificates),
  ]);
}

/** The process's credential for these settings (built once, reused by every client). */
export function storeCredential(
  store: Config['store'],
  extras: CredentialExtras = {},
): TokenCredential & RefreshableCredential {
  const key = keyOf(store, extras);
  let credential = credentials.get(key);
  if (!credential) {
    credential = new StoreCredential(build(store, extras));
    credentials.set(key, credential);
  }
  return credential;
}

/**
 * Proves a Store token can be had for `scope` (the v1.0 API's by default; the MSI/EXE API asks for
 * its own, `https://api.store.microsoft.com/.default`, with the same identity); returns when it
 * expires and never the token itself.
 */
export async function checkCredential(
  store: Config['store'],
  extras: CredentialExtras = {},
  scope: string = store.tokenScope,
): Promise<{ expiresOnTimestamp: number }> {
  let token: AccessToken | null;
  try {
    token = await withTokenDeadline(storeCredential(store, extras).getToken(scope), store.requestTimeoutMs);
  } catch (e) {
    // Settings that cannot make a credential are the user's to fix, not a token failure to retry.
    if (e instanceof ConfigurationError) throw e;
    throw tokenError(e);
  }
  if (!token) throw tokenError(new Error('the credential returned no token'));
  return { expiresOnTimestamp: token.expiresOnTimestamp };
}
