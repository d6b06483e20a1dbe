/** Pooling ops (MaxPool, AveragePool and their global forms) → the IR's 2-D pool. */
import type { PoolOp } from '../../../ir/graph.ts';
import { NodeError } from '../node.ts';
import type { NodeContext, OpTable } from '../node.ts';
import { spatial } from './window.ts';

function pool(mode: 'max' | 'avg', global: boolean): (n: NodeContext) => void {
  return (n) => {
    const x = n.value(0, 'X');
    if (x.shape.length !== 3) throw new NodeError(`input has per-sample shape [${x.shape.join(', ')}]; only 2-D pooling on [batch, C, H, W] is supported`);
    if (mode === 'max') n.requireUnusedExtraOutputs('indices');
    const [C, H, W] = x.shape;
    let kernel: [number, number] = [H, W];
    let strides: [number, number] = [1, 1];
    let dilations: [number, number] = [1, 1];
    let pads: [number, number, number, number] = [0, 0, 0, 0];
    let out: [number, number] = [1, 1];
    let countIncludePad = false;
    if (!global) {
      const ks = n.a.ints('kernel_shape', null);
      if (!ks || ks.length !== 2) throw new NodeError('needs a 2-entry kernel_shape');
      kernel = [ks[0], ks[1]];
      strides = n.pair('strides', 1);
      dilations = n.pair('dilations', 1);
      countIncludePad = mode === 'avg' && n.a.int('count_include_pad', 0) !== 0;
      const geo = spatial(n, [H, W], kernel, strides, dilations, n.a.int('ceil_mode', 0) !== 0);
      pads = geo.pads;
      out = geo.out;
    }
    const op: PoolOp = {
      kind: 'pool', name: n.name, inputs: [x.name], output: n.out, mode, kernel, strides, pads, dilations,
      countIncludePad, inShape: [C, H, W], outShape: [C, out[0], out[1]],
    };
    n.imp.emit(op, [...op.outShape]);
  };
}

/** Pooling ops by ONNX op type. */
export const POOLING_OPS: OpTable = {
  MaxPool: { activation: pool('max', false) },
  AveragePool: { activation: pool('avg', false) },
  GlobalAveragePool: { activation: pool('avg', true) },
  GlobalMaxPool: { activation: pool('max', true) },
};
