/**
 * Set up before every file of the unit tier, which starts no service. In a full run the shared
 * Azurite's coordinates are in the environment the workers inherit; hiding them here makes a
 * unit test that reaches for storage fail in `npm test` exactly as in `npm run test:unit`.
 */
for (const name of Object.keys(process.env)) {
  if (name.startsWith('TEST_AZURITE_')) delete process.env[name];
}
process.env.TEST_TIER_WITHOUT_SERVICES = '1';
