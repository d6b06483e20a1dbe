/** MobileNet v1 by layer shapes. */
import { ShapeBuilder } from './builder.ts';
import type { ShapeNetwork } from '../layers.ts';

/** (output channels, depthwise stride) of the 13 depthwise-separable blocks. */
const BLOCKS: readonly (readonly [number, number])[] = [
  [64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2],
  [512, 1], [512, 1], [512, 1], [512, 1], [512, 1], [1024, 2], [1024, 1],
];

/**
 * A. Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision
 * Applications", arXiv 1704.04861, Table 1, width multiplier 1, 224×224: conv 3×3/2 to 32 channels,
 * 13 blocks of a 3×3 depthwise conv (groups = channels) and a 1×1 pointwise conv, each with BN and
 * ReLU, global average pool, fc 1024→1000 (569 M mult-adds). Table 1 prints stride 2 for the last
 * depthwise layer, which would leave a 4×4 map; the standard reading, which gives the paper's 7×7
 * and 569 M, has stride 1 there. torchvision has no MobileNet v1. Each depthwise group is its own
 * 9×1 crossbar matrix (DESIGN.md section 6).
 */
export function mobilenetV1(h = 224, w = 224): ShapeNetwork {
  const b = new ShapeBuilder('mobilenet-v1', 'Howard et al. 2017, Table 1 (alpha 1)', [3, h, w]);
  let x = b.conv(b.input(), 'conv1', 32, 3, { stride: 2, pad: 1 });
  BLOCKS.forEach(([cout, stride], i) => {
    x = b.conv(x, `block${i + 1}.dw`, x.c, 3, { stride, pad: 1, groups: x.c });
    x = b.conv(x, `block${i + 1}.pw`, cout, 1);
  });
  b.fc(b.adaptivePool(x, 1), 'fc', 1000, false);
  return b.build();
}
