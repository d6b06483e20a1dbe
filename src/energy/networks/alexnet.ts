/** AlexNet by layer shapes, in the two forms users meet. */
import { ShapeBuilder } from './builder.ts';
import type { ShapeNetwork } from '../layers.ts';

/**
 * AlexNet as the BVLC Caffe model converted to ONNX (the ONNX model zoo's bvlc_alexnet; also
 * onnx/onnx backend test data `light/light_bvlc_alexnet.onnx`, which these shapes reproduce):
 * A. Krizhevsky, I. Sutskever, G. Hinton, "ImageNet Classification with Deep Convolutional Neural
 * Networks", NIPS 2012, Fig. 2 — 96-256-384-384-256 kernels, conv2/4/5 in two groups — at a 224×224
 * input with floor-mode pooling, the last pool padded (bottom/right) so the classifier still sees
 * 6×6×256 = 9216 values.
 */
export function alexnet(h = 224, w = 224): ShapeNetwork {
  const b = new ShapeBuilder('alexnet', 'BVLC AlexNet (Krizhevsky et al. 2012) as in onnx light_bvlc_alexnet.onnx', [3, h, w]);
  let x = b.conv(b.input(), 'conv1', 96, 11, { stride: 4 });
  x = b.pool(x, 3, { stride: 2 });
  x = b.conv(x, 'conv2', 256, 5, { pad: 2, groups: 2 });
  x = b.pool(x, 3, { stride: 2 });
  x = b.conv(x, 'conv3', 384, 3, { pad: 1 });
  x = b.conv(x, 'conv4', 384, 3, { pad: 1, groups: 2 });
  x = b.conv(x, 'conv5', 256, 3, { pad: 1, groups: 2 });
  x = b.pool(x, 3, { stride: 2, pad: [0, 0, 1, 1] });
  x = b.fc(x, 'fc6', 4096);
  x = b.fc(x, 'fc7', 4096);
  b.fc(x, 'fc8', 1000, false);
  return b.build();
}

/**
 * torchvision's AlexNet (pytorch/vision torchvision/models/alexnet.py): the single-GPU variant of
 * "One weird trick for parallelizing convolutional neural networks" (Krizhevsky, arXiv 1404.5997):
 * 64-192-384-256-256 kernels, no groups, AdaptiveAvgPool2d(6) before the classifier; 0.714 GMACs
 * (its weights' `_ops`).
 */
export function alexnetTorchvision(h = 224, w = 224): ShapeNetwork {
  const b = new ShapeBuilder('alexnet-torchvision', 'torchvision/models/alexnet.py', [3, h, w]);
  let x = b.conv(b.input(), 'features.0', 64, 11, { stride: 4, pad: 2 });
  x = b.pool(x, 3, { stride: 2 });
  x = b.conv(x, 'features.3', 192, 5, { pad: 2 });
  x = b.pool(x, 3, { stride: 2 });
  x = b.conv(x, 'features.6', 384, 3, { pad: 1 });
  x = b.conv(x, 'features.8', 256, 3, { pad: 1 });
  x = b.conv(x, 'features.10', 256, 3, { pad: 1 });
  x = b.adaptivePool(b.pool(x, 3, { stride: 2 }), 6);
  x = b.fc(x, 'classifier.1', 4096);
  x = b.fc(x, 'classifier.4', 4096);
  b.fc(x, 'classifier.6', 1000, false);
  return b.build();
}
