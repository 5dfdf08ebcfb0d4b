/**
 * The shared Store budget (budget.ts) kept in a blob, one per tenant and API, in the container
 * STORE_BUDGET_CONTAINER of the submissions storage account; and the choice, for a client, of
 * that budget or the process's own pacers (pacing.ts) when no container is configured.
 */
import { createHash } from 'node:crypto';
import type { PipelineRequest } from '@azure/core-rest-pipeline';
import { RestError, type ContainerClient } from '@azure/storage-blob';
import { redact } from '../redact';
import { blobServiceFor } from '../storage';
import { budgetRule, SharedBudget, type BudgetStore, type BudgetWindow } from './budget';
import { isCommitCall, sharedPacer, type Pacer } from './pacing';

/**
 * The window as JSON in one block blob: read with its ETag, written If-Match that ETag (or
 * If-None-Match * for the first write). A document that does not parse counts as empty and is
 * overwritten, on the same condition.
 */
export function blobBudgetStore(container: ContainerClient, blobName: string, key: string): BudgetStore {
  const blob = container.getBlockBlobClient(blobName);
  return {
    async read() {
      try {
        // Content and ETag from one response, so the write is conditioned on what was read.
        const response = await blob.download();
        return { window: parse(await readAll(response.readableStreamBody)), etag: response.etag };
      } catch (e) {
        if (e instanceof RestError && e.statusCode === 404) return { window: { slots: [], commits: [] } };
        throw e;
      }
    },
    async write(window: BudgetWindow, etag: string | undefined) {
      const body = JSON.stringify({ key, ...window });
      const upload = () =>
        blob.upload(body, Buffer.byteLength(body), {
          conditions: etag ? { ifMatch: etag } : { ifNoneMatch: '*' },
          blobHTTPHeaders: { blobContentType: 'application/json' },
        });
      try {
        await upload();
        return true;
      } catch (e) {
        if (e instanceof RestError && (e.statusCode === 412 || e.statusCode === 409)) return false;
        if (e instanceof RestError && e.statusCode === 404 && !etag) {
          await container.createIfNotExists();
          return upload().then(
            () => true,
            (again: unknown) => {
              if (again instanceof RestError && (again.statusCode === 412 || again.statusCode === 409)) return false;
              throw again;
            },
          );
        }
        throw e;
      }
    },
  };
}

async function readAll(stream: NodeJS.ReadableStream | undefined): Promise<Buffer> {
  const chunks: Buffer[] = [];
  if (stream) for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

function parse(body: Buffer): BudgetWindow {
  try {
    const doc = JSON.parse(body.toString('utf8')) as Partial<BudgetWindow>;
    return { slots: Array.isArray(doc.slots) ? doc.slots : [], commits: Array.isArray(doc.commits) ? doc.commits : [] };
  } catch {
    return { slots: [], commits: [] };
  }
}

export interface PacingSettings {
  /** The tenant and API: `<api base URL>|<tenant id>`. */
  key: string;
  limit: number;
  windowMs: number;
  /** Commits per window on top of the call limit; none: commits count as calls only. */
  commitLimit?: number;
  /** Where the shared budget lives; none: each process paces itself. */
  budget?: { storage: string; container: string };
}

const budgets = new Map<string, SharedBudget>();

/**
 * The pacing of one client: with a budget container, the budget every instance shares (one per
 * process and document, like sharedPacer), with the process's own pacers as its fallback; without
 * one, those pacers alone (a call pacer, and a commit pacer ahead of it).
 */
export function pacersFor(s: PacingSettings): { pacer: Pacer; commitPacer?: Pacer } {
  const calls = sharedPacer(s.key, s.limit, s.windowMs);
  const commits = s.commitLimit ? sharedPacer(`${s.key}|commit`, s.commitLimit, s.windowMs) : undefined;
  if (!s.budget) return { pacer: calls, commitPacer: commits };
  const { storage, container } = s.budget;
  const full = `${storage}|${container}|${s.key}|${s.limit}|${s.commitLimit ?? 0}|${s.windowMs}`;
  let budget = budgets.get(full);
  if (!budget) {
    const local: Pacer = {
      async acquire(request?: PipelineRequest) {
        const commit = commits && request && isCommitCall(request) ? await commits.acquire() : undefined;
        const call = await calls.acquire();
        return () => {
          call();
          commit?.();
        };
      },
    };
    const blobName = `${createHash('sha256').update(s.key).digest('hex').slice(0, 32)}.json`;
    const store = blobBudgetStore(blobServiceFor(storage).getContainerClient(container), blobName, s.key);
    budget = new SharedBudget(
      store,
      {
        calls: budgetRule(s.limit, s.windowMs),
        commits: s.commitLimit ? budgetRule(s.commitLimit, s.windowMs) : undefined,
      },
      local,
      { warn: (message) => console.warn(redact(message)) },
    );
    budgets.set(full, budget);
  }
  return { pacer: budget };
}
