/**
 * Minimal MSIX packages, bundles and upload files for the sandbox: real enough for the Store
 * emulator's PreProcessing (and the pipeline's own package check) to read their identity, and
 * nothing more (no signature, no block map hashes, no executable). The layout follows what the
 * packaging tools write: the payload first, the footprint files (manifest, block map, content
 * types) at the end.
 */
import { PassThrough } from 'node:stream';
import { writeZip, type ZipWriterEntry } from '../lib/zip/writer';

export interface PackageSpec {
  /** Identity/@Name, e.g. `Contoso.Demo`. */
  name: string;
  /** Identity/@Publisher, e.g. `CN=Contoso Ltd.`. */
  publisher: string;
  /** Four parts, e.g. `1.2.3.0`. */
  version: string;
  /** `x64` (default), `x86`, `arm`, `arm64`, `neutral`. */
  architecture?: string;
  /** Languages of Resources/Resource (default en-us). */
  languages?: string[];
}

export interface BundleSpec {
  name: string;
  publisher: string;
  version: string;
  /** The application packages inside, each with its file name in the bundle. */
  packages: Array<{ fileName: string; spec: PackageSpec }>;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** The AppxManifest.xml of a minimal desktop package. */
export function appxManifest(spec: PackageSpec): string {
  const arch = spec.architecture ?? 'x64';
  const languages = spec.languages ?? ['en-us'];
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<Package xmlns="http://schemas.microsoft.com/appx/manifest/foundation/windows10"',
    '  xmlns:uap="http://schemas.microsoft.com/appx/manifest/uap/windows10"',
    '  xmlns:rescap="http://schemas.microsoft.com/appx/manifest/foundation/windows10/restrictedcapabilities"',
    '  IgnorableNamespaces="uap rescap">',
    `  <Identity Name="${escapeXml(spec.name)}" Publisher="${escapeXml(spec.publisher)}" Version="${escapeXml(spec.version)}" ProcessorArchitecture="${escapeXml(arch)}" />`,
    '  <Properties>',
    `    <DisplayName>${escapeXml(spec.name)}</DisplayName>`,
    '    <PublisherDisplayName>Contoso</PublisherDisplayName>',
    '    <Logo>Assets\\StoreLogo.png</Logo>',
    '  </Properties>',
    '  <Dependencies>',
    '    <TargetDeviceFamily Name="Windows.Desktop" MinVersion="10.0.17763.0" MaxVersionTested="10.0.22621.0" />',
    '  </Dependencies>',
    '  <Resources>',
    ...languages.map((l) => `    <Resource Language="${escapeXml(l)}" />`),
    '  </Resources>',
    '  <Applications>',
    '    <Application Id="App" Executable="App.exe" EntryPoint="Windows.FullTrustApplication">',
    `      <uap:VisualElements DisplayName="${escapeXml(spec.name)}" Description="App" BackgroundColor="transparent" Square150x150Logo="Assets\\Square150x150Logo.png" Square44x44Logo="Assets\\Square44x44Logo.png" />`,
    '    </Application>',
    '  </Applications>',
    '  <Capabilities>',
    '    <Capability Name="internetClient" />',
    '    <rescap:Capability Name="runFullTrust" />',
    '  </Capabilities>',
    '</Package>',
    '',
  ].join('\n');
}

/** The AppxMetadata/AppxBundleManifest.xml of a bundle of application packages. */
export function bundleManifest(bundle: BundleSpec): string {
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<Bundle xmlns="http://schemas.microsoft.com/appx/2013/bundle" SchemaVersion="5.0">',
    `  <Identity Name="${escapeXml(bundle.name)}" Publisher="${escapeXml(bundle.publisher)}" Version="${escapeXml(bundle.version)}" />`,
    '  <Packages>',
    ...bundle.packages.map(
      (p) =>
        `    <Package Type="application" Version="${escapeXml(p.spec.version)}" Architecture="${escapeXml(p.spec.architecture ?? 'x64')}" FileName="${escapeXml(p.fileName)}" />`,
    ),
    '  </Packages>',
    '</Bundle>',
    '',
  ].join('\n');
}

const CONTENT_TYPES =
  '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
  '<Default Extension="xml" ContentType="application/vnd.ms-appx.manifest+xml" /></Types>';

/**
 * The zip entries of a package: `payload` (e.g. a large stream for a benchmark, or nothing), a
 * placeholder executable, then the footprint files, deflated as the packaging tools do.
 */
export function packageEntries(
  spec: PackageSpec,
  payload: ZipWriterEntry[] = [],
  options: { compress?: boolean } = {},
): ZipWriterEntry[] {
  const compress = options.compress ?? true;
  return [
    ...payload,
    { name: 'App.exe', data: Buffer.from(`MZ placeholder for ${spec.name} ${spec.version}\n`) },
    { name: 'AppxManifest.xml', data: Buffer.from(appxManifest(spec)), compress },
    { name: 'AppxBlockMap.xml', data: Buffer.from('<?xml version="1.0" encoding="UTF-8"?><BlockMap />'), compress },
    { name: '[Content_Types].xml', data: Buffer.from(CONTENT_TYPES), compress },
  ];
}

/** Writes `entries` as a zip into memory: for the small packages of tests and the demo. */
export async function zipToBuffer(entries: ZipWriterEntry[]): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await writeZip(entries, out);
  return Buffer.concat(chunks);
}

/** A minimal .msix with `spec`'s identity. */
export function packageBytes(spec: PackageSpec): Promise<Buffer> {
  return zipToBuffer(packageEntries(spec));
}

/** A minimal .msixbundle: its bundle manifest and its packages, stored as bundles store them. */
export async function bundleBytes(bundle: BundleSpec): Promise<Buffer> {
  const inner = await Promise.all(
    bundle.packages.map(async (p) => ({ name: p.fileName, data: await packageBytes(p.spec) })),
  );
  return zipToBuffer([
    ...inner,
    { name: 'AppxMetadata/AppxBundleManifest.xml', data: Buffer.from(bundleManifest(bundle)), compress: true },
    {
      name: 'AppxBlockMap.xml',
      data: Buffer.from('<?xml version="1.0" encoding="UTF-8"?><BlockMap />'),
      compress: true,
    },
    { name: '[Content_Types].xml', data: Buffer.from(CONTENT_TYPES), compress: true },
  ]);
}

/** A minimal .msixupload: the package (or bundle) `inner` and a symbols file, as Visual Studio writes it. */
export function uploadBytes(inner: { fileName: string; bytes: Buffer }): Promise<Buffer> {
  const base = inner.fileName.replace(/\.[^.]+$/, '');
  return zipToBuffer([
    { name: inner.fileName, data: inner.bytes },
    { name: `${base}.appxsym`, data: Buffer.from('symbols placeholder\n'), compress: true },
  ]);
}

/**
 * The package a file name like `Contoso.Demo_1.2.3.0_x64.msixupload` stands for, as the
 * sandbox's demo and tests name them: an upload file around one .msix with that identity.
 */
export async function packageFileFor(fileName: string, identity: { name: string; publisher: string }): Promise<Buffer> {
  const base = fileName.split('/').pop() ?? fileName;
  const version = /_(\d+\.\d+\.\d+\.\d+)_/.exec(base)?.[1] ?? '1.0.0.0';
  const architecture = /_(x64|x86|arm64|arm|neutral)[._]/i.exec(base)?.[1]?.toLowerCase() ?? 'x64';
  const spec: PackageSpec = { ...identity, version, architecture };
  const msix = await packageBytes(spec);
  if (/\.(msix|appx)$/i.test(base)) return msix;
  const innerName = `${identity.name}_${version}_${architecture}.msix`;
  if (/\.(msixbundle|appxbundle)$/i.test(base)) {
    return bundleBytes({ ...identity, version, packages: [{ fileName: innerName, spec }] });
  }
  return uploadBytes({ fileName: innerName, bytes: msix });
}
