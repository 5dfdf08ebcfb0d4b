import { startHost, type RunningHost } from '../../../sandbox/host';
import { nextOccurrence, parseNcrontab } from '../../../sandbox/host/timerTrigger';
import { ensureBuilt, fixture, waitFor } from './hostHelpers';

describe('NCRONTAB schedules', () => {
  const next = (expr: string, after: string): string | undefined =>
    nextOccurrence(parseNcrontab(expr), new Date(after))?.toISOString();

  it('finds the next occurrence after a moment, in UTC', () => {
    expect(next('0 30 3 * * *', '2026-12-02T12:00:00Z')).toBe('2026-12-03T03:30:00.000Z');
    expect(next('0 30 3 * * *', '2026-12-02T03:29:59.500Z')).toBe('2026-12-02T03:30:00.000Z');
    // strictly after: an occurrence at the very moment is not the next one
    expect(next('0 30 3 * * *', '2026-12-02T03:30:00Z')).toBe('2026-12-03T03:30:00.000Z');
    expect(next('*/15 * * * * *', '2026-12-02T12:00:07Z')).toBe('2026-12-02T12:00:15.000Z');
    expect(next('0 0 9-17/4 * * 1-5', '2026-12-05T10:00:00Z')).toBe('2026-12-07T09:00:00.000Z'); // Saturday → Monday
    expect(next('0 0 0 29 2 *', '2026-12-02T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
    expect(next('0 0 0 1 1 7', '2026-12-02T00:00:00Z')).toBe('2034-01-01T00:00:00.000Z'); // 7 is Sunday
  });

  it.each(['* * * * *', '0 30 3 * * * *', '0 60 * * * *', '0 0 0 * JAN *', 'x * * * * *', '0 0 5-1 * * *'])(
    'refuses %s',
    (expr) => {
      expect(() => parseNcrontab(expr)).toThrow();
    },
  );
});

describe('sandbox host: timer trigger', () => {
  let host: RunningHost;

  beforeAll(async () => {
    ensureBuilt();
    host = await startHost({
      appDir: fixture('timer-app'),
      settings: { TICK_SCHEDULE: '* * * * * *' },
      enforceKeys: {},
    });
  });
  afterAll(() => host?.stop());

  it('runs a function on the schedule its setting names, with a TimerInfo', async () => {
    const tick = await waitFor('a tick', () => host.logs().find((l) => l.message.startsWith('tick ')));
    expect(JSON.parse(tick.message.slice('tick '.length))).toEqual({
      isPastDue: false,
      schedule: { adjustForDST: true },
    });
    expect(host.logs().some((l) => l.message.startsWith('manual '))).toBe(false);
  });

  it('runs one now through the admin API with the master key, as the host does (202)', async () => {
    const post = (key?: string, name = 'manual'): Promise<Response> =>
      fetch(`${host.url}/admin/functions/${name}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(key ? { 'x-functions-key': key } : {}) },
        body: '{"input":""}',
      });
    expect((await post()).status).toBe(401);
    expect((await post(host.keys!.host.default)).status).toBe(401);
    expect((await post(host.keys!.master, 'nothere')).status).toBe(404);
    expect((await post(host.keys!.master)).status).toBe(202);
    await waitFor('the manual run', () => host.logs().find((l) => l.message.startsWith('manual ')));
  });

  it('refuses to start when the schedule setting is missing, naming it', async () => {
    await expect(startHost({ appDir: fixture('timer-app'), settings: {} })).rejects.toThrow(/TICK_SCHEDULE/);
  });
});
