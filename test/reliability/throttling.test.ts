/**
 * Guarantee 9: 30 products dropped at once against the Store's 20 calls per window all
 * complete, none fails on a 429 (in fact the host, the tenant's only client here, paces itself
 * so the Store never has to say 429). The window is compressed (20 calls per 2 s instead of per
 * minute) and the product is told the same through its settings. How long the burst takes
 * against the least time the rate limit allows is printed, not asserted: it measures the
 * machine as much as the app (a busy CI machine doubles it). That the pacer wastes no window is
 * asserted exactly, on a fake clock, in test/lib/store/pacing.test.ts.
 */
import { findLeakedSecrets } from '../helpers/secrets';
import {
  apiCalls,
  apiSubmissions,
  appIds,
  appZip,
  drop,
  seedApp,
  seedOf,
  startReliabilitySandbox,
  type ReliabilitySandbox,
} from './support';

const PRODUCTS = 30;
const LIMIT = 20;
const WINDOW_MS = 2000;

describe('throttling at scale', () => {
  const ids = appIds('THRT', PRODUCTS);
  let sandbox: ReliabilitySandbox;
  beforeAll(async () => {
    sandbox = await startReliabilitySandbox({
      emulator: {
        seed: seedOf(ids.map((id) => seedApp(id))),
        config: { rateLimitEnabled: true, rateLimitPerMinute: LIMIT, rateLimitWindowMs: WINDOW_MS },
      },
      settings: {
        STORE_MAX_REQUESTS_PER_MINUTE: String(LIMIT),
        STORE_RATE_WINDOW_SECONDS: String(WINDOW_MS / 1000),
      },
    });
  });
  afterAll(() => sandbox?.stop());

  it(`completes ${PRODUCTS} products dropped at once, none failing on 429, the Store never answering 429`, async () => {
    const zips = ids.map((id) => appZip(id));
    const started = Date.now();
    const runIds = await Promise.all(ids.map((id, i) => drop(sandbox, `burst/${id}.zip`, zips[i]!)));
    const docs = await Promise.all(runIds.map((id) => sandbox.finished(id)));
    const ended = Math.max(...docs.map((d) => Date.parse(d.lastUpdatedTime!)));
    const state = await sandbox.emulator.admin.state();

    const calls = apiCalls(state);
    const answered = calls.filter((c) => c.status !== 429);
    const throttled = calls.filter((c) => c.status === 429);
    // The sliding window lets at most LIMIT answered calls into any WINDOW_MS.
    const minimumMs = (answered.length / LIMIT) * WINDOW_MS;
    const wallMs = ended - started;
    const ratio = wallMs / minimumMs;
    console.log(
      `throttling: ${PRODUCTS} runs, ${answered.length} Store calls answered, ${throttled.length} answered 429; ` +
        `first drop to last run end ${wallMs} ms; minimum ${minimumMs} ms (${LIMIT} per ${WINDOW_MS} ms); ratio ${ratio.toFixed(2)}`,
    );

    expect(docs.filter((d) => d.status !== 'Succeeded').map((d) => d.failure)).toEqual([]);
    for (const id of ids) expect(apiSubmissions(state, id)).toHaveLength(1);
    expect(throttled).toEqual([]);
  });

  it('leaks no secret anywhere', async () => {
    const texts = sandbox.responses.map((r) => ({ where: r.url, text: r.body }));
    expect(await findLeakedSecrets(sandbox, { texts, taskHub: sandbox.taskHub })).toEqual([]);
  });
});
