import { BlobServiceClient } from '@azure/storage-blob';
import { startRunForBlob } from '../../lib/runClient';
import { ZIP_METADATA } from '../../lib/storage';
import { freshContainer, testStorage } from '../helpers/azurite';
import { MapClient } from '../helpers/mapClient';

/** The start decisions over a real blob in Azurite (the Durable client is a map, helpers/mapClient.ts). */
describe('startRunForBlob', () => {
  it('starts one run per blob version, and a new one for a new upload', async () => {
    const container = await freshContainer('runs');
    const blob = container.getBlockBlobClient('app.zip');
    await blob.upload('v1', 2);
    const client = new MapClient();
    const identity = { container: container.containerName, name: 'app.zip' };
    const first = await startRunForBlob(client, blob, identity, { source: 'blob' });
    const again = await startRunForBlob(client, blob, identity, { source: 'http' });
    expect(first.started).toBe(true);
    expect(again).toMatchObject({ started: false, instanceId: first.instanceId });
    await blob.upload('v2', 2);
    const second = await startRunForBlob(client, blob, identity, { source: 'blob' });
    expect(second.started).toBe(true);
    expect(second.instanceId).not.toBe(first.instanceId);
    expect(client.started).toHaveLength(2);
  });

  it('points a zip stamped by a finished run to that run instead of starting another', async () => {
    const container = await freshContainer('runs');
    const blob = container.getBlockBlobClient('stamped.zip');
    await blob.upload('v1', 2);
    await blob.setMetadata({ [ZIP_METADATA.instanceId]: 'zip-earlier' });
    const client = new MapClient();
    const result = await startRunForBlob(
      client,
      blob,
      { container: container.containerName, name: 'stamped.zip' },
      { source: 'blob' },
    );
    expect(result).toMatchObject({ instanceId: 'zip-earlier', started: false });
    expect(client.started).toHaveLength(0);
  });

  it('says which blob is missing', async () => {
    const service = BlobServiceClient.fromConnectionString(testStorage().connectionString);
    const blob = service.getContainerClient('nothing-here').getBlobClient('gone.zip');
    await expect(
      startRunForBlob(new MapClient(), blob, { container: 'nothing-here', name: 'gone.zip' }, { source: 'http' }),
    ).rejects.toThrow('No blob named "gone.zip" in container "nothing-here"');
  });
});
