import { createWriteStream } from 'node:fs';
import { writeZip } from '../lib/zip/writer';
import { packageFileFor } from './packages';

/** The demo app the emulator seeds by default. */
export const DEMO_APP_ID = '9NBLGGH4R315';

/** A tiny but well-formed PNG (1×1), enough for the Store emulator, which checks presence, not pixels. */
export const PNG_1X1 = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
    '1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082',
  'hex',
);

export function demoManifest(releaseNotes = 'Released from the sandbox demo.'): Record<string, unknown> {
  return {
    target: { kind: 'app', applicationId: DEMO_APP_ID },
    submission: {
      listings: {
        'en-us': {
          baseListing: {
            releaseNotes,
            images: [
              { fileName: 'images/en-us/screenshot-1.png', imageType: 'Screenshot', description: 'Main window' },
            ],
          },
        },
      },
      applicationPackages: [{ fileName: DEMO_PACKAGE }],
    },
    options: { waitFor: 'published' },
  };
}

/** The demo app's package identity (the emulator's seed), which the Store checks every package against. */
export const DEMO_IDENTITY = { name: 'Contoso.Demo', publisher: 'CN=Contoso Ltd.' };
const DEMO_PACKAGE = 'packages/Contoso.Demo_1.2.3.0_x64.msixupload';

/**
 * Writes the demo submission zip: a manifest, one package (a minimal real .msixupload of the demo
 * app, version 1.2.3.0, which the Store's package validation accepts once) and one screenshot.
 */
export async function writeDemoZip(path: string, manifest: Record<string, unknown> = demoManifest()): Promise<number> {
  const out = createWriteStream(path);
  const { bytes } = await writeZip(
    [
      { name: 'submission.json', data: Buffer.from(JSON.stringify(manifest, null, 2)), compress: true },
      { name: DEMO_PACKAGE, data: await packageFileFor(DEMO_PACKAGE, DEMO_IDENTITY) },
      { name: 'images/en-us/screenshot-1.png', data: PNG_1X1 },
    ],
    out,
  );
  return bytes;
}
