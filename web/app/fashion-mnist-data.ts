// The pure decoding of the Fashion-MNIST assets that web/vite/fashion-mnist-plugin.ts builds into the
// app (their types are the virtual module's, web/app/virtual-modules.d.ts): the same IDX parser and
// byte/255 conversion as the CLI (src/io/datasets/idx.ts, fashion-mnist.ts), so the browser
// evaluates bit-identical pixels.
import { parseIdx, type IdxArray } from '../../src/io/datasets/idx.ts';
import { fashionMnistDataset, type FashionMnistSplitName } from '../../src/io/datasets/fashion-mnist.ts';
import type { Dataset } from '../../src/io/datasets/mnist.ts';

export type { FashionMnistAssetKey, FashionMnistAssets } from 'virtual:xbarsim-fashion-mnist';

/** gzip's two magic bytes (RFC 1952 section 2.3.1). */
function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Parses an asset's bytes as IDX, gunzipping them first when they are gzip: a server that sends
 * `.gz` files with `Content-Encoding: gzip` has the browser inflate them already.
 */
export async function idxFromAsset(bytes: Uint8Array, label: string): Promise<IdxArray> {
  if (!isGzip(bytes)) return parseIdx(bytes, label);
  let raw: ArrayBuffer;
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
    raw = await new Response(stream).arrayBuffer();
  } catch (e) {
    throw new Error(`${label}: not a valid gzip file (${e instanceof Error ? e.message : String(e)})`);
  }
  return parseIdx(new Uint8Array(raw), label);
}

/** A split's images and labels from its two asset files, as the CLI's loadFashionMnist builds them. */
export async function fashionMnistFromAssets(images: Uint8Array, labels: Uint8Array, split: FashionMnistSplitName, label: string): Promise<Dataset> {
  const [x, y] = await Promise.all([idxFromAsset(images, `${label} images`), idxFromAsset(labels, `${label} labels`)]);
  return fashionMnistDataset(x, y, `fashion-mnist-${split}`, label);
}
