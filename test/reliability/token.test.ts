/**
 * Guarantees 3 (the token endpoint) and 5 (token expiry). The emulator issues tokens that last
 * seconds, so every Store call of a run needs a token of its own: faults at the token endpoint
 * are met by whichever call comes next, and a run that polls for a while outlives many tokens.
 */
import { findLeakedSecrets } from '../helpers/secrets';
import {
  apiCalls,
  apiSubmissions,
  appIds,
  appZip,
  describeCalls,
  drop,
  seedApp,
  seedOf,
  sleep,
  startReliabilitySandbox,
  until,
  type ReliabilitySandbox,
} from './support';

const [faultsApp, expiryApp, revokedApp] = appIds('TOKN', 3) as [string, string, string];
const TOKEN_LIFETIME_SECONDS = 3;

describe('the Store token', () => {
  let sandbox: ReliabilitySandbox;
  let tokenPath: string;
  beforeAll(async () => {
    sandbox = await startReliabilitySandbox({
      emulator: {
        seed: seedOf([seedApp(faultsApp), seedApp(expiryApp), seedApp(revokedApp)]),
        config: { tokenLifetimeSeconds: TOKEN_LIFETIME_SECONDS },
      },
    });
    tokenPath = `${sandbox.emulator.tenantId}/oauth2/v2.0/token`;
  });
  afterAll(() => sandbox?.stop());

  it('rides out 429 with Retry-After, 500, 503, a dropped connection and a hung request at the token endpoint', async () => {
    const faults = [
      {
        status: 429,
        headers: { 'Retry-After': '1' },
        body: { error: 'temporarily_unavailable', error_description: 'Too many requests.' },
      },
      { status: 500, body: { error: 'server_error', error_description: 'AADSTS50000: internal error.' } },
      { status: 503, body: { error: 'temporarily_unavailable', error_description: 'AADSTS90033: try again.' } },
      { drop: true },
      { hang: true },
    ];
    const armed: string[] = [];
    for (const action of faults) {
      armed.push(
        (await sandbox.emulator.admin.fault({ match: { server: 'token', method: 'POST', path: tokenPath }, ...action }))
          .id,
      );
    }
    const run = await drop(sandbox, `token/${faultsApp}.zip`, appZip(faultsApp));
    const doc = await sandbox.finished(run);
    const state = await sandbox.emulator.admin.state();
    const tokenCalls = state.requests.filter((r) => r.server === 'token' && r.method === 'POST');
    expect({ status: doc.status, failure: doc.failure }).toEqual({ status: 'Succeeded', failure: undefined });
    // Each fault was met by a real token request.
    for (const id of armed) expect(tokenCalls.some((c) => c.fault === id)).toBe(true);
    expect(apiSubmissions(state, faultsApp)).toHaveLength(1);
  });

  it('completes a run whose polling outlasts many tokens', async () => {
    // Commit processing that holds for a while: the run polls on, token after token.
    await sandbox.emulator.admin.fault({ kind: 'stuck', status: 'CommitStarted', productId: expiryApp });
    const tokensBefore = (await sandbox.emulator.admin.secrets()).accessTokens.length;
    const run = await drop(sandbox, `token/${expiryApp}.zip`, appZip(expiryApp));
    await sandbox.waitFor(run, (d) => d.phase === 'WaitingForStore');
    const statusPolls = (state: Awaited<ReturnType<typeof sandbox.emulator.admin.state>>) =>
      apiCalls(state, expiryApp).filter((c) => c.method === 'GET' && c.path.endsWith('/status'));
    // The hold is counted from the first poll (a busy machine may send it late), and lasts until
    // three token lifetimes have passed and three tokens were issued since the run began (polls
    // may come seconds apart on such a machine, each needing a token of its own).
    await until('the first status poll', async () => statusPolls(await sandbox.emulator.admin.state()).length > 0);
    const heldMs = TOKEN_LIFETIME_SECONDS * 1000 * 3;
    await sleep(heldMs);
    await until(
      'three tokens issued while the run polls',
      async () => (await sandbox.emulator.admin.secrets()).accessTokens.length - tokensBefore >= 3,
    );
    await sandbox.emulator.admin.clearFaults();
    const doc = await sandbox.finished(run);
    const state = await sandbox.emulator.admin.state();
    const secrets = await sandbox.emulator.admin.secrets();

    expect({ status: doc.status, failure: doc.failure }).toEqual({ status: 'Succeeded', failure: undefined });
    const polls = statusPolls(state);
    // The polls span several token lifetimes, and tokens were renewed along the way.
    const spanMs = Date.parse(polls.at(-1)!.time) - Date.parse(polls[0]!.time);
    expect(spanMs).toBeGreaterThanOrEqual(heldMs);
    expect(secrets.accessTokens.length - tokensBefore).toBeGreaterThanOrEqual(3);
    expect(polls.every((c) => c.status === 200)).toBe(true);
  });

  it('gets a new token and carries on when the Store refuses a token it issued (401)', async () => {
    const revoked = await sandbox.emulator.admin.fault({
      match: { server: 'api', method: 'PUT', path: `applications/${revokedApp}/submissions/*` },
      status: 401,
      headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
      body: { code: 'Unauthorized', message: 'The access token has expired.' },
    });
    const run = await drop(sandbox, `token/${revokedApp}.zip`, appZip(revokedApp));
    const doc = await sandbox.finished(run);
    const state = await sandbox.emulator.admin.state();
    const puts = apiCalls(state, revokedApp).filter((c) => c.method === 'PUT');
    expect({ status: doc.status, failure: doc.failure }).toEqual({ status: 'Succeeded', failure: undefined });
    expect(describeCalls(puts)).toEqual([expect.stringMatching(/-> 401 \(fault-/), expect.stringMatching(/-> 200$/)]);
    expect(puts[0]!.fault).toBe(revoked.id);
  });

  it('leaks no secret anywhere', async () => {
    const texts = sandbox.responses.map((r) => ({ where: r.url, text: r.body }));
    expect(await findLeakedSecrets(sandbox, { texts, taskHub: sandbox.taskHub })).toEqual([]);
  });
});
