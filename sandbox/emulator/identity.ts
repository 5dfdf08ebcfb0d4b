import { randomBytes, randomUUID } from 'node:crypto';
import { type Reply, json } from './http';

export const STORE_RESOURCE = 'https://manage.devcenter.microsoft.com';
export const STORE_SCOPE = `${STORE_RESOURCE}/.default`;
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Scopes MSAL may add to any request; they do not change what the token is for. */
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access']);

export interface IssuedToken {
  tenantId: string;
  clientId: string;
  expiresAt: number;
}

export type TokenCheck = { ok: true; tenantId: string } | { ok: false; reason: 'missing' | 'unknown' | 'expired' };

/**
 * The Azure AD (Entra ID) side: one tenant with one app registration, the v2 and v1 client
 * credentials token endpoints, and the discovery documents MSAL reads first.
 */
export class Identity {
  readonly tenantId = '5f8a7c1e-2b4d-4e6f-9a0b-3c5d7e9f1a2b';
  readonly clientId = '8d3b6a2f-1c4e-4f7a-b9d0-6e2c4a8f0b13';
  readonly clientSecret = `emu~${randomBytes(24).toString('base64url')}`;
  private readonly tokens = new Map<string, IssuedToken>();

  constructor(private readonly lifetimeSeconds: () => number) {}

  /** Every access token ever issued by this instance (for the leak check). */
  issuedTokens(): string[] {
    return [...this.tokens.keys()];
  }

  check(authorization: string | undefined, now = Date.now()): TokenCheck {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match?.[1]) return { ok: false, reason: 'missing' };
    const token = this.tokens.get(match[1]);
    if (!token) return { ok: false, reason: 'unknown' };
    if (now >= token.expiresAt) return { ok: false, reason: 'expired' };
    return { ok: true, tenantId: token.tenantId };
  }

  /** Handles a request to the HTTPS authority host; `undefined` when the path is not one of ours. */
  handle(
    method: string,
    pathname: string,
    form: URLSearchParams,
    authorization: string | undefined,
    origin: string,
  ): Reply | undefined {
    const parts = pathname.split('/').filter(Boolean);
    const tenant = parts[0] ?? '';
    const rest = parts.slice(1).join('/').toLowerCase();
    if (method === 'GET' && rest === 'discovery/instance') return json(200, this.instanceDiscovery(origin));
    if (
      method === 'GET' &&
      (rest === 'v2.0/.well-known/openid-configuration' || rest === '.well-known/openid-configuration')
    ) {
      if (!this.knowsTenant(tenant))
        return this.aadError(400, 'invalid_tenant', 90002, `Tenant '${tenant}' not found.`);
      return json(200, this.openIdConfiguration(origin, rest.startsWith('v2.0')));
    }
    if (method === 'GET' && (rest === 'discovery/v2.0/keys' || rest === 'discovery/keys'))
      return json(200, { keys: [] });
    if (rest === 'oauth2/v2.0/token' || rest === 'oauth2/token') {
      if (method !== 'POST')
        return this.aadError(405, 'invalid_request', 900561, 'The endpoint only accepts POST requests.');
      return this.token(tenant, form, authorization, rest === 'oauth2/token');
    }
    return undefined;
  }

  private knowsTenant(tenant: string): boolean {
    return tenant.toLowerCase() === this.tenantId;
  }

  private token(tenant: string, form: URLSearchParams, authorization: string | undefined, v1: boolean): Reply {
    if (!this.knowsTenant(tenant))
      return this.aadError(
        400,
        'invalid_request',
        90002,
        `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID.`,
      );
    const grantType = form.get('grant_type');
    if (!grantType)
      return this.aadError(
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'grant_type'.",
      );
    if (grantType !== 'client_credentials')
      return this.aadError(
        400,
        'unsupported_grant_type',
        70003,
        `The app requested an unsupported grant type '${grantType}'.`,
      );

    let clientId = form.get('client_id');
    let secret = form.get('client_secret');
    const basic = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
    if (basic?.[1]) {
      const [id, pass] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
      clientId ??= decodeURIComponent(id ?? '');
      secret ??= decodeURIComponent(pass ?? '');
    }
    if (!clientId)
      return this.aadError(
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'client_id'.",
      );
    if (clientId.toLowerCase() !== this.clientId) {
      return this.aadError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`,
      );
    }

    const assertion = form.get('client_assertion');
    if (assertion !== null) {
      if (form.get('client_assertion_type') !== JWT_BEARER)
        return this.aadError(400, 'invalid_request', 700025, 'Client assertion type is not supported.');
      const problem = this.assertionProblem(assertion);
      if (problem) return this.aadError(401, 'invalid_client', problem.code, problem.message);
    } else if (secret === null) {
      return this.aadError(
        401,
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    } else if (secret !== this.clientSecret) {
      // Never echo the secret that was sent.
      return this.aadError(
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${this.clientId}'.`,
      );
    }

    if (v1) {
      const resource = (form.get('resource') ?? '').replace(/\/+$/, '');
      if (resource !== STORE_RESOURCE) {
        return this.aadError(
          400,
          'invalid_resource',
          500011,
          `The resource principal named ${resource || '(none)'} was not found in the tenant named ${tenant}.`,
        );
      }
    } else {
      const scopes = (form.get('scope') ?? '').split(/\s+/).filter((s) => s && !OIDC_SCOPES.has(s));
      if (scopes.length !== 1 || !scopes[0]?.endsWith('/.default')) {
        return this.aadError(
          400,
          'invalid_scope',
          1002012,
          `The provided value for scope ${scopes.join(' ')} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
        );
      }
      if (scopes[0] !== STORE_SCOPE) {
        return this.aadError(
          400,
          'invalid_resource',
          500011,
          `The resource principal named ${scopes[0].slice(0, -'/.default'.length)} was not found in the tenant named ${tenant}.`,
        );
      }
    }

    const lifetime = Math.max(1, Math.round(this.lifetimeSeconds()));
    const accessToken = randomBytes(32).toString('base64url');
    const now = Date.now();
    this.tokens.set(accessToken, {
      tenantId: this.tenantId,
      clientId: this.clientId,
      expiresAt: now + lifetime * 1000,
    });
    if (v1) {
      const seconds = Math.floor(now / 1000);
      return json(200, {
        token_type: 'Bearer',
        expires_in: String(lifetime),
        ext_expires_in: String(lifetime),
        expires_on: String(seconds + lifetime),
        not_before: String(seconds),
        resource: STORE_RESOURCE,
        access_token: accessToken,
      });
    }
    return json(200, {
      token_type: 'Bearer',
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: accessToken,
    });
  }

  /** Certificate and federated credentials send a JWT; its signature is not checked, its subject is. */
  private assertionProblem(assertion: string): { code: number; message: string } | undefined {
    const [, payload] = assertion.split('.');
    let claims: Record<string, unknown>;
    try {
      claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      return { code: 50027, message: 'Invalid JWT token. The token is not in a valid format.' };
    }
    const iss = typeof claims.iss === 'string' ? claims.iss.toLowerCase() : '';
    const sub = typeof claims.sub === 'string' ? claims.sub.toLowerCase() : '';
    if (iss !== this.clientId || sub !== this.clientId) {
      return { code: 700021, message: "Client assertion application identifier doesn't match 'client_id' parameter." };
    }
    if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) {
      return { code: 700024, message: 'Client assertion is not within its valid time range.' };
    }
    return undefined;
  }

  private aadError(status: number, error: string, code: number, description: string): Reply {
    const traceId = randomUUID();
    const correlationId = randomUUID();
    const timestamp = new Date()
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, 'Z');
    return json(status, {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
    });
  }

  private openIdConfiguration(origin: string, v2: boolean): Record<string, unknown> {
    const base = `${origin}/${this.tenantId}`;
    const oauth = v2 ? `${base}/oauth2/v2.0` : `${base}/oauth2`;
    return {
      token_endpoint: `${oauth}/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/${v2 ? 'v2.0/' : ''}keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: v2 ? `${base}/v2.0` : `${origin.replace('https://', 'https://sts.')}/${this.tenantId}/`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${origin}/oidc/userinfo`,
      authorization_endpoint: `${oauth}/authorize`,
      device_authorization_endpoint: `${oauth}/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${oauth}/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'tid', 'ver'],
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
    };
  }

  private instanceDiscovery(origin: string): Record<string, unknown> {
    const host = new URL(origin).host;
    return {
      tenant_discovery_endpoint: `${origin}/${this.tenantId}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    };
  }
}
