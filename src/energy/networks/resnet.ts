/** ResNet-50 and ResNet-101 by layer shapes. */
import { ShapeBuilder, type Act } from './builder.ts';
import type { ShapeNetwork } from '../layers.ts';

/**
 * K. He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, Table 1, as
 * torchvision/models/resnet.py builds it (v1.5: the stride of a down-sampling block is on its 3×3
 * conv): conv1 7×7/2, max-pool 3/2 pad 1, bottleneck stages of width 64/128/256/512 with 3-4-6-3
 * (ResNet-50) or 3-4-23-3 (ResNet-101) blocks, a 1×1 down-sample on the first block of each stage,
 * global average pool, fc 2048→1000 (4.09 and 7.80 GMACs, the weights' `_ops`). ResNet-50 is also
 * onnx `light/light_resnet50.onnx`, which has the same shapes.
 */
export function resnet(depth: 50 | 101, h = 224, w = 224): ShapeNetwork {
  const blocks = depth === 50 ? [3, 4, 6, 3] : [3, 4, 23, 3];
  const b = new ShapeBuilder(`resnet${depth}`, `torchvision/models/resnet.py resnet${depth}`, [3, h, w]);
  let x: Act = b.conv(b.input(), 'conv1', 64, 7, { stride: 2, pad: 3 });
  x = b.pool(x, 3, { stride: 2, pad: 1 });
  [64, 128, 256, 512].forEach((width, stage) => {
    for (let i = 0; i < blocks[stage]; i++) {
      const p = `layer${stage + 1}.${i}`;
      const stride = i === 0 && stage > 0 ? 2 : 1;
      let y = b.conv(x, `${p}.conv1`, width, 1);
      y = b.conv(y, `${p}.conv2`, width, 3, { stride, pad: 1 });
      y = b.conv(y, `${p}.conv3`, 4 * width, 1, { relu: false });
      const identity = i === 0 ? b.conv(x, `${p}.downsample.0`, 4 * width, 1, { stride, relu: false }) : x;
      x = b.addRelu(y, identity);
    }
  });
  b.fc(b.adaptivePool(x, 1), 'fc', 1000, false);
  return b.build();
}
