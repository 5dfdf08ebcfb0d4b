import { Agent, type IncomingMessage, type ServerResponse, request as httpRequest } from 'node:http';
import {
  BlobSASPermissions,
  type StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
} from '@azure/storage-blob';
import { type Reply, writeReply } from './http';
import { type SasSigner, storageError } from './sas';

const MiB = 1024 * 1024;
/** Put Block List bodies are small (50,000 ids of at most 64 bytes); anything far bigger is not one. */
const BLOCK_LIST_BODY_LIMIT = 16 * MiB;
const MAX_COMMITTED_BLOCKS = 50_000;
/** Query parameters that belong to the blob operation, not to the SAS: only these reach Azurite. */
const OPERATION_PARAMS = ['comp', 'blockid', 'blocklisttype', 'timeout', 'snapshot', 'versionid'];
const HOP_BY_HOP = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'authorization',
  'expect',
]);

/** Size limits the blob service applies for a given (SAS) version. */
export function blobLimits(version: string): { putBlob: number; putBlock: number } {
  if (version >= '2019-12-12') return { putBlob: 5000 * MiB, putBlock: 4000 * MiB };
  if (version >= '2016-05-31') return { putBlob: 256 * MiB, putBlock: 100 * MiB };
  return { putBlob: 64 * MiB, putBlock: 4 * MiB };
}

/** The largest body a request may carry; 0 for requests without one. */
function bodyLimitFor(method: string, comp: string, limits: { putBlob: number; putBlock: number }): number {
  if (method !== 'PUT') return 0;
  if (comp === '') return limits.putBlob;
  if (comp === 'block') return limits.putBlock;
  if (comp === 'blocklist') return BLOCK_LIST_BODY_LIMIT;
  return 4 * MiB;
}

/** Put Block From URL exists from this service version on. */
export const BLOCK_FROM_URL_VERSION = '2018-03-28';

interface ForwardOptions {
  method: string;
  /** A body already read (Put Block List); otherwise the request streams through. */
  body: Buffer | undefined;
  bodyLimit: number;
  tooLarge: () => Reply;
  respond: (reply: Reply) => void;
  takeOver?: () => void;
}

export interface IngestStorage {
  /** e.g. http://127.0.0.1:10000/storeingest */
  endpoint: string;
  credential: StorageSharedKeyCredential;
}

/**
 * Takes the place of the Store's ingestion blob endpoint: checks the SAS and the service limits of
 * its version, then streams the request to the `storeingest` account in Azurite and the answer back.
 * Bodies are never buffered (zips reach gigabytes), except Put Block List bodies, which are small.
 *
 * `takeOver`, when given, replaces the answer after the real operation ran (the `after` faults): the
 * upstream answer is drained and `takeOver` responds instead.
 */
export class UploadProxy {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });

  constructor(
    private readonly signer: SasSigner,
    private readonly ingest: IngestStorage,
  ) {}

  /** The blob name when `pathname` addresses the ingestion container in path style. */
  match(pathname: string): string | undefined {
    const prefix = `/${this.signer.account}/${this.signer.container}/`;
    if (!pathname.startsWith(prefix)) return undefined;
    let blob: string;
    try {
      blob = decodeURIComponent(pathname.slice(prefix.length));
    } catch {
      return undefined;
    }
    return blob && !blob.includes('/') ? blob : undefined;
  }

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    blobName: string,
    url: URL,
    takeOver?: () => void,
  ): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const comp = (url.searchParams.get('comp') ?? '').toLowerCase();
    const needed = method === 'GET' || method === 'HEAD' ? 'r' : method === 'DELETE' ? 'd' : 'w';
    const respond = (reply: Reply): void => {
      // The rest of a refused body is read and dropped rather than cut off: a client still sending
      // would otherwise get EPIPE instead of the answer. Nothing is kept.
      req.resume();
      if (takeOver) takeOver();
      else writeReply(res, reply);
    };

    const sas = this.signer.verify(blobName, url.searchParams, needed);
    if (!sas.ok) return respond(sas.reply);
    const limits = blobLimits(sas.version);
    const copySource = req.headers['x-ms-copy-source'];

    if (method === 'PUT' && comp === 'block' && copySource !== undefined && sas.version < BLOCK_FROM_URL_VERSION) {
      // The service reads the request with the rules of the SAS version, which know no copy source on Put Block.
      return respond(
        storageError(400, 'UnsupportedHeader', 'One of the HTTP headers specified in the request is not supported.', {
          HeaderName: 'x-ms-copy-source',
        }),
      );
    }

    const bodyLimit = copySource !== undefined ? 0 : bodyLimitFor(method, comp, limits);
    const tooLarge = (): Reply =>
      storageError(
        413,
        'RequestBodyTooLarge',
        'The request body is too large and exceeds the maximum permissible limit.',
        { MaxLimit: String(bodyLimit) },
      );
    const declared = req.headers['content-length'] !== undefined ? Number(req.headers['content-length']) : undefined;
    const chunked = declared === undefined && /chunked/i.test(String(req.headers['transfer-encoding'] ?? ''));

    if (method === 'PUT' && copySource === undefined) {
      if (declared !== undefined && declared > bodyLimit) return respond(tooLarge());
      if (chunked) {
        // The service needs a length up front; the body is still counted so an oversize stream gets its 413.
        const { total } = await consume(req, bodyLimit, false);
        if (total > bodyLimit) return respond(tooLarge());
        return respond(storageError(411, 'MissingContentLengthHeader', 'The Content-Length header was not specified.'));
      }
    }

    let body: Buffer | undefined;
    if (method === 'PUT' && comp === 'blocklist') {
      const read = await consume(req, BLOCK_LIST_BODY_LIMIT, true);
      if (!read.body) return respond(tooLarge());
      body = read.body;
      const blocks = body.toString('utf8').match(/<(Latest|Committed|Uncommitted)>/g)?.length ?? 0;
      if (blocks > MAX_COMMITTED_BLOCKS) {
        return respond(
          storageError(
            400,
            'InvalidBlockList',
            `The specified block list is invalid: ${blocks} blocks exceed the limit of ${MAX_COMMITTED_BLOCKS}.`,
          ),
        );
      }
    }

    await this.forward(req, res, blobName, url, { method, body, bodyLimit, tooLarge, respond, takeOver });
  }

  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    blobName: string,
    url: URL,
    how: ForwardOptions,
  ): Promise<void> {
    const { method, body, bodyLimit, takeOver } = how;
    // Exactly one answer per request, whichever of the upstream answer, an error or the size guard comes first.
    let answered = false;
    const respond = (reply: Reply): void => {
      if (answered) return;
      answered = true;
      how.respond(reply);
    };
    const target = new URL(`${this.ingest.endpoint}/${this.signer.container}/${encodeURIComponent(blobName)}`);
    for (const name of OPERATION_PARAMS) {
      const value = url.searchParams.get(name);
      if (value !== null) target.searchParams.set(name, value);
    }
    const upstreamSas = generateBlobSASQueryParameters(
      {
        containerName: this.signer.container,
        blobName,
        permissions: BlobSASPermissions.parse('racwd'),
        startsOn: new Date(Date.now() - 5 * 60_000),
        expiresOn: new Date(Date.now() + 60 * 60_000),
      },
      this.ingest.credential,
    ).toString();
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    headers['x-ms-version'] ??= '2021-08-06';
    if (body) headers['content-length'] = String(body.length);

    return new Promise<void>((resolve) => {
      const upstream = httpRequest(
        `${target.toString()}${target.search ? '&' : '?'}${upstreamSas}`,
        { method, headers, agent: this.agent },
        (up) => {
          if (answered) {
            up.resume();
            return resolve();
          }
          answered = true;
          if (takeOver) {
            up.resume();
            up.once('end', () => {
              takeOver();
              resolve();
            });
            return;
          }
          const outHeaders: Record<string, string | string[]> = {};
          for (const [name, value] of Object.entries(up.headers)) {
            if (value !== undefined && !HOP_BY_HOP.has(name)) outHeaders[name] = value;
          }
          res.writeHead(up.statusCode ?? 502, outHeaders);
          up.pipe(res);
          up.once('end', resolve);
          up.on('error', () => {
            res.destroy();
            resolve();
          });
        },
      );
      // `on`, not `once`: a destroyed upstream request may report more than one error.
      upstream.on('error', () => {
        respond(storageError(500, 'InternalError', 'The ingestion storage did not answer.'));
        resolve();
      });
      // The client hung up: Azurite must not see a half request complete.
      req.once('close', () => {
        if (!req.complete) upstream.destroy();
      });
      if (body) {
        upstream.end(body);
        return;
      }
      let seen = 0;
      req.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > bodyLimit && bodyLimit > 0) {
          req.removeAllListeners('data');
          respond(how.tooLarge());
          upstream.destroy();
          resolve();
          return;
        }
        if (!upstream.write(chunk)) {
          req.pause();
          upstream.once('drain', () => req.resume());
        }
      });
      req.once('end', () => {
        if (!upstream.destroyed) upstream.end();
      });
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Reads a body up to `limit` bytes, keeping it only when `keep` is set. Stops listening once the limit
 * is passed, without destroying the request: the caller still has to answer on its socket.
 */
function consume(req: IncomingMessage, limit: number, keep: boolean): Promise<{ total: number; body?: Buffer }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limit) {
        req.off('data', onData);
        req.off('end', onEnd);
        resolve({ total });
        return;
      }
      if (keep) chunks.push(chunk);
    };
    const onEnd = (): void => resolve({ total, body: keep ? Buffer.concat(chunks) : undefined });
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', () => resolve({ total: Number.POSITIVE_INFINITY }));
  });
}
