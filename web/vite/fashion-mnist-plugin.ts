// Fashion-MNIST built into the browser app. The data are Debian's dataset-fashion-mnist files, read
// at build (or dev-server) time, never at run time: the page fetches its own assets, offline. The
// test split is passed through as the package's gzipped IDX files; the training split is cut to the
// first FASHION_MNIST_CALIBRATION_IMAGES images (the CLI calibrates on the first
// calibration.samples of it, src/io/datasets/eval-data.ts) so the page does not carry 26 MB it
// would never use. Without the package the app still builds; the virtual module then says why.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';
import type { FashionMnistAssetKey, FashionMnistAssets } from 'virtual:xbarsim-fashion-mnist';
import { messageOf } from '../../src/errors.ts';
import { FASHION_MNIST_FILES, fashionMnistDataset } from '../../src/io/datasets/fashion-mnist.ts';
import { FASHION_MNIST_PACKAGE, fashionMnistDir } from '../../src/io/datasets/fashion-mnist-node.ts';
import { parseIdx, type IdxArray } from '../../src/io/datasets/idx.ts';

/** The module the app imports. */
export const FASHION_MNIST_MODULE = 'virtual:xbarsim-fashion-mnist';
const RESOLVED_ID = `\0${FASHION_MNIST_MODULE}`;

/**
 * Training images in the app's calibration slice: as many as the app's MNIST has for calibration
 * (its 8,000 training digits), far above the default calibration.samples (256); a larger
 * calibration needs the CLI, which reads all 60,000.
 */
export const FASHION_MNIST_CALIBRATION_IMAGES = 8000;

/** Where the dev server serves the files (below the app's base). */
const DEV_PREFIX = '@xbarsim/fashion-mnist/';

/** The files to serve or emit, with their image counts, or why there are none. */
export type FashionMnistBuildData =
  | { ok: true; testImages: number; calibrationImages: number; trainImages: number; files: Record<FashionMnistAssetKey, { name: string; bytes: Uint8Array }> }
  | { ok: false; reason: string };

/** The one-line reason shown in the app when the package is missing. */
export function missingReason(path: string, why: string): string {
  return `Fashion-MNIST needs Debian's ${FASHION_MNIST_PACKAGE} package (apt-get install ${FASHION_MNIST_PACKAGE}), then a rebuild or restart of the app: ${path} ${why}`;
}

class Missing extends Error {}

function readGz(path: string): { gz: Uint8Array; raw: Uint8Array; idx: IdxArray } {
  let gz: Buffer;
  try {
    gz = readFileSync(path);
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
    throw new Missing(missingReason(path, code === 'ENOENT' ? 'not found' : `cannot be read (${code || messageOf(e)})`));
  }
  let raw: Buffer;
  try {
    raw = gunzipSync(gz);
  } catch (e) {
    throw new Missing(`Fashion-MNIST: ${path} is not a valid gzip file (${messageOf(e)}); reinstall ${FASHION_MNIST_PACKAGE}`);
  }
  const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  return { gz, raw: bytes, idx: parseIdx(bytes, path) };
}

/** The first `n` entries of an IDX file: its header with the first dimension set to `n`, then their bytes. */
function idxPrefix(raw: Uint8Array, idx: IdxArray, n: number): Uint8Array {
  const header = raw.length - idx.data.length;
  const per = idx.dims.slice(1).reduce((a, b) => a * b, 1);
  const out = new Uint8Array(header + n * per);
  out.set(raw.subarray(0, header));
  new DataView(out.buffer).setUint32(4, n, false);
  out.set(idx.data.subarray(0, n * per), header);
  return out;
}

/** Reads the package's files in `dir` into the app's four assets (test split whole, first `calibration` training images). */
export function readFashionMnistAssets(dir: string, calibration = FASHION_MNIST_CALIBRATION_IMAGES): FashionMnistBuildData {
  try {
    const split = (name: 'train' | 'test') => {
      const f = FASHION_MNIST_FILES[name];
      const images = readGz(join(dir, f.images));
      const labels = readGz(join(dir, f.labels));
      // Shapes and image/label counts checked as the CLI checks them (no image converted: limit 0).
      fashionMnistDataset(images.idx, labels.idx, `fashion-mnist-${name}`, join(dir, f.images), 0);
      return { images, labels, n: images.idx.dims[0] };
    };
    const test = split('test');
    const train = split('train');
    const c = Math.min(calibration, train.n);
    return {
      ok: true,
      testImages: test.n,
      calibrationImages: c,
      trainImages: train.n,
      files: {
        testImages: { name: 'fashion-mnist-t10k-images.idx.gz', bytes: test.images.gz },
        testLabels: { name: 'fashion-mnist-t10k-labels.idx.gz', bytes: test.labels.gz },
        // Fixed gzip settings and Node's zero mtime make the same files give the same bytes (stable asset hashes).
        trainImages: { name: `fashion-mnist-train-${c}-images.idx.gz`, bytes: gzipSync(idxPrefix(train.images.raw, train.images.idx, c)) },
        trainLabels: { name: `fashion-mnist-train-${c}-labels.idx.gz`, bytes: gzipSync(idxPrefix(train.labels.raw, train.labels.idx, c)) },
      },
    };
  } catch (e) {
    return { ok: false, reason: e instanceof Missing ? e.message : `Fashion-MNIST: ${messageOf(e)}` };
  }
}

export interface FashionMnistPluginOptions {
  /** The package's folder (default: $XBARSIM_FASHION_MNIST_DIR, else Debian's). */
  dir?: string;
  /** Training images to carry for calibration (default FASHION_MNIST_CALIBRATION_IMAGES). */
  calibration?: number;
}

/** The Vite plugin: `import { fashionMnistAssets } from 'virtual:xbarsim-fashion-mnist'` in the app. */
export function fashionMnistPlugin(opts: FashionMnistPluginOptions = {}): Plugin {
  let data: FashionMnistBuildData | null = null;
  let build = false;
  let base = '/';
  // Read on first import of the module only: vitest and builds that never import it pay nothing.
  const get = (): FashionMnistBuildData => (data ??= readFashionMnistAssets(opts.dir ?? fashionMnistDir(), opts.calibration));
  return {
    name: 'xbarsim-fashion-mnist',
    configResolved(config) {
      build = config.command === 'build';
      base = config.base.endsWith('/') ? config.base : `${config.base}/`;
    },
    resolveId(id) {
      return id === FASHION_MNIST_MODULE ? RESOLVED_ID : null;
    },
    load(id) {
      if (id !== RESOLVED_ID) return null;
      const d = get();
      if (!d.ok) {
        this.warn(d.reason);
        const off: FashionMnistAssets = { available: false, reason: d.reason };
        return `export const fashionMnistAssets = ${JSON.stringify(off)};\n`;
      }
      const urls = Object.entries(d.files).map(([key, f]) => {
        if (!build) return `${JSON.stringify(key)}: ${JSON.stringify(`${base}${DEV_PREFIX}${f.name}`)}`;
        const ref = this.emitFile({ type: 'asset', name: f.name, source: f.bytes });
        return `${JSON.stringify(key)}: import.meta.ROLLUP_FILE_URL_${ref}`;
      });
      const counts = `testImages: ${d.testImages}, calibrationImages: ${d.calibrationImages}, trainImages: ${d.trainImages}`;
      return `export const fashionMnistAssets = { available: true, ${counts}, urls: { ${urls.join(', ')} } };\n`;
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? '').split('?')[0];
        const prefix = `${base}${DEV_PREFIX}`;
        if (!path.startsWith(prefix)) return next();
        const d = get();
        const f = d.ok ? Object.values(d.files).find((x) => x.name === path.slice(prefix.length)) : undefined;
        if (!f) {
          res.statusCode = 404;
          res.end(d.ok ? 'no such Fashion-MNIST asset' : d.reason);
          return;
        }
        res.setHeader('Content-Type', 'application/octet-stream');
        res.setHeader('Content-Length', String(f.bytes.length));
        res.end(f.bytes);
      });
    },
  };
}
