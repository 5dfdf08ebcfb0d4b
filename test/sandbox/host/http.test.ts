import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHost, type RunningHost } from '../../../sandbox/host';
import { ensureBuilt, fixture, tempApp, waitFor } from './hostHelpers';

describe('sandbox host: HTTP triggers', () => {
  let host: RunningHost;
  const logFile = join(mkdtempSync(join(tmpdir(), 'host-log-')), 'host.log');

  beforeAll(async () => {
    ensureBuilt();
    host = await startHost({ appDir: fixture('http-app'), settings: {}, logFile });
  });
  afterAll(() => host?.stop());

  it('routes with constraints, passes params, query, headers and body, and maps the response', async () => {
    const res = await host.fetch(`/api/items/books/42?sort=asc&page=2`, {
      method: 'POST',
      headers: { 'x-custom': 'hello', 'content-type': 'text/plain' },
      body: 'payload text',
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-item-id')).toBe('42');
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(res.headers.get('set-cookie')).toMatch(/^seen=yes; Path=\/; HttpOnly/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.params).toEqual({ category: 'books', id: '42' });
    expect(body.query).toEqual({ sort: 'asc', page: '2' });
    expect(body.header).toBe('hello');
    expect(body.body).toBe('payload text');
    expect(body.url).toBe(`${host.url}/api/items/books/42?sort=asc&page=2`);

    // The context.log of that invocation is a JSON line tagged with the function and invocation
    // (it comes over the host's stdout, which need not be read before the HTTP answer).
    const line = await waitFor('the log line', () => host.logs().find((l) => l.message === 'items called with POST'));
    expect(line).toMatchObject({ category: 'items', level: 'information', invocationId: body.invocationId });
  });

  it('answers 404 when the constraint, the method or the route does not match', async () => {
    expect((await host.fetch(`/api/items/books/notanumber`)).status).toBe(404);
    expect((await host.fetch(`/api/items/books/1`, { method: 'DELETE' })).status).toBe(404);
    expect((await host.fetch(`/api/nothing-here`)).status).toBe(404);
  });

  it('uses the function name as the default route, GET and POST as default methods, and catch-all params', async () => {
    const get = await host.fetch(`/api/plainText`);
    expect(get.status).toBe(200);
    expect(await get.text()).toBe('just text');
    expect((await host.fetch(`/api/plaintext`, { method: 'POST' })).status).toBe(200);
    expect((await host.fetch(`/api/plainText`, { method: 'PUT' })).status).toBe(404);
    expect(await (await host.fetch(`/api/files/a/b/c.txt`)).json()).toEqual({ path: 'a/b/c.txt' });
  });

  it('ran the appStart hook before serving', async () => {
    expect(await (await host.fetch(`/api/ready`)).json()).toEqual({ started: true, hookDataIsObject: true });
  });

  it('does not require keys by default, like func start', async () => {
    expect((await host.fetch(`/api/guarded`)).status).toBe(200);
  });

  it('answers 500 when a function throws, and logs the failure and its console output', async () => {
    const res = await host.fetch(`/api/explodes`);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('');
    const failed = await waitFor('the failure in the log', () =>
      host
        .logs()
        .find(
          (l) =>
            l.level === 'error' && l.message.includes("'Functions.explodes' (Failed") && l.message.includes('kaboom'),
        ),
    );
    expect(failed).toBeDefined();
    const consoleLine = host.logs().find((l) => l.message === 'about to fail');
    expect(consoleLine).toMatchObject({ category: 'explodes' });
  });

  it('reports readiness on /admin/host/status and writes every line to the log file', async () => {
    const res = await host.fetch(`/admin/host/status`);
    expect(await res.json()).toMatchObject({ state: 'Running' });
    const fileLines = readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { message: string });
    expect(fileLines.some((l) => l.message === 'items called with POST')).toBe(true);
    expect(fileLines.some((l) => l.message.startsWith('Host started'))).toBe(true);
  });
});

describe('sandbox host: start-up', () => {
  beforeAll(ensureBuilt);

  it("requires keys when enforced, as the real host: a function's own keys, host keys, the master key; ?code= or x-functions-key", async () => {
    const host = await startHost({
      appDir: fixture('http-app'),
      settings: {},
      enforceKeys: { masterKey: 'test-master-key' },
    });
    try {
      const keys = host.keys!;
      const get = async (path: string, key?: string, how: 'code' | 'header' = 'code'): Promise<number> => {
        const url = `${host.url}${path}${key && how === 'code' ? `?code=${encodeURIComponent(key)}` : ''}`;
        const headers = key && how === 'header' ? { 'x-functions-key': key } : undefined;
        return (await fetch(url, { headers })).status;
      };
      // Generated at start: one per HTTP function, a host key, the Durable extension's system key.
      expect(keys.master).toBe('test-master-key');
      expect(Object.keys(keys.functions).sort()).toEqual(expect.arrayContaining(['guarded', 'guardedToo']));
      const own = keys.functions.guarded!.default!;
      const other = keys.functions.guardedToo!.default!;
      expect(own).not.toBe(other);
      expect(await get('/api/guarded')).toBe(401);
      expect(await get('/api/guarded', 'wrong')).toBe(401);
      expect(await get('/api/guarded', other)).toBe(401);
      expect(await get('/api/guarded', keys.system.durabletask_extension)).toBe(401);
      expect(await get('/api/guarded', own)).toBe(200);
      expect(await get('/api/guarded', own, 'header')).toBe(200);
      expect(await get('/api/guarded', keys.host.default)).toBe(200);
      expect(await get('/api/guardedToo', keys.host.default, 'header')).toBe(200);
      expect(await get('/api/guarded', 'test-master-key')).toBe(200);
      expect(await get('/api/guarded', 'test-master-key', 'header')).toBe(200);
      // authLevel admin: the master key only.
      expect(await get('/api/adminOnly', keys.host.default)).toBe(401);
      expect(await get('/api/adminOnly', 'test-master-key')).toBe(200);
      expect(await get('/admin/host/status', keys.host.default)).toBe(401);
      expect(await get('/admin/host/status', 'test-master-key')).toBe(200);
      // Anonymous functions stay open.
      expect(await get('/api/plainText')).toBe(200);
      // No key reaches the log.
      const logged = JSON.stringify(host.logs());
      for (const key of [keys.master, keys.host.default, own, other, keys.system.durabletask_extension!])
        expect(logged).not.toContain(key);
    } finally {
      await host.stop();
    }
  });

  it('fails loudly when an appStart hook throws', async () => {
    await expect(startHost({ appDir: fixture('bad-start-app'), settings: {} })).rejects.toThrow(
      /appStart refused: SETTING_X is missing/,
    );
  });

  it('fails loudly on a binding it does not implement', async () => {
    const dir = tempApp('bad-start-app');
    writeFileSync(
      join(dir, 'index.js'),
      `const { app, output } = require('@azure/functions');
       app.http('withQueue', { authLevel: 'anonymous', extraOutputs: [output.storageQueue({ queueName: 'q', connection: 'X' })], handler: async () => ({}) });`,
    );
    await expect(startHost({ appDir: dir, settings: {} })).rejects.toThrow(
      /function 'withQueue': out binding '.*' of type 'queue' is not implemented by the sandbox host/,
    );
  });
});
