/** `npm run drop -- <zip> [name]`: uploads a zip into the sandbox's submissions container. */
import { BlobServiceClient } from '@azure/storage-blob';
import { basename } from 'node:path';

async function main(): Promise<void> {
  const [file, name] = process.argv.slice(2);
  if (!file) throw new Error('Usage: npm run drop -- <path to zip> [blob name]');
  const connection = process.env.SUBMISSIONS_STORAGE ?? 'UseDevelopmentStorage=true';
  const container = BlobServiceClient.fromConnectionString(connection).getContainerClient(
    process.env.SUBMISSIONS_CONTAINER ?? 'submissions',
  );
  await container.createIfNotExists();
  const blob = container.getBlockBlobClient(name ?? basename(file));
  const result = await blob.uploadFile(file);
  console.log(
    `Uploaded ${container.containerName}/${blob.name} (ETag ${result.etag}). Runs: http://127.0.0.1:7071/api/submissions?blob=${encodeURIComponent(blob.name)}`,
  );
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
