import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { fashionMnistPlugin } from './web/vite/fashion-mnist-plugin.ts';

// One config for the browser app (web/) and for vitest.
export default defineConfig({
  root: '.',
  // Fashion-MNIST from Debian's package, built into the app as assets (web/vite/fashion-mnist-plugin.ts).
  plugins: [fashionMnistPlugin()],
  build: {
    outDir: 'dist/web',
    rollupOptions: { input: { app: 'web/index.html', smoke: 'web/smoke.html' } },
    // The app is one page whose code is mostly Vega, zod and the ONNX protobufs (~1.2 MB, loaded once).
    chunkSizeWarningLimit: 1500,
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Dawn is a native addon: separate processes keep its instances apart and let workers exit cleanly.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Commands spawned by tests tune the crossbar kernel into a folder of this test run, never the user's cache.
    env: { XBARSIM_TUNING_DIR: join(tmpdir(), `xbarsim-test-tuning-${process.pid}`) },
  },
});
