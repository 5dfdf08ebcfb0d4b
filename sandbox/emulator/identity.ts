import {
  KeyObject,
  X509Certificate,
  constants,
  createHash,
  createPublicKey,
  randomBytes,
  randomUUID,
  verify,
} from 'node:crypto';
import { type Reply, json } from './http';

export const STORE_RESOURCE = 'https://manage.devcenter.microsoft.com';
export const STORE_SCOPE = `${STORE_RESOURCE}/.default`;
/**
 * The Store's submission API for MSI/EXE apps is another resource: its tokens are asked for with
 * this scope (windows-dev-docs hub/apps/publish/store-submission-api.md, "Obtain an Azure AD
 * access token"; msstore-cli MSStore.API/StoreAPI.cs L101) and are no good for the v1.0 API.
 */
export const WIN32_RESOURCE = 'https://api.store.microsoft.com';
export const WIN32_SCOPE = `${WIN32_RESOURCE}/.default`;
/** The resources this tenant's app registration may get tokens for; a token is good for one of them only. */
const RESOURCES = new Set([STORE_RESOURCE, WIN32_RESOURCE]);
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Scopes MSAL may add to any request; they do not change what the token is for. */
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access']);

export interface IssuedToken {
  tenantId: string;
  clientId: string;
  expiresAt: number;
  /** The resource the token was issued for (its `aud`). */
  audience: string;
}

/**
 * The Partner Center role of an Azure AD application: only Manager may use the submission API
 * (create-and-manage-submissions-using-windows-store-services.md: "Make sure you assign this
 * application the Manager role"). 'none': registered in Azure AD but never added to Partner Center.
 */
export type PartnerCenterRole = 'Manager' | 'Developer' | 'none';

interface Registration {
  clientId: string;
  role: PartnerCenterRole;
  secret: string;
  /** Client secrets expire (at most 24 months); after this the token endpoint refuses it (AADSTS7000222). */
  secretExpiresAt?: number;
  certificates: Array<{ sha1: Buffer; sha256: Buffer; key: KeyObject }>;
  federated: Array<{
    issuer: string;
    subject: string;
    audience: string;
    keys: Array<{ kid?: string; key: KeyObject }>;
  }>;
}

export interface RegistrationView {
  clientId: string;
  role: PartnerCenterRole;
  secretExpiresAt?: string;
  certificates: string[];
  federated: Array<{ issuer: string; subject: string; audience: string }>;
}

export type TokenCheck =
  | { ok: true; tenantId: string; clientId: string; role: PartnerCenterRole }
  | { ok: false; reason: 'missing' | 'unknown' | 'expired' | 'audience' };

/**
 * The Azure AD (Entra ID) side: one tenant with one app registration, the v2 and v1 client
 * credentials token endpoints, and the discovery documents MSAL reads first.
 */
export class Identity {
  readonly tenantId = '5f8a7c1e-2b4d-4e6f-9a0b-3c5d7e9f1a2b';
  readonly clientId = '8d3b6a2f-1c4e-4f7a-b9d0-6e2c4a8f0b13';
  readonly clientSecret = `emu~${randomBytes(24).toString('base64url')}`;
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly registrations = new Map<string, Registration>();

  constructor(private readonly lifetimeSeconds: () => number) {
    this.registrations.set(this.clientId, {
      clientId: this.clientId,
      role: 'Manager',
      secret: this.clientSecret,
      certificates: [],
      federated: [],
    });
  }

  /** Every access token ever issued by this instance (for the leak check). */
  issuedTokens(): string[] {
    return [...this.tokens.keys()];
  }

  /** Every client secret of every registration (for the leak check). */
  clientSecrets(): string[] {
    return [...this.registrations.values()].map((r) => r.secret);
  }

  /** Checks a bearer token for `audience` (default: the v1.0 API): a token for another resource is refused. */
  check(authorization: string | undefined, now = Date.now(), audience: string = STORE_RESOURCE): TokenCheck {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match?.[1]) return { ok: false, reason: 'missing' };
    const token = this.tokens.get(match[1]);
    if (!token) return { ok: false, reason: 'unknown' };
    if (now >= token.expiresAt) return { ok: false, reason: 'expired' };
    if (token.audience !== audience) return { ok: false, reason: 'audience' };
    const role = this.registrations.get(token.clientId)?.role ?? 'none';
    return { ok: true, tenantId: token.tenantId, clientId: token.clientId, role };
  }

  // ---- app registrations, for the admin API ----

  /** A new Azure AD application in the tenant, with a client secret, in Partner Center with `role`. */
  register(options: { role?: PartnerCenterRole; secretExpiresAt?: string } = {}): {
    clientId: string;
    clientSecret: string;
  } {
    const registration: Registration = {
      clientId: randomUUID(),
      role: options.role ?? 'Manager',
      secret: `emu~${randomBytes(24).toString('base64url')}`,
      secretExpiresAt: options.secretExpiresAt ? parseDate(options.secretExpiresAt) : undefined,
      certificates: [],
      federated: [],
    };
    this.registrations.set(registration.clientId, registration);
    return { clientId: registration.clientId, clientSecret: registration.secret };
  }

  update(clientId: string, change: { role?: PartnerCenterRole; secretExpiresAt?: string | null }): RegistrationView {
    const r = this.registration(clientId);
    if (change.role !== undefined) r.role = checkRole(change.role);
    if (change.secretExpiresAt !== undefined) {
      r.secretExpiresAt = change.secretExpiresAt === null ? undefined : parseDate(change.secretExpiresAt);
    }
    return view(r);
  }

  /** Registers a certificate (PEM) whose key signs client assertions; answers its SHA-1 thumbprint. */
  addCertificate(clientId: string, pem: string): { thumbprint: string } {
    const cert = new X509Certificate(pem);
    const sha1 = createHash('sha1').update(cert.raw).digest();
    this.registration(clientId).certificates.push({
      sha1,
      sha256: createHash('sha256').update(cert.raw).digest(),
      key: cert.publicKey,
    });
    return { thumbprint: sha1.toString('hex').toUpperCase() };
  }

  /** A federated identity credential: tokens of `issuer` for `subject` and `audience`, signed by one of `jwks.keys`. */
  addFederated(
    clientId: string,
    credential: { issuer: string; subject: string; audience?: string; jwks: { keys: Array<Record<string, unknown>> } },
  ): void {
    if (
      typeof credential.issuer !== 'string' ||
      typeof credential.subject !== 'string' ||
      !Array.isArray(credential.jwks?.keys)
    ) {
      throw new TypeError('a federated credential needs issuer, subject and jwks.keys');
    }
    this.registration(clientId).federated.push({
      issuer: credential.issuer,
      subject: credential.subject,
      audience: credential.audience ?? 'api://AzureADTokenExchange',
      keys: credential.jwks.keys.map((jwk) => ({
        kid: typeof jwk.kid === 'string' ? jwk.kid : undefined,
        key: createPublicKey({ key: jwk as never, format: 'jwk' }),
      })),
    });
  }

  registrationsView(): RegistrationView[] {
    return [...this.registrations.values()].map(view);
  }

  private registration(clientId: string): Registration {
    const r = this.registrations.get(clientId.toLowerCase());
    if (!r) throw new TypeError(`no app registration ${clientId}`);
    return r;
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
      return this.token(tenant, form, authorization, rest === 'oauth2/token', origin);
    }
    return undefined;
  }

  private knowsTenant(tenant: string): boolean {
    return tenant.toLowerCase() === this.tenantId;
  }

  private token(
    tenant: string,
    form: URLSearchParams,
    authorization: string | undefined,
    v1: boolean,
    origin: string,
  ): Reply {
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
    const registration = this.registrations.get(clientId.toLowerCase());
    if (!registration) {
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
      const tokenEndpoint = `${origin}/${tenant}/${v1 ? 'oauth2/token' : 'oauth2/v2.0/token'}`;
      const problem = this.assertionProblem(assertion, registration, tokenEndpoint);
      if (problem) return this.aadError(401, 'invalid_client', problem.code, problem.message);
    } else if (secret === null) {
      return this.aadError(
        401,
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    } else if (secret !== registration.secret) {
      // Never echo the secret that was sent.
      return this.aadError(
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${registration.clientId}'.`,
      );
    } else if (registration.secretExpiresAt !== undefined && Date.now() >= registration.secretExpiresAt) {
      // Secrets expire after at most 24 months; the message as users report it (Azure-Samples/ms-identity-python-webapp#67, dotnet/sign#849).
      return this.aadError(
        401,
        'invalid_client',
        7000222,
        `The provided client secret keys for app '${registration.clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
      );
    }

    let audience: string;
    if (v1) {
      const resource = (form.get('resource') ?? '').replace(/\/+$/, '');
      audience = resource;
      if (!RESOURCES.has(resource)) {
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
      audience = scopes[0].slice(0, -'/.default'.length);
      if (!RESOURCES.has(audience)) {
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
      clientId: registration.clientId,
      expiresAt: now + lifetime * 1000,
      audience,
    });
    if (v1) {
      const seconds = Math.floor(now / 1000);
      return json(200, {
        token_type: 'Bearer',
        expires_in: String(lifetime),
        ext_expires_in: String(lifetime),
        expires_on: String(seconds + lifetime),
        not_before: String(seconds),
        resource: audience,
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

  /**
   * Certificate and federated credentials send a signed JWT (certificate-credentials of the
   * Microsoft identity platform docs; workload identity federation). A certificate assertion has
   * iss = sub = the client id, aud = the token endpoint it is sent to (MSAL.NET #3352: they must
   * match), x5t or x5t#S256 naming a certificate registered on the app, and an RS256 or PS256
   * signature by its key. A federated assertion is checked against the app's federated
   * credentials: issuer, subject and audience, and a signature by one of the issuer's keys.
   */
  private assertionProblem(
    assertion: string,
    registration: Registration,
    tokenEndpoint: string,
  ): { code: number; message: string } | undefined {
    const parts = assertion.split('.');
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      if (parts.length !== 3) throw new Error('parts');
      header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      return { code: 50027, message: 'Invalid JWT token. The token is not in a valid format.' };
    }
    const now = Date.now() / 1000;
    if (
      typeof claims.exp !== 'number' ||
      claims.exp < now ||
      (typeof claims.nbf === 'number' && claims.nbf > now + 300)
    ) {
      return { code: 700024, message: 'Client assertion is not within its valid time range.' };
    }
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
    const signature = Buffer.from(parts[2]!, 'base64url');
    const iss = typeof claims.iss === 'string' ? claims.iss : '';
    const sub = typeof claims.sub === 'string' ? claims.sub : '';
    const aud = typeof claims.aud === 'string' ? claims.aud : '';

    if (iss.toLowerCase() === registration.clientId) {
      if (sub.toLowerCase() !== registration.clientId) {
        return {
          code: 700021,
          message: "Client assertion application identifier doesn't match 'client_id' parameter.",
        };
      }
      if (aud.toLowerCase() !== tokenEndpoint.toLowerCase()) {
        return {
          code: 50013,
          message: `Assertion failed signature validation. [Reason - The audience '${aud}' of the client assertion is not the token endpoint '${tokenEndpoint}'.]`,
        };
      }
      const x5t = typeof header['x5t#S256'] === 'string' ? header['x5t#S256'] : header.x5t;
      const thumbprint = typeof x5t === 'string' ? Buffer.from(x5t, 'base64url') : Buffer.alloc(0);
      const cert = registration.certificates.find((c) => c.sha1.equals(thumbprint) || c.sha256.equals(thumbprint));
      if (!cert) {
        return {
          code: 700027,
          message: `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${thumbprint.toString('hex').toUpperCase()}']`,
        };
      }
      if (!verifySignature(header.alg, signed, signature, cert.key)) {
        return { code: 700027, message: 'Client assertion failed signature validation.' };
      }
      return undefined;
    }

    const byIssuer = registration.federated.filter((f) => f.issuer === iss);
    if (byIssuer.length === 0) {
      return {
        code: 700211,
        message: `No matching federated identity record found for presented assertion issuer '${iss}'.`,
      };
    }
    const bySubject = byIssuer.filter((f) => f.subject === sub);
    if (bySubject.length === 0) {
      return {
        code: 700213,
        message: `No matching federated identity record found for presented assertion subject '${sub}'.`,
      };
    }
    const credential = bySubject.find((f) => f.audience === aud);
    if (!credential) {
      return {
        code: 700212,
        message: `No matching federated identity record found for presented assertion audience '${aud}'.`,
      };
    }
    const keys = credential.keys.filter((k) => header.kid === undefined || k.kid === undefined || k.kid === header.kid);
    if (!keys.some((k) => verifySignature(header.alg, signed, signature, k.key))) {
      return { code: 700027, message: 'Client assertion failed signature validation.' };
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

function verifySignature(alg: unknown, data: Buffer, signature: Buffer, key: KeyObject): boolean {
  try {
    if (alg === 'RS256') return verify('sha256', data, key, signature);
    if (alg === 'PS256') {
      return verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature);
    }
  } catch {
    return false;
  }
  return false;
}

function parseDate(value: string): number {
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new TypeError(`not a date: ${value}`);
  return t;
}

function checkRole(role: unknown): PartnerCenterRole {
  if (role !== 'Manager' && role !== 'Developer' && role !== 'none')
    throw new TypeError("role must be 'Manager', 'Developer' or 'none'");
  return role;
}

function view(r: Registration): RegistrationView {
  return {
    clientId: r.clientId,
    role: r.role,
    ...(r.secretExpiresAt !== undefined ? { secretExpiresAt: new Date(r.secretExpiresAt).toISOString() } : {}),
    certificates: r.certificates.map((c) => c.sha1.toString('hex').toUpperCase()),
    federated: r.federated.map(({ issuer, subject, audience }) => ({ issuer, subject, audience })),
  };
}
