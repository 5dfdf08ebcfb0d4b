import {
  DEFAULT_TOP,
  MAX_TOP,
  decodeCursor,
  durableInstancePager,
  encodeCursor,
  gatherPage,
  nextLink,
  parseInstant,
  parseListWindow,
  type FetchInstancePage,
  type ListWindow,
} from '../../lib/runListing';
import type { DurableStatus } from '../../lib/runClient';

const NOW = new Date('2026-12-02T12:00:00Z');
const q = (params: Record<string, string>): URLSearchParams => new URLSearchParams(params);

describe('the listing window', () => {
  it('defaults to the last 30 days up to now, 50 at a time', () => {
    const w = parseListWindow(q({}), NOW);
    expect(w).toEqual({
      ok: true,
      value: { since: new Date('2026-11-02T12:00:00Z'), until: NOW, top: DEFAULT_TOP },
    });
  });

  it('takes times with a zone and plain dates', () => {
    expect(parseInstant('2026-12-01')).toEqual(new Date('2026-12-01T00:00:00Z'));
    expect(parseInstant('2026-12-01T10:30:00+02:00')).toEqual(new Date('2026-12-01T08:30:00Z'));
    expect(parseInstant('2026-12-01T10:30:00.125Z')).toEqual(new Date('2026-12-01T10:30:00.125Z'));
    // no zone: ambiguous, refused
    expect(parseInstant('2026-12-01T10:30:00')).toBeUndefined();
    expect(parseInstant('yesterday')).toBeUndefined();
    expect(parseInstant('2026-13-45')).toBeUndefined();
  });

  it.each([
    [{ since: 'last week' }, 'InvalidSince'],
    [{ until: '12/01/2026' }, 'InvalidUntil'],
    [{ since: '2026-12-02', until: '2026-12-01' }, 'InvalidWindow'],
    [{ top: '0' }, 'InvalidTop'],
    [{ top: String(MAX_TOP + 1) }, 'InvalidTop'],
    [{ top: '2.5' }, 'InvalidTop'],
    [{ top: 'ten' }, 'InvalidTop'],
    [{ continuation: encodeCursor({ token: 't' }) }, 'InvalidContinuation'],
    [{ since: '2026-12-01', until: '2026-12-02', continuation: 'not base64url!' }, 'InvalidContinuation'],
    [
      { since: '2026-12-01', until: '2026-12-02', continuation: Buffer.from('[1]').toString('base64url') },
      'InvalidContinuation',
    ],
  ])('refuses %j with %s', (params, code) => {
    const w = parseListWindow(q(params), NOW);
    expect(w.ok).toBe(false);
    if (!w.ok) {
      expect(w.code).toBe(code);
      expect(w.message.length).toBeGreaterThan(20);
    }
  });

  it('takes the continuation of a next URL with its window', () => {
    const cursor = { token: '{"nextPartitionKey":"zip-1"}', after: 'zip-0' };
    const w = parseListWindow(
      q({ since: '2026-12-01T00:00:00.000Z', until: '2026-12-02T00:00:00.000Z', continuation: encodeCursor(cursor) }),
      NOW,
    );
    expect(w.ok && w.value.cursor).toEqual(cursor);
  });

  it('cursors round-trip and refuse what this API did not make', () => {
    expect(decodeCursor(encodeCursor({ token: 'abc' }))).toEqual({ token: 'abc', after: undefined });
    expect(decodeCursor(encodeCursor({ after: 'zip-1' }))).toEqual({ token: undefined, after: 'zip-1' });
    expect(decodeCursor(Buffer.from('{}').toString('base64url'))).toBeUndefined();
    expect(decodeCursor(Buffer.from('{"t":"a","x":1}').toString('base64url'))).toBeUndefined();
    expect(decodeCursor(Buffer.from('{"t":3}').toString('base64url'))).toBeUndefined();
    expect(decodeCursor('A'.repeat(5000))).toBeUndefined();
  });
});

describe('the next URL', () => {
  it("is the caller's path with the window made explicit, never the caller's key", () => {
    const w = { since: new Date('2026-12-01T00:00:00Z'), until: new Date('2026-12-02T00:00:00Z'), top: 5 };
    const next = new URL(
      nextLink(
        'https://app.example/api/submissions?code=SECRETKEY&top=5&blob=a.zip&other=1',
        w,
        { token: 't', after: 'zip-9' },
        { blob: 'a.zip', status: 'Failed' },
      ),
    );
    expect(next.origin + next.pathname).toBe('https://app.example/api/submissions');
    expect([...next.searchParams.keys()].sort()).toEqual(['blob', 'continuation', 'since', 'status', 'top', 'until']);
    expect(next.toString()).not.toContain('SECRETKEY');
    expect(next.searchParams.get('since')).toBe('2026-12-01T00:00:00.000Z');
    expect(decodeCursor(next.searchParams.get('continuation')!)).toEqual({ token: 't', after: 'zip-9' });
  });
});

/** A task hub's instance pages as Azure Storage lists them: by instance id, the token naming the last id. */
function fakeHub(ids: string[], created: (id: string) => string = () => '2026-12-01T10:00:00Z') {
  const calls: Array<{ pageSize: number; token?: string }> = [];
  const statuses: DurableStatus[] = [...ids].sort().map((id) => ({
    instanceId: id,
    name: /^zip-[^-]+$/.test(id) ? 'run' : 'helper',
    runtimeStatus: 'Completed',
    createdTime: created(id),
  }));
  const fetchPage: FetchInstancePage = ({ createdTimeFrom, createdTimeTo, pageSize, continuationToken }) => {
    calls.push({ pageSize, token: continuationToken });
    const inWindow = statuses.filter((s) => {
      const t = Date.parse(String(s.createdTime));
      return t >= createdTimeFrom.getTime() && t <= createdTimeTo.getTime();
    });
    const rest = continuationToken ? inWindow.filter((s) => s.instanceId > continuationToken) : inWindow;
    const page = rest.slice(0, pageSize);
    return Promise.resolve({
      instances: page,
      continuationToken: page.length < rest.length ? page[page.length - 1]!.instanceId : undefined,
    });
  };
  return { fetchPage, calls };
}

const isRun = (s: DurableStatus): boolean => s.name === 'run';

async function followAll(fetchPage: FetchInstancePage, window: ListWindow, maxPages?: number): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor = window.cursor;
  for (let n = 0; n < 1000; n++) {
    const { kept, next } = await gatherPage(fetchPage, { ...window, cursor }, isRun, maxPages);
    pages.push(kept.map((s) => s.instanceId));
    if (!next) return pages;
    cursor = next;
  }
  throw new Error('no end');
}

describe('gathering a page of runs from the hub pages', () => {
  const window = { since: new Date('2026-12-01T00:00:00Z'), until: new Date('2026-12-02T00:00:00Z'), top: 3 };
  // 10 runs, each with two helper instances that sort right after it (zip-03, zip-03-follow, zip-03-notify-1)
  const runs = Array.from({ length: 10 }, (_v, i) => `zip-${String(i).padStart(2, '0')}`);
  const ids = runs.flatMap((r) => [r, `${r}-follow`, `${r}-notify-1`]);

  it('covers every run of the window exactly once, top at a time', async () => {
    const { fetchPage } = fakeHub(ids);
    const pages = await followAll(fetchPage, window);
    expect(pages.flat()).toEqual(runs);
    expect(pages.slice(0, -1).every((p) => p.length === 3)).toBe(true);
  });

  it('resumes inside an instance page after the last run it handed out', async () => {
    const { fetchPage, calls } = fakeHub(ids);
    const first = await gatherPage(fetchPage, { ...window, top: 2 }, isRun);
    expect(first.kept.map((s) => s.instanceId)).toEqual(['zip-00', 'zip-01']);
    expect(first.next).toEqual({ token: undefined, after: 'zip-01' });
    const second = await gatherPage(fetchPage, { ...window, top: 2, cursor: first.next }, isRun);
    expect(second.kept.map((s) => s.instanceId)).toEqual(['zip-02', 'zip-03']);
    // every request asks for the same page size, so a cursor's page reads the same again
    expect(new Set(calls.map((c) => c.pageSize)).size).toBe(1);
  });

  it('reads only the window', async () => {
    const { fetchPage } = fakeHub(ids, (id) => (id < 'zip-05' ? '2026-11-20T00:00:00Z' : '2026-12-01T10:00:00Z'));
    expect((await followAll(fetchPage, window)).flat()).toEqual(runs.slice(5));
  });

  it('gives a short page and a next when its read budget ends first, and still covers everything', async () => {
    const many = Array.from({ length: 40 }, (_v, i) => `zip-h${String(i).padStart(2, '0')}-x`);
    const { fetchPage, calls } = fakeHub([...many, 'zip-z1', 'zip-z2']);
    const first = await gatherPage(fetchPage, { ...window, top: 1 }, isRun, 1);
    expect(first.kept).toEqual([]);
    expect(first.next?.token).toBeDefined();
    expect(calls).toHaveLength(1);
    expect((await followAll(fetchPage, { ...window, top: 1 }, 1)).flat()).toEqual(['zip-z1', 'zip-z2']);
  });

  it('skips a cursor instance purged meanwhile by id order', async () => {
    const { fetchPage } = fakeHub(ids.filter((id) => id !== 'zip-01'));
    const page = await gatherPage(fetchPage, { ...window, top: 2, cursor: { after: 'zip-01' } }, isRun);
    expect(page.kept.map((s) => s.instanceId)).toEqual(['zip-02', 'zip-03']);
  });
});

describe('the Durable HTTP API pager', () => {
  it('asks the RPC address with the window, the page size and the token, and reads the next token', async () => {
    const seen: Array<{ url: string; token?: string }> = [];
    const fakeFetch = ((url: URL, init?: RequestInit) => {
      const headers = (init?.headers ?? {}) as Record<string, string>;
      seen.push({ url: url.toString(), token: headers['x-ms-continuation-token'] });
      return Promise.resolve(
        new Response(JSON.stringify([{ instanceId: 'zip-1', runtimeStatus: 'Completed' }]), {
          status: 200,
          headers: { 'x-ms-continuation-token': seen.length === 1 ? 'T2' : '' },
        }),
      );
    }) as typeof fetch;
    const page = durableInstancePager({ rpcBaseUrl: 'http://127.0.0.1:17071/durabletask/' }, fakeFetch);
    const query = {
      createdTimeFrom: new Date('2026-12-01T00:00:00Z'),
      createdTimeTo: new Date('2026-12-02T00:00:00Z'),
      pageSize: 20,
    };
    expect(await page(query)).toEqual({
      instances: [{ instanceId: 'zip-1', runtimeStatus: 'Completed' }],
      continuationToken: 'T2',
    });
    expect((await page({ ...query, continuationToken: 'T2' })).continuationToken).toBeUndefined();
    const url = new URL(seen[0]!.url);
    expect(url.origin + url.pathname).toBe('http://127.0.0.1:17071/durabletask/instances/');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      createdTimeFrom: '2026-12-01T00:00:00.000Z',
      createdTimeTo: '2026-12-02T00:00:00.000Z',
      top: '20',
      showInput: 'true',
    });
    expect(seen[1]!.token).toBe('T2');
  });

  it('falls back to the management URL and keeps its key out of errors', async () => {
    const fakeFetch = ((url: URL) => {
      expect(url.toString()).toMatch(
        /^https:\/\/app\/runtime\/webhooks\/durabletask\/instances\/\?taskHub=H&code=SYSKEY&/,
      );
      return Promise.resolve(new Response('no', { status: 500 }));
    }) as typeof fetch;
    const page = durableInstancePager(
      {
        managementUrls: {
          id: 'INSTANCEID',
          statusQueryGetUri: 'https://app/runtime/webhooks/durabletask/instances/INSTANCEID?taskHub=H&code=SYSKEY',
        },
      },
      fakeFetch,
    );
    const error = await page({ createdTimeFrom: new Date(0), createdTimeTo: new Date(1), pageSize: 5 }).catch(
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('answered 500');
    expect((error as Error).message).not.toContain('SYSKEY');
  });
});
