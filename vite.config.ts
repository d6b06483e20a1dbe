import { defineConfig } from 'vitest/config';

// One config for the browser app (web/) and for vitest.
export default defineConfig({
  root: '.',
  build: { outDir: 'dist/web', rollupOptions: { input: { smoke: 'web/smoke.html' } } },
  test: {
    include: ['test/**/*.test.ts'],
    // Dawn is a native addon: separate processes keep its instances apart and let workers exit cleanly.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
