import { startAzurite } from '../../sandbox/azurite';

/**
 * One Azurite for the whole run; every test uses its own containers. Its coordinates reach
 * the workers through the environment, which jest workers inherit.
 */
export default async function globalSetup(): Promise<void> {
  const azurite = await startAzurite();
  process.env.TEST_AZURITE_CONNECTION_STRING = azurite.connectionString;
  process.env.TEST_AZURITE_INGEST_CONNECTION_STRING = azurite.ingestConnectionString;
  process.env.TEST_AZURITE_INGEST_KEY = azurite.ingestKey;
  process.env.TEST_AZURITE_PORTS = `${azurite.blobPort},${azurite.queuePort},${azurite.tablePort}`;
  (globalThis as { __azurite?: typeof azurite }).__azurite = azurite;
}
