import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { type Server as HttpsServer, createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { handleAdmin } from './admin';
import type { EmulatorCore, RequestLogEntry } from './core';
import type { HttpFault, ServerName } from './faults';
import { HttpError, type Reply, apiError, empty, envelope, json, readSmallBody, writeReply } from './http';
import { matchRoute } from './routes';
import type { ApiContext } from './routes/context';
import { WIN32_PREFIX } from './win32';

const API_PREFIX = /^\/v1\.0\/my(\/|$)/i;
const JSON_BODY_LIMIT = 10 * 1024 * 1024;

export interface Listeners {
  http: Server;
  https: HttpsServer;
  port: number;
  tlsPort: number;
}

export async function listen(
  core: EmulatorCore,
  ports: { port?: number; tlsPort?: number },
  tls: { cert: Buffer; key: Buffer },
): Promise<Listeners> {
  const http = createServer((req, res) => void onHttp(core, req, res));
  const https = createHttpsServer(tls, (req, res) => void onHttps(core, req, res));
  const port = await bind(http, ports.port ?? 0);
  const tlsPort = await bind(https, ports.tlsPort ?? 0).catch(async (e) => {
    await close(http);
    throw e;
  });
  return { http, https, port, tlsPort };
}

function bind(server: Server | HttpsServer, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Closes a listener, cutting hung and keep-alive connections. */
export function close(server: Server | HttpsServer): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function onHttp(core: EmulatorCore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const method = (req.method ?? 'GET').toUpperCase();
  try {
    if (API_PREFIX.test(url.pathname)) {
      const correlationId = randomUUID();
      res.setHeader('MS-CorrelationId', correlationId);
      const path = url.pathname.replace(API_PREFIX, '');
      return await withFaults(core, 'api', req, res, path, correlationId, async () =>
        api(core, req, method, path, url),
      );
    }
    if (WIN32_PREFIX.test(url.pathname)) {
      // The MSI/EXE API answers with X-Correlation-ID (windows-dev-docs hub/apps/publish/store-submission-api.md, "Response Headers").
      const correlationId = randomUUID();
      res.setHeader('X-Correlation-ID', correlationId);
      const path = url.pathname.replace(/^\/+/, '');
      return await withFaults(core, 'win32', req, res, path, correlationId, async () =>
        core.win32.handle(req, method, path, url),
      );
    }
    if (url.pathname.startsWith('/_emulator/win32/')) {
      const reply = await core.win32.admin(method, url.pathname.slice('/_emulator/win32/'.length), () => jsonBody(req));
      return writeReply(res, reply);
    }
    if (url.pathname.startsWith('/_emulator/')) {
      const reply = await handleAdmin(core, method, url.pathname.slice('/_emulator/'.length), () => jsonBody(req));
      return writeReply(res, reply);
    }
    const blobName = core.proxy.match(url.pathname);
    if (blobName !== undefined) {
      const path = url.pathname.replace(/^\/+/, '');
      return await withFaults(core, 'upload', req, res, path, randomUUID(), async (takeOver) => {
        await core.proxy.handle(req, res, blobName, url, takeOver);
        return undefined;
      });
    }
    writeReply(res, empty(404));
  } catch (e) {
    writeReply(res, e instanceof HttpError ? e.reply : json(500, { error: 'internal error' }));
  }
}

async function onHttps(core: EmulatorCore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://127.0.0.1');
  const method = (req.method ?? 'GET').toUpperCase();
  const origin = `https://${req.headers.host ?? '127.0.0.1'}`;
  const path = url.pathname.replace(/^\/+/, '');
  try {
    await withFaults(core, 'token', req, res, path, randomUUID(), async () => {
      const form =
        method === 'POST'
          ? new URLSearchParams((await readSmallBody(req, 64 * 1024)).toString('utf8'))
          : new URLSearchParams();
      const reply = core.identity.handle(method, url.pathname, form, req.headers.authorization, origin) ?? empty(404);
      return { ...reply, headers: { 'Cache-Control': 'no-store', ...reply.headers } };
    });
  } catch (e) {
    writeReply(res, e instanceof HttpError ? e.reply : json(500, { error: 'server_error' }));
  }
}

/**
 * Runs one request under the HTTP faults: a matching fault answers instead of the real operation,
 * or after it (`after`). `perform` returns the reply to write, or undefined when it wrote itself
 * (the upload proxy streams); it is given `takeOver` to call instead of answering when an `after`
 * fault is armed. Every request lands in the request log as it arrives.
 */
async function withFaults(
  core: EmulatorCore,
  server: ServerName,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  correlationId: string,
  perform: (takeOver?: () => void) => Promise<Reply | undefined>,
): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const fault = core.faults.takeHttp(server, method, path);
  const entry: RequestLogEntry = {
    server,
    method,
    path: `/${server === 'api' ? `v1.0/my/${path}` : path}`,
    status: 0,
    correlationId,
    time: new Date().toISOString(),
    ...(fault ? { fault: fault.id } : {}),
  };
  // Logged when it arrives, so hung requests show up too; the status is filled in once answered.
  core.log(entry);
  res.once('close', () => {
    entry.status = res.headersSent ? res.statusCode : 0;
  });
  if (fault && !fault.after) {
    act(fault, req, res);
    return;
  }
  const takeOver = fault ? () => act(fault, req, res) : undefined;
  const reply = await perform(takeOver);
  if (reply === undefined) return;
  if (takeOver) takeOver();
  else writeReply(res, reply);
}

function act(fault: HttpFault, req: IncomingMessage, res: ServerResponse): void {
  if (fault.hang) return; // the connection stays open until the client gives up or the emulator stops
  if (fault.drop) {
    req.socket.destroy();
    return;
  }
  req.resume();
  writeReply(res, { status: fault.status ?? 500, body: fault.body, headers: fault.headers });
}

async function api(core: EmulatorCore, req: IncomingMessage, method: string, path: string, url: URL): Promise<Reply> {
  const auth = core.identity.check(req.headers.authorization);
  if (!auth.ok) {
    const message = auth.reason === 'expired' ? 'The access token has expired.' : 'Identity cannot be authorized';
    return json(401, envelope('Unauthorized', message, 'authorization'), {
      'WWW-Authenticate': 'Bearer error="invalid_token"',
    });
  }
  if (auth.role === 'none') {
    // An Azure AD application that was never added to Partner Center (msstore-cli#131).
    return json(401, envelope('Unauthorized', 'Identity cannot be authorized', 'authorization'), {
      'WWW-Authenticate': 'Bearer error="invalid_token"',
    });
  }
  // Added, but without the Manager role: 403 with an empty body (windows-dev-center-vsts-extension#63, #98).
  if (auth.role !== 'Manager') return empty(403);
  const limited = core.takeApiAllowance(auth.tenantId);
  if (limited) return limited;
  let match;
  try {
    match = matchRoute(method, path);
  } catch {
    return empty(404);
  }
  if (!match) return empty(404);
  if ('methodNotAllowed' in match) return empty(405);
  const ctx: ApiContext = {
    core,
    method,
    query: url.searchParams,
    tenantId: auth.tenantId,
    body: () => jsonBody(req, true),
  };
  try {
    return await match.handler(ctx, match.params);
  } catch (e) {
    if (e instanceof HttpError) return e.reply;
    return json(500, {
      ...envelope('UnknownInternalFailure', 'An unexpected error occurred.', 'submission'),
      innererror: { code: 'UnknownInternalFailure', message: (e as Error).message },
    });
  }
}

/** The JSON body, or undefined when empty. The Store API refuses charsets other than utf-8 (`charset=utf8` was seen refused). */
async function jsonBody(req: IncomingMessage, storeApi = false): Promise<unknown> {
  const type = String(req.headers['content-type'] ?? '');
  const charset = /charset=([^;\s]+)/i.exec(type)?.[1]?.toLowerCase();
  const raw = await readSmallBody(req, JSON_BODY_LIMIT);
  if (raw.length === 0) return undefined;
  if (storeApi && charset !== undefined && charset !== 'utf-8') {
    throw apiError(400, 'InvalidParameterValue', `The charset '${charset}' is not supported; use utf-8.`, 'request');
  }
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw apiError(400, 'InvalidParameterValue', 'The request body is not valid JSON.', 'request');
  }
}
