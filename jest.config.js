/** Tests run against TypeScript sources; the sandbox host runs the built app in dist/ (npm test builds first). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  globalSetup: '<rootDir>/test/helpers/globalSetup.ts',
  globalTeardown: '<rootDir>/test/helpers/globalTeardown.ts',
  setupFilesAfterEnv: ['<rootDir>/test/helpers/engineSetup.ts'],
  testTimeout: 60000,
  maxWorkers: 2,
};
