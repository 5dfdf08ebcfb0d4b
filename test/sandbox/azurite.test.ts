import { BlobServiceClient } from '@azure/storage-blob';
import { freshContainer, testStorage } from '../helpers/azurite';

describe('Azurite from the sandbox launcher', () => {
  it('serves the development account and the separate ingestion account', async () => {
    const container = await freshContainer();
    await container.getBlockBlobClient('a.txt').upload('hello', 5);
    const props = await container.getBlobClient('a.txt').getProperties();
    expect(props.contentLength).toBe(5);

    const ingest = BlobServiceClient.fromConnectionString(testStorage().ingestConnectionString);
    const c2 = ingest.getContainerClient(`ingest-${Date.now()}`);
    await c2.create();
    expect(await c2.exists()).toBe(true);
    expect(ingest.accountName).toBe('storeingest');
  });
});
