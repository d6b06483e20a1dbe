/** Inception v3 by layer shapes. */
import { ShapeBuilder, type Act } from './builder.ts';
import type { ShapeNetwork } from '../layers.ts';

/**
 * C. Szegedy et al., "Rethinking the Inception Architecture for Computer Vision", CVPR 2016, as
 * torchvision/models/inception.py builds it for 299×299 inputs (eval mode: no auxiliary classifier;
 * every BasicConv2d is conv, BN, ReLU): 5.71 GMACs (the weights' `_ops`).
 */
export function inceptionV3(h = 299, w = 299): ShapeNetwork {
  const b = new ShapeBuilder('inception-v3', 'torchvision/models/inception.py Inception3', [3, h, w]);
  const avg = (x: Act): Act => b.pool(x, 3, { stride: 1, pad: 1 });
  let x = b.conv(b.input(), 'Conv2d_1a_3x3', 32, 3, { stride: 2 });
  x = b.conv(x, 'Conv2d_2a_3x3', 32, 3);
  x = b.conv(x, 'Conv2d_2b_3x3', 64, 3, { pad: 1 });
  x = b.pool(x, 3, { stride: 2 });
  x = b.conv(x, 'Conv2d_3b_1x1', 80, 1);
  x = b.conv(x, 'Conv2d_4a_3x3', 192, 3);
  x = b.pool(x, 3, { stride: 2 });

  const inceptionA = (p: string, poolFeatures: number): void => {
    const b1 = b.conv(x, `${p}.branch1x1`, 64, 1);
    const b5 = b.conv(b.conv(x, `${p}.branch5x5_1`, 48, 1), `${p}.branch5x5_2`, 64, 5, { pad: 2 });
    let d = b.conv(x, `${p}.branch3x3dbl_1`, 64, 1);
    d = b.conv(d, `${p}.branch3x3dbl_2`, 96, 3, { pad: 1 });
    d = b.conv(d, `${p}.branch3x3dbl_3`, 96, 3, { pad: 1 });
    const bp = b.conv(avg(x), `${p}.branch_pool`, poolFeatures, 1);
    x = b.concat([b1, b5, d, bp]);
  };
  inceptionA('Mixed_5b', 32);
  inceptionA('Mixed_5c', 64);
  inceptionA('Mixed_5d', 64);

  {
    const p = 'Mixed_6a';
    const b3 = b.conv(x, `${p}.branch3x3`, 384, 3, { stride: 2 });
    let d = b.conv(x, `${p}.branch3x3dbl_1`, 64, 1);
    d = b.conv(d, `${p}.branch3x3dbl_2`, 96, 3, { pad: 1 });
    d = b.conv(d, `${p}.branch3x3dbl_3`, 96, 3, { stride: 2 });
    x = b.concat([b3, d, b.pool(x, 3, { stride: 2 })]);
  }

  const inceptionC = (p: string, c7: number): void => {
    const b1 = b.conv(x, `${p}.branch1x1`, 192, 1);
    let s = b.conv(x, `${p}.branch7x7_1`, c7, 1);
    s = b.conv(s, `${p}.branch7x7_2`, c7, [1, 7], { pad: [0, 3] });
    s = b.conv(s, `${p}.branch7x7_3`, 192, [7, 1], { pad: [3, 0] });
    let d = b.conv(x, `${p}.branch7x7dbl_1`, c7, 1);
    d = b.conv(d, `${p}.branch7x7dbl_2`, c7, [7, 1], { pad: [3, 0] });
    d = b.conv(d, `${p}.branch7x7dbl_3`, c7, [1, 7], { pad: [0, 3] });
    d = b.conv(d, `${p}.branch7x7dbl_4`, c7, [7, 1], { pad: [3, 0] });
    d = b.conv(d, `${p}.branch7x7dbl_5`, 192, [1, 7], { pad: [0, 3] });
    const bp = b.conv(avg(x), `${p}.branch_pool`, 192, 1);
    x = b.concat([b1, s, d, bp]);
  };
  inceptionC('Mixed_6b', 128);
  inceptionC('Mixed_6c', 160);
  inceptionC('Mixed_6d', 160);
  inceptionC('Mixed_6e', 192);

  {
    const p = 'Mixed_7a';
    const b3 = b.conv(b.conv(x, `${p}.branch3x3_1`, 192, 1), `${p}.branch3x3_2`, 320, 3, { stride: 2 });
    let s = b.conv(x, `${p}.branch7x7x3_1`, 192, 1);
    s = b.conv(s, `${p}.branch7x7x3_2`, 192, [1, 7], { pad: [0, 3] });
    s = b.conv(s, `${p}.branch7x7x3_3`, 192, [7, 1], { pad: [3, 0] });
    s = b.conv(s, `${p}.branch7x7x3_4`, 192, 3, { stride: 2 });
    x = b.concat([b3, s, b.pool(x, 3, { stride: 2 })]);
  }

  const inceptionE = (p: string): void => {
    const b1 = b.conv(x, `${p}.branch1x1`, 320, 1);
    const t = b.conv(x, `${p}.branch3x3_1`, 384, 1);
    const t2 = b.concat([b.conv(t, `${p}.branch3x3_2a`, 384, [1, 3], { pad: [0, 1] }), b.conv(t, `${p}.branch3x3_2b`, 384, [3, 1], { pad: [1, 0] })]);
    let d = b.conv(x, `${p}.branch3x3dbl_1`, 448, 1);
    d = b.conv(d, `${p}.branch3x3dbl_2`, 384, 3, { pad: 1 });
    const d2 = b.concat([b.conv(d, `${p}.branch3x3dbl_3a`, 384, [1, 3], { pad: [0, 1] }), b.conv(d, `${p}.branch3x3dbl_3b`, 384, [3, 1], { pad: [1, 0] })]);
    const bp = b.conv(avg(x), `${p}.branch_pool`, 192, 1);
    x = b.concat([b1, t2, d2, bp]);
  };
  inceptionE('Mixed_7b');
  inceptionE('Mixed_7c');
  b.fc(b.adaptivePool(x, 1), 'fc', 1000, false);
  return b.build();
}
