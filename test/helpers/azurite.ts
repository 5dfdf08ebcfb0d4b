import { randomBytes } from 'node:crypto';
import { BlobServiceClient, ContainerClient } from '@azure/storage-blob';

/** The run's shared Azurite (started by globalSetup for the tiers that have services). */
export function testStorage(): {
  connectionString: string;
  ingestConnectionString: string;
  ingestKey: string;
  ports: number[];
} {
  const connectionString = process.env.TEST_AZURITE_CONNECTION_STRING;
  const ingestConnectionString = process.env.TEST_AZURITE_INGEST_CONNECTION_STRING;
  const ingestKey = process.env.TEST_AZURITE_INGEST_KEY;
  const ports = (process.env.TEST_AZURITE_PORTS ?? '').split(',').map(Number);
  if (!connectionString || !ingestConnectionString || !ingestKey) {
    throw new Error(
      process.env.TEST_TIER_WITHOUT_SERVICES
        ? 'Azurite is not running: this file is in the unit tier, which starts no service; move it to a tier that does (test/integration/ for lib code, see the README, Development)'
        : 'Azurite is not running: jest globalSetup did not run',
    );
  }
  return { connectionString, ingestConnectionString, ingestKey, ports };
}

/** A fresh, uniquely named container in the development account. */
export async function freshContainer(prefix = 't'): Promise<ContainerClient> {
  const service = BlobServiceClient.fromConnectionString(testStorage().connectionString);
  const container = service.getContainerClient(`${prefix}-${randomBytes(6).toString('hex')}`.toLowerCase());
  await container.create();
  return container;
}
