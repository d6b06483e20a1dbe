// The browser app's Fashion-MNIST: the Vite plugin (web/vite/fashion-mnist-plugin.ts) built into a
// tiny bundle as a real build emits it, its assets decoded by the app's loader
// (web/app/fashion-mnist-data.ts) and compared with the CLI's loader (src/io/datasets): the same
// test images and labels, and the same first training images for calibration. Without the package
// the bundle still builds and says what to install.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, preview } from 'vite';
import { describe, expect, it } from 'vitest';
import { fashionMnistEvalData } from '../../src/io/datasets/eval-data.ts';
import { loadFashionMnist } from '../../src/io/datasets/fashion-mnist-node.ts';
import { fashionMnistFromAssets, idxFromAsset, type FashionMnistAssets } from '../../web/app/fashion-mnist-data.ts';
import { FASHION_MNIST_CALIBRATION_IMAGES, fashionMnistPlugin } from '../../web/vite/fashion-mnist-plugin.ts';
import { tempDir } from '../helpers/files.ts';

/** Builds an ES bundle whose default export is the virtual module's value, and imports it. */
async function buildAssets(dir: string, calibration?: number): Promise<{ assets: FashionMnistAssets; warnings: string[]; outDir: string; read(url: string): Uint8Array }> {
  const root = tempDir();
  const entry = join(root, 'entry.js');
  writeFileSync(entry, "import { fashionMnistAssets } from 'virtual:xbarsim-fashion-mnist';\nexport default fashionMnistAssets;\n");
  const warnings: string[] = [];
  await build({
    configFile: false,
    root,
    logLevel: 'silent',
    plugins: [fashionMnistPlugin({ dir, calibration })],
    build: {
      outDir: join(root, 'dist'),
      lib: { entry, formats: ['es'], fileName: () => 'entry.js' },
      rollupOptions: { onwarn: (w) => void warnings.push(w.message) },
    },
  });
  const mod = (await import(pathToFileURL(join(root, 'dist', 'entry.js')).href)) as { default: FashionMnistAssets };
  // The app's base is '/': an asset's URL is its path below the output folder.
  const read = (url: string): Uint8Array => new Uint8Array(readFileSync(join(root, 'dist', url)));
  return { assets: mod.default, warnings, outDir: join(root, 'dist'), read };
}

/** Float32 arrays equal bit for bit (fast: compares the bytes). */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

describe('browser app Fashion-MNIST assets (Vite plugin + loader)', () => {
  it('emits the test split and the calibration slice; decoded, they equal src/io/datasets', async () => {
    const { assets, read, outDir } = await buildAssets('/usr/share/datasets/fashion-mnist');
    if (!assets.available) throw new Error(`Fashion-MNIST not available: ${assets.reason}`);
    expect(assets.testImages).toBe(10_000);
    expect(assets.trainImages).toBe(60_000);
    expect(assets.calibrationImages).toBe(FASHION_MNIST_CALIBRATION_IMAGES);
    // The test split is the package's own file, passed through.
    expect(Buffer.compare(read(assets.urls.testImages), readFileSync('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz'))).toBe(0);

    const test = await fashionMnistFromAssets(read(assets.urls.testImages), read(assets.urls.testLabels), 'test', 'test');
    const train = await fashionMnistFromAssets(read(assets.urls.trainImages), read(assets.urls.trainLabels), 'train', 'train');
    const cliTest = loadFashionMnist('test');
    expect(test.n).toBe(10_000);
    expect(sameBits(test.images, cliTest.images)).toBe(true);
    expect(Array.from(test.labels)).toEqual(Array.from(cliTest.labels));
    expect(train.n).toBe(FASHION_MNIST_CALIBRATION_IMAGES);
    const cliTrain = loadFashionMnist('train', FASHION_MNIST_CALIBRATION_IMAGES);
    expect(sameBits(train.images, cliTrain.images)).toBe(true);
    expect(Array.from(train.labels)).toEqual(Array.from(cliTrain.labels));

    // What `eval --dataset fashion-mnist --limit 50` feeds at calibration.samples 300: the same slices.
    const cli = fashionMnistEvalData([1, 28, 28], 50, 300, 10);
    expect(sameBits(test.images.subarray(0, 50 * 784), cli.x)).toBe(true);
    expect(Array.from(test.labels.subarray(0, 50))).toEqual(Array.from(cli.labels));
    expect(sameBits(train.images.subarray(0, 300 * 784), cli.calibration!.x)).toBe(true);

    // Served by `vite preview` (sirv sends a .gz file with Content-Encoding: gzip, so fetch inflates
    // it): the loader takes the plain IDX bytes and decodes the same images.
    const server = await preview({ configFile: false, logLevel: 'silent', build: { outDir }, preview: { host: '127.0.0.1', port: 0 } });
    try {
      const addr = server.httpServer.address();
      if (!addr || typeof addr === 'string') throw new Error('vite preview has no port');
      const encodings: (string | null)[] = [];
      const get = async (url: string): Promise<Uint8Array> => {
        const res = await fetch(`http://127.0.0.1:${addr.port}${url}`);
        encodings.push(res.headers.get('content-encoding'));
        return new Uint8Array(await res.arrayBuffer());
      };
      const served = await fashionMnistFromAssets(await get(assets.urls.testImages), await get(assets.urls.testLabels), 'test', 'served test');
      expect(sameBits(served.images, cliTest.images)).toBe(true);
      expect(Array.from(served.labels)).toEqual(Array.from(cliTest.labels));
      expect(encodings).toEqual(['gzip', 'gzip']);
    } finally {
      await server.close();
    }
  }, 60_000);

  it('carries a smaller slice when asked, cut from the start of the training split', async () => {
    const { assets, read } = await buildAssets('/usr/share/datasets/fashion-mnist', 5);
    if (!assets.available) throw new Error(assets.reason);
    const train = await fashionMnistFromAssets(read(assets.urls.trainImages), read(assets.urls.trainLabels), 'train', 'train');
    expect(train.n).toBe(5);
    expect(sameBits(train.images, loadFashionMnist('train', 5).images)).toBe(true);
  }, 60_000);

  it('builds without the package and says which one to install', async () => {
    const { assets, warnings } = await buildAssets(join(tempDir(), 'no-such-dir'));
    expect(assets.available).toBe(false);
    if (assets.available) return;
    expect(assets.reason).toContain('apt-get install dataset-fashion-mnist');
    expect(assets.reason).toContain('no-such-dir/t10k-images-idx3-ubyte.gz not found');
    expect(assets.reason).not.toContain('\n');
    expect(warnings.some((w) => w.includes('apt-get install dataset-fashion-mnist'))).toBe(true);
  }, 60_000);

  it('decodes plain IDX bytes too (a server that already inflated them) and names a broken file', async () => {
    const idx = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]);
    expect(Array.from((await idxFromAsset(idx, 'plain')).data)).toEqual([7, 8, 9]);
    expect(Array.from((await idxFromAsset(gzipSync(idx), 'gz')).data)).toEqual([7, 8, 9]);
    const broken = gzipSync(idx).subarray(0, 12);
    await expect(idxFromAsset(broken, 'labels.gz')).rejects.toThrow(/^labels\.gz: not a valid gzip file/);
  });
});
