import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { BLOB_WEBHOOK_PATH, handleBlobWebhook, type Deliver } from './blobWebhook';
import type { AddressInfo } from 'node:net';
import { extraInputs, text } from './bindings';
import type { RpcHttpData, RpcTypedData, RegisteredFunction, Worker } from './core';
import { RPC_BASE, WEBHOOK_BASE, type ApiRequest, type ApiResponse } from './durable/api';
import { BLOBS_SYSTEM_KEY, DURABLE_SYSTEM_KEY, opens, type HostKeys } from './keys';
import type { Logger } from './log';

interface Route {
  fn: RegisteredFunction;
  methods: Set<string>;
  regex: RegExp;
  params: string[];
  authLevel: string;
  /** Routes with more literal text win, as in ASP.NET routing. */
  score: number;
}

const CONSTRAINTS: Record<string, string> = {
  int: '-?\\d+',
  long: '-?\\d+',
  bool: '(?:true|false)',
  alpha: '[A-Za-z]+',
  guid: '[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}',
  double: '-?\\d+(?:\\.\\d+)?',
  float: '-?\\d+(?:\\.\\d+)?',
  decimal: '-?\\d+(?:\\.\\d+)?',
};

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Compiles a Functions route template (`items/{id:int}/{name?}`, `files/{*path}`) to a matcher. */
export function compileRoute(template: string): { regex: RegExp; params: string[]; score: number } {
  const params: string[] = [];
  let score = 0;
  const segments = template.replace(/^\/+|\/+$/g, '').split('/');
  let re = '';
  segments.forEach((segment, i) => {
    const sep = i === 0 ? '' : '/';
    const whole = /^\{(\*?)([^{}:=?]+)((?::[^{}:?=]+(?:\([^)]*\))?)*)(\?)?(?:=[^{}]*)?\}$/.exec(segment);
    if (whole && (whole[1] || whole[4])) {
      params.push(whole[2] as string);
      const body = whole[1] ? '.*' : constraintRe(whole[3] ?? '');
      re += `(?:${sep}(${body}))?`;
      return;
    }
    re += sep;
    let last = 0;
    const token = /\{([^{}:=?]+)((?::[^{}:?=]+(?:\([^)]*\))?)*)\??(?:=[^{}]*)?\}/g;
    let m: RegExpExecArray | null;
    while ((m = token.exec(segment))) {
      const literal = segment.slice(last, m.index);
      re += escapeRe(literal);
      score += literal.length;
      params.push(m[1] as string);
      re += `(${constraintRe(m[2] ?? '')})`;
      last = m.index + m[0].length;
    }
    const rest = segment.slice(last);
    re += escapeRe(rest);
    score += rest.length;
  });
  return { regex: new RegExp(`^${re}/?$`, 'i'), params, score };
}

function constraintRe(constraints: string): string {
  for (const c of constraints.split(':').filter(Boolean)) {
    const known = CONSTRAINTS[c.replace(/\(.*$/, '').toLowerCase()];
    if (known) return known;
  }
  return '[^/]+';
}

/** Who serves the Durable HTTP APIs: the sandbox's own engine, or the real extension behind the reference host. */
export interface DurableHttp {
  handle(req: ApiRequest): Promise<ApiResponse>;
  /** The `durableClient` input binding value. */
  clientData(): Record<string, unknown>;
  /** The extension serves the client's RPC API on a port of its own; the sandbox engine on this one. */
  servesRpcOnPublicPort?: boolean;
}

export interface HttpHostOptions {
  worker: Worker;
  logger: Logger;
  /** `api` unless host.json says otherwise. */
  routePrefix: string;
  hostId: string;
  /** With them, keys are required as by a deployed app (sandbox/host/keys.ts says which opens what). */
  keys?: HostKeys;
}

/** Serves the app's HTTP functions on `/api/...`, the Durable APIs, and `/admin/host/status`. */
export class HttpHost {
  private readonly routes: Route[] = [];
  private server: Server | undefined;
  private durable: DurableHttp | undefined;
  private adminInvoke: ((name: string) => boolean) | undefined;
  private blobWebhook: { functionIds: string[]; deliver: Deliver } | undefined;
  private ready = false;
  private readonly started = Date.now();

  constructor(private readonly o: HttpHostOptions) {
    for (const fn of o.worker.functions.values()) {
      if ((fn.trigger.type ?? '').toLowerCase() !== 'httptrigger') continue;
      const template = typeof fn.trigger.route === 'string' && fn.trigger.route !== '' ? fn.trigger.route : fn.name;
      const compiled = compileRoute(template);
      const methods = Array.isArray(fn.trigger.methods)
        ? (fn.trigger.methods as string[]).map((m) => m.toUpperCase())
        : [];
      this.routes.push({
        fn,
        methods: new Set(methods),
        ...compiled,
        authLevel: (text(fn.trigger.authLevel) || 'function').toLowerCase(),
      });
    }
    this.routes.sort((a, b) => b.score - a.score);
  }

  /** Route table for the start-up log: `GET,POST http://127.0.0.1:7071/api/items/{id}`. */
  /** The HTTP functions' names, for their keys. */
  functionNames(): string[] {
    return this.routes.map((r) => r.fn.name);
  }

  describeRoutes(origin: string): string[] {
    return this.routes.map((r) => {
      const template =
        typeof r.fn.trigger.route === 'string' && r.fn.trigger.route !== '' ? r.fn.trigger.route : r.fn.name;
      return `${r.fn.name}: [${[...r.methods].join(',') || 'ALL'}] ${origin}/${this.prefixPath()}${template}`;
    });
  }

  private prefixPath(): string {
    return this.o.routePrefix ? `${this.o.routePrefix}/` : '';
  }

  setKeys(keys: HostKeys): void {
    this.o.keys = keys;
  }

  setDurable(api: DurableHttp): void {
    this.durable = api;
  }

  /** The admin API's manual run of a non-HTTP function (`POST /admin/functions/{name}`). */
  setAdminInvoker(invoke: (name: string) => boolean): void {
    this.adminInvoke = invoke;
  }

  /** The blob extension's Event Grid webhook, for the blob triggers whose source is EventGrid. */
  setBlobWebhook(functionIds: string[], deliver: Deliver): void {
    if (functionIds.length > 0) this.blobWebhook = { functionIds, deliver };
  }

  setReady(): void {
    this.ready = true;
  }

  listen(port: number): Promise<number> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: Error) => {
        this.o.logger.error('Host', `request ${req.method} ${redactUrl(req.url)} failed in the host: ${e.message}`);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    this.server.keepAliveTimeout = 5000;
    const server = this.server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  }

  close(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    let path: string;
    try {
      path = decodeURI(url.pathname);
    } catch {
      return send(res, { status: 400 });
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const body = await readBody(req);
    const key = url.searchParams.get('code') ?? headerValue(req.headers['x-functions-key']);

    // A manual run, as the host's admin API does it: the master key, `{"input": "..."}`, 202 at once
    // (learn.microsoft.com/azure/azure-functions/functions-manually-run-non-http).
    const manual = /^\/admin\/functions\/([^/]+)$/.exec(path);
    if (manual && method === 'POST') {
      if (this.o.keys && !opens(this.o.keys, key, { kind: 'admin' })) return send(res, { status: 401 });
      if (!this.ready) return send(res, { status: 503, body: { Message: 'The host is starting' } });
      let input: unknown;
      try {
        input = body.length ? (JSON.parse(body.toString('utf8')) as { input?: unknown }).input : undefined;
      } catch {
        return send(res, { status: 400, body: { Message: 'The body must be JSON: {"input": "..."}' } });
      }
      if (input !== undefined && typeof input !== 'string')
        return send(res, { status: 400, body: { Message: 'input must be a string' } });
      const name = manual[1]!;
      if (![...this.o.worker.functions.keys()].some((n) => n.toLowerCase() === name.toLowerCase()))
        return send(res, { status: 404 });
      if (!this.adminInvoke?.(name))
        return send(res, {
          status: 400,
          body: { Message: `The sandbox host runs timer functions by hand only; '${name}' is not one` },
        });
      return send(res, { status: 202 });
    }

    if (path === '/admin/host/status' || path === '/admin/host/ping') {
      if (this.o.keys && !opens(this.o.keys, key, { kind: 'admin' })) return send(res, { status: 401 });
      return send(res, {
        status: 200,
        body: {
          id: this.o.hostId,
          state: this.ready ? 'Running' : 'Initialized',
          version: '4.x-sandbox',
          processUptime: Date.now() - this.started,
        },
      });
    }
    if (!this.ready) return send(res, { status: 503, body: { Message: 'The host is starting' } });

    if (path === BLOB_WEBHOOK_PATH) {
      if (!this.blobWebhook) return send(res, { status: 404 });
      // An extension's webhook: its system key (the subscription's `code`) or the master key.
      if (this.o.keys && !opens(this.o.keys, key, { kind: 'webhook', extension: BLOBS_SYSTEM_KEY }))
        return send(res, { status: 401 });
      return send(
        res,
        await handleBlobWebhook(
          { method, headers: req.headers, query: url.searchParams, body },
          this.blobWebhook.functionIds,
          this.blobWebhook.deliver,
        ),
      );
    }

    for (const [base, needsKey] of [
      [WEBHOOK_BASE, true],
      [RPC_BASE, false],
    ] as const) {
      if (path === base || path.startsWith(`${base}/`)) {
        if (!this.durable)
          return send(res, { status: 404, body: { Message: 'Durable Functions is not used by this app' } });
        if (base === RPC_BASE && this.durable.servesRpcOnPublicPort === false) return send(res, { status: 404 });
        if (needsKey && this.o.keys && !opens(this.o.keys, key, { kind: 'webhook', extension: DURABLE_SYSTEM_KEY }))
          return send(res, { status: 401 });
        const segments = url.pathname.slice(base.length).replace(/^\/+/, '').split('/').map(decodeURIComponent);
        return send(
          res,
          await this.durable.handle({
            method,
            segments,
            query: url.searchParams,
            headers: req.headers,
            body,
            rawUrl: req.url ?? '/',
          }),
        );
      }
    }

    const prefix = `/${this.prefixPath()}`;
    if (!path.toLowerCase().startsWith(prefix.toLowerCase())) return send(res, { status: 404 });
    const rest = path.slice(prefix.length);
    for (const route of this.routes) {
      const m = route.regex.exec(rest);
      if (!m) continue;
      if (route.methods.size > 0 && !route.methods.has(method)) continue;
      if (
        this.o.keys &&
        !opens(this.o.keys, key, { kind: 'function', name: route.fn.name, authLevel: route.authLevel })
      )
        return send(res, { status: 401 });
      const params: Record<string, string> = {};
      route.params.forEach((name, i) => {
        const v = m[i + 1];
        if (v !== undefined) params[name] = v;
      });
      return this.invoke(route.fn, req, url, method, params, body, res);
    }
    return send(res, { status: 404 });
  }

  private async invoke(
    fn: RegisteredFunction,
    req: IncomingMessage,
    url: URL,
    method: string,
    params: Record<string, string>,
    body: Buffer,
    res: ServerResponse,
  ): Promise<void> {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const http: RpcHttpData = {
      method,
      url: url.href,
      headers,
      query,
      params,
      body: body.length > 0 ? { bytes: body } : undefined,
    };
    let response;
    try {
      response = await this.o.worker.invoke(fn.name, {
        inputData: [
          { name: fn.triggerBindingName, data: { http } },
          ...extraInputs(fn, this.durable ? () => (this.durable as DurableHttp).clientData() : undefined),
        ],
        reason: `This function was programmatically called via the host APIs.`,
      });
    } catch {
      // The function's error is logged by the invocation; callers get what `func start` gives them.
      return send(res, { status: 500 });
    }
    const outName = Object.entries(fn.metadata.bindings).find(
      ([, b]) => b.direction === 'out' && (b.type ?? '').toLowerCase() === 'http',
    )?.[0];
    const data: RpcTypedData | null | undefined =
      outName === '$return' ? response.returnValue : response.outputData?.find((o) => o.name === outName)?.data;
    const out = data?.http;
    if (!out) return send(res, { status: 204 });
    const status = Number(out.statusCode ?? 200) || 200;
    const outHeaders: Record<string, string | string[]> = { ...(out.headers ?? {}) };
    const cookies = (out.cookies ?? []).map(formatCookie);
    if (cookies.length > 0) outHeaders['Set-Cookie'] = cookies;
    const b = out.body;
    const bytes = b?.bytes
      ? Buffer.from(b.bytes)
      : b?.string !== undefined && b?.string !== null
        ? Buffer.from(b.string)
        : Buffer.alloc(0);
    res.writeHead(status, outHeaders);
    res.end(bytes);
  }
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, r: ApiResponse): void {
  const headers: Record<string, string> = { ...(r.headers ?? {}) };
  let payload: Buffer;
  if (r.body === undefined || r.body === '') payload = Buffer.alloc(0);
  else if (Buffer.isBuffer(r.body)) payload = r.body;
  else if (typeof r.body === 'string') payload = Buffer.from(r.body);
  else {
    payload = Buffer.from(JSON.stringify(r.body));
    headers['Content-Type'] = 'application/json; charset=utf-8';
  }
  res.writeHead(r.status, headers);
  res.end(payload);
}

function redactUrl(url: string | undefined): string {
  return (url ?? '').replace(/([?&]code=)[^&]*/gi, '$1REDACTED');
}

function formatCookie(c: Record<string, unknown>): string {
  // Optional cookie fields arrive wrapped as `{ value }`.
  const v = (x: unknown): unknown => (x && typeof x === 'object' && 'value' in x ? x.value : undefined);
  const parts = [`${text(c.name)}=${text(c.value)}`];
  const domain = text(v(c.domain));
  if (domain) parts.push(`Domain=${domain}`);
  const path = text(v(c.path));
  if (path) parts.push(`Path=${path}`);
  const expires = v(c.expires) as { seconds?: number } | undefined;
  if (expires?.seconds) parts.push(`Expires=${new Date(expires.seconds * 1000).toUTCString()}`);
  const maxAge = v(c.maxAge);
  if (typeof maxAge === 'number') parts.push(`Max-Age=${maxAge}`);
  if (v(c.secure)) parts.push('Secure');
  if (v(c.httpOnly)) parts.push('HttpOnly');
  const sameSite = text(c.sameSite);
  if (sameSite === 'lax') parts.push('SameSite=Lax');
  else if (sameSite === 'strict') parts.push('SameSite=Strict');
  else if (sameSite === 'explicitNone') parts.push('SameSite=None');
  return parts.join('; ');
}
