/**
 * One jest project per test tier. A test file's folder decides its tier (the deepest folder
 * listed wins), the same table is in the README's Development section:
 *
 *   npm test                             every tier (builds first: the sandbox host runs dist/)
 *   npm run test:unit                    the unit tier: no build, no service, seconds
 *   npm test -- --selectProjects e2e     one tier
 *
 * Only tiers with `services: true` start the shared Azurite (the globalSetup below runs once
 * per jest run, and only when a selected test belongs to such a tier). A test file under
 * test/ that no tier claims stops the run here instead of being skipped without a word.
 * Tests run against TypeScript sources.
 */
const { readdirSync } = require('node:fs');
const { join, relative, sep } = require('node:path');

const TIERS = [
  { name: 'unit', folders: ['lib', 'orchestrations/inprocess', 'cli/pack'], services: false },
  { name: 'integration', folders: ['integration'], services: true },
  { name: 'orchestrations', folders: ['orchestrations'], services: true },
  { name: 'e2e', folders: ['e2e', 'functions'], services: true },
  { name: 'reliability', folders: ['reliability'], services: true },
  { name: 'cli', folders: ['cli'], services: true },
  { name: 'sandbox', folders: ['sandbox'], services: true },
  { name: 'bench', folders: ['bench'], services: true },
  { name: 'differential', folders: ['differential'], services: true },
  { name: 'deploy', folders: ['tools', 'infra'], services: false },
];

const folders = TIERS.flatMap((tier) => tier.folders);
const inside = (path, folder) => path === folder || path.startsWith(`${folder}/`);

/** The tier of a path relative to test/ (forward slashes), or undefined. */
function tierOf(path) {
  const folder = folders.filter((f) => inside(path, f)).sort((a, b) => b.length - a.length)[0];
  return folder && TIERS.find((tier) => tier.folders.includes(folder));
}

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const testRoot = join(__dirname, 'test');
const unclaimed = testFiles(testRoot)
  .map((file) => relative(testRoot, file).split(sep).join('/'))
  .filter((file) => !tierOf(file));
if (unclaimed.length > 0) {
  throw new Error(
    `jest.config.js: no test tier claims ${unclaimed.map((f) => `test/${f}`).join(', ')}; ` +
      'put the file in a tier folder or add its folder to TIERS (and to the README table)',
  );
}

module.exports = {
  // The cap on a test that keeps moving without getting there; a wait in which nothing moves
  // gives up sooner, saying what it saw (test/helpers/eventually.ts). A test on a quiet machine
  // takes seconds, and the slowest took 11 minutes on one twenty times oversubscribed.
  testTimeout: 30 * 60_000,
  maxWorkers: 2,
  projects: TIERS.map((tier) => ({
    displayName: tier.name,
    rootDir: __dirname,
    testEnvironment: 'node',
    testMatch: tier.folders.map((folder) => `<rootDir>/test/${folder}/**/*.test.ts`),
    // A folder of a deeper tier (orchestrations/inprocess inside orchestrations) is not ours.
    testPathIgnorePatterns: [
      '/node_modules/',
      ...folders
        .filter((f) => !tier.folders.includes(f) && tier.folders.some((mine) => inside(f, mine)))
        .map((f) => `<rootDir>/test/${f}/`),
    ],
    transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
    ...(tier.services
      ? {
          globalSetup: '<rootDir>/test/helpers/globalSetup.ts',
          globalTeardown: '<rootDir>/test/helpers/globalTeardown.ts',
          setupFilesAfterEnv: ['<rootDir>/test/helpers/engineSetup.ts'],
        }
      : { setupFiles: ['<rootDir>/test/helpers/noServices.ts'] }),
  })),
};
