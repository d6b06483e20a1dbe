/** VGG-16 and VGG-19 by layer shapes. */
import { ShapeBuilder } from './builder.ts';
import type { ShapeNetwork } from '../layers.ts';

/** torchvision/models/vgg.py `cfgs`: "D" (VGG-16) and "E" (VGG-19); 'M' is a 2×2/2 max-pool. */
const CFGS = {
  vgg16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  vgg19: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
} as const;

/**
 * K. Simonyan, A. Zisserman, "Very Deep Convolutional Networks for Large-Scale Image Recognition",
 * ICLR 2015, Table 1 configurations D and E, as torchvision/models/vgg.py builds them: 3×3 convs
 * with padding 1, AdaptiveAvgPool2d(7), classifier 25088→4096→4096→1000 (15.47 and 19.63 GMACs, the
 * weights' `_ops`). VGG-19 is also onnx `light/light_vgg19.onnx`.
 */
export function vgg(kind: keyof typeof CFGS, h = 224, w = 224): ShapeNetwork {
  const b = new ShapeBuilder(kind, `torchvision/models/vgg.py cfg ${kind === 'vgg16' ? 'D' : 'E'}`, [3, h, w]);
  let x = b.input();
  let i = 0;
  for (const v of CFGS[kind]) {
    if (v === 'M') x = b.pool(x, 2, { stride: 2 });
    else x = b.conv(x, `features.${i++}`, v, 3, { pad: 1 });
  }
  x = b.adaptivePool(x, 7);
  x = b.fc(x, 'classifier.0', 4096);
  x = b.fc(x, 'classifier.3', 4096);
  b.fc(x, 'classifier.6', 1000, false);
  return b.build();
}
