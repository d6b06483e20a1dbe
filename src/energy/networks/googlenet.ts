/** GoogLeNet (Inception v1) by layer shapes, in the three forms users meet. */
import { ShapeBuilder, type Act, type PoolOptions } from './builder.ts';
import type { ShapeNetwork } from '../layers.ts';

/** Inception module widths: 1×1, 3×3 reduce, 3×3, 5×5 reduce, 5×5, pool projection (Szegedy et al. 2015, Table 1). */
type Widths = readonly [number, number, number, number, number, number];
const MODULES: Readonly<Record<string, Widths>> = {
  '3a': [64, 96, 128, 16, 32, 32],
  '3b': [128, 128, 192, 32, 96, 64],
  '4a': [192, 96, 208, 16, 48, 64],
  '4b': [160, 112, 224, 24, 64, 64],
  '4c': [128, 128, 256, 24, 64, 64],
  '4d': [112, 144, 288, 32, 64, 64],
  '4e': [256, 160, 320, 32, 128, 128],
  '5a': [256, 160, 320, 32, 128, 128],
  '5b': [384, 192, 384, 48, 128, 128],
};

interface Variant {
  name: string;
  source: string;
  /** Kernel of the "5×5" branch (torchvision uses 3×3, a known bug kept for its weights). */
  k5: number;
  /** The four stride-2 max-pools. */
  pools: readonly [PoolOptions & { k: number }, PoolOptions & { k: number }, PoolOptions & { k: number }, PoolOptions & { k: number }];
  names: (module: string, branch: string) => string;
}

function build(v: Variant, h: number, w: number): ShapeNetwork {
  const b = new ShapeBuilder(v.name, v.source, [3, h, w]);
  let x: Act = b.conv(b.input(), 'conv1', 64, 7, { stride: 2, pad: 3 });
  x = b.pool(x, v.pools[0].k, v.pools[0]);
  x = b.conv(x, 'conv2.reduce', 64, 1);
  x = b.conv(x, 'conv2', 192, 3, { pad: 1 });
  x = b.pool(x, v.pools[1].k, v.pools[1]);
  const inception = (m: string): void => {
    const [c1, c3r, c3, c5r, c5, pp] = MODULES[m];
    const n = (branch: string): string => v.names(m, branch);
    const b1 = b.conv(x, n('1x1'), c1, 1);
    const b2 = b.conv(b.conv(x, n('3x3_reduce'), c3r, 1), n('3x3'), c3, 3, { pad: 1 });
    const b3 = b.conv(b.conv(x, n('5x5_reduce'), c5r, 1), n('5x5'), c5, v.k5, { pad: (v.k5 - 1) / 2 });
    const b4 = b.conv(b.pool(x, 3, { stride: 1, pad: 1, ceil: true }), n('pool_proj'), pp, 1);
    x = b.concat([b1, b2, b3, b4]);
  };
  inception('3a');
  inception('3b');
  x = b.pool(x, v.pools[2].k, v.pools[2]);
  for (const m of ['4a', '4b', '4c', '4d', '4e']) inception(m);
  x = b.pool(x, v.pools[3].k, v.pools[3]);
  inception('5a');
  inception('5b');
  b.fc(b.adaptivePool(x, 1), 'fc', 1000, false);
  return b.build();
}

const zooName = (m: string, branch: string): string => `inception_${m}/${branch}`;

/**
 * GoogLeNet as the BVLC Caffe model converted to ONNX (the ONNX model zoo's bvlc_googlenet; also
 * onnx/onnx backend test data `light/light_inception_v1.onnx`, which these shapes reproduce): the
 * paper's modules with 5×5 branches, but Caffe's ceil-mode pools became floor-mode (ONNX MaxPool has
 * no ceil mode before opset 10), so the maps are 55/27/13/6 instead of the paper's 56/28/14/7.
 */
export function googlenet(h = 224, w = 224): ShapeNetwork {
  const p = { k: 3, stride: 2 } as const;
  return build({ name: 'googlenet', source: 'BVLC GoogLeNet as in onnx light_inception_v1.onnx', k5: 5, pools: [p, p, p, p], names: zooName }, h, w);
}

/** C. Szegedy et al., "Going Deeper with Convolutions", CVPR 2015, Table 1: 5×5 branches, ceil-mode pools (56/28/14/7 maps); 1.58 GMACs. */
export function googlenetPaper(h = 224, w = 224): ShapeNetwork {
  const p = { k: 3, stride: 2, ceil: true } as const;
  return build({ name: 'googlenet-paper', source: 'Szegedy et al. 2015, Table 1', k5: 5, pools: [p, p, p, p], names: zooName }, h, w);
}

/**
 * torchvision/models/googlenet.py: ceil-mode pools, the last one 2×2/2, and a 3×3 conv in the "5×5"
 * branch ("kernel_size=3 instead of kernel_size=5 is a known bug", pytorch/vision#906, kept for the
 * pretrained weights); 1.50 GMACs (the weights' `_ops`). Auxiliary classifiers run only in training.
 */
export function googlenetTorchvision(h = 224, w = 224): ShapeNetwork {
  const p = { k: 3, stride: 2, ceil: true } as const;
  return build(
    { name: 'googlenet-torchvision', source: 'torchvision/models/googlenet.py', k5: 3, pools: [p, p, p, { k: 2, stride: 2, ceil: true }], names: (m, branch) => `inception${m}.${branch}` },
    h,
    w,
  );
}
