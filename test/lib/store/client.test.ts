/** What the Store client decides before any request leaves (against the emulator: test/integration/store/client.test.ts). */
import { StoreRequestError } from '../../../lib/errors';
import { StoreClient } from '../../../lib/store/client';
import type { ProductRef } from '../../../lib/store/kinds';
import { SEED_IDS, STORE_SCOPE } from '../../../sandbox/emulator';

const app: ProductRef = { kind: 'app', applicationId: SEED_IDS.demoApp };

describe('StoreClient safety without a server', () => {
  it('refuses to send a token over plain HTTP to anything but loopback, before asking for one', async () => {
    let asked = 0;
    const client = new StoreClient({
      baseUrl: 'http://store.example.invalid/v1.0/my/',
      credential: {
        getToken: async () => {
          asked++;
          return { token: 'never-sent-token', expiresOnTimestamp: Date.now() + 3600_000 };
        },
      },
      scope: STORE_SCOPE,
    });
    const answer = client.getProduct(app);
    await expect(answer).rejects.toBeInstanceOf(StoreRequestError);
    await expect(answer).rejects.toMatchObject({ code: 'InsecureUrl', retriable: false });
    expect(asked).toBe(0);
  });
});
