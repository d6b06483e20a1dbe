// Networks built in code for speed-only cases (random weights: their accuracy means nothing), as
// ONNX bytes so they take the importer's path like any user model.
import { buildOnnxModel, type BuildNode, type BuildTensor } from '../../src/io/onnx/build.ts';
import { lcgArray } from './data.ts';

/** Accumulates nodes and initializers of a plain conv net. */
class NetBuilder {
  readonly nodes: BuildNode[] = [];
  readonly inits: BuildTensor[] = [];
  private n = 0;
  private seed = 1;

  private weights(name: string, dims: number[], fanIn: number): string {
    // Uniform with the variance of He initialization (3·2/fanIn), so activations keep their scale
    // through the depth and every layer sees realistic, non-degenerate inputs.
    const a = Math.sqrt(6 / fanIn);
    const u = lcgArray(dims.reduce((x, y) => x * y, 1), this.seed++, -1);
    this.inits.push({ name, dims, data: u.map((v) => v * a) });
    return name;
  }

  private bias(name: string, n: number): string {
    this.inits.push({ name, dims: [n], data: lcgArray(n, this.seed++, -1).map((v) => 0.01 * v) });
    return name;
  }

  conv(x: string, cin: number, cout: number, k: number, stride: number, pad: number): string {
    const i = this.n++;
    const y = `conv${i}`;
    this.nodes.push({
      op: 'Conv',
      name: y,
      inputs: [x, this.weights(`conv${i}.w`, [cout, cin, k, k], cin * k * k), this.bias(`conv${i}.b`, cout)],
      outputs: [y],
      attrs: { kernel_shape: [k, k], strides: [stride, stride], pads: [pad, pad, pad, pad] },
    });
    return y;
  }

  op(op: string, inputs: string[], attrs?: BuildNode['attrs']): string {
    const y = `${op.toLowerCase()}${this.n++}`;
    this.nodes.push({ op, name: y, inputs, outputs: [y], attrs });
    return y;
  }

  gemm(x: string, k: number, n: number): string {
    const i = this.n++;
    const y = `fc${i}`;
    this.nodes.push({ op: 'Gemm', name: y, inputs: [x, this.weights(`fc${i}.w`, [n, k], k), this.bias(`fc${i}.b`, n)], outputs: [y], attrs: { transB: 1 } });
    return y;
  }
}

/**
 * A ResNet-18-shaped network for 32×32×3 inputs (the CIFAR variant of He et al., CVPR 2016: a 3×3
 * stem, no max-pool, four stages of two basic blocks at 64/128/256/512 channels, 1×1 projection
 * shortcuts where the shape changes, global average pooling, 10 classes). BatchNorm is left out: the
 * importer folds it into the convolutions, so a trained export runs the same ops. About 0.56 G MACs.
 */
export function resnet18Onnx(): Uint8Array {
  const b = new NetBuilder();
  let x = b.op('Relu', [b.conv('input', 3, 64, 3, 1, 1)]);
  let c = 64;
  for (const [width, stride] of [[64, 1], [128, 2], [256, 2], [512, 2]] as const) {
    for (let blk = 0; blk < 2; blk++) {
      const s = blk === 0 ? stride : 1;
      const h = b.op('Relu', [b.conv(x, c, width, 3, s, 1)]);
      const y = b.conv(h, width, width, 3, 1, 1);
      const shortcut = s !== 1 || c !== width ? b.conv(x, c, width, 1, s, 0) : x;
      x = b.op('Relu', [b.op('Add', [y, shortcut])]);
      c = width;
    }
  }
  const pooled = b.op('Flatten', [b.op('GlobalAveragePool', [x])]);
  const out = b.gemm(pooled, 512, 10);
  return buildOnnxModel({
    inputs: [{ name: 'input', dims: ['batch', 3, 32, 32] }],
    outputs: [{ name: out, dims: ['batch', 10] }],
    initializers: b.inits,
    nodes: b.nodes,
    graphName: 'resnet18-cifar',
  });
}

/**
 * A ~1 M-MAC CNN for MNIST-shaped inputs, the size of the "~1 M-MAC PyTorch CNN" (conv 1→16
 * 3×3, max-pool, conv 16→32 3×3, max-pool, linear 1568→10: 1.03 M MACs), standing in until a
 * trained CNN of that size ships in models/.
 */
export function cnn1mOnnx(): Uint8Array {
  const b = new NetBuilder();
  const pool = (x: string): string => b.op('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2] });
  const a = pool(b.op('Relu', [b.conv('input', 1, 16, 3, 1, 1)]));
  const c = pool(b.op('Relu', [b.conv(a, 16, 32, 3, 1, 1)]));
  const out = b.gemm(b.op('Flatten', [c]), 32 * 7 * 7, 10);
  return buildOnnxModel({
    inputs: [{ name: 'input', dims: ['batch', 1, 28, 28] }],
    outputs: [{ name: out, dims: ['batch', 10] }],
    initializers: b.inits,
    nodes: b.nodes,
    graphName: 'cnn-1m',
  });
}
