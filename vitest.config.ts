import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Property runs are bounded for CI; `KAFKAESQUE_LONG=1` lengthens them (see README).
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
