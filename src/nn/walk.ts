/**
 * The one walk over the network IR (DESIGN.md section 6), shared by every backend and every purpose
 * (forward, calibration, drift compensation): digital ops go to the backend, matrix ops to `matrix`.
 */
import { isMatrixOp, matrixLayerOf, type Network } from '../ir/graph.ts';
import type { ExecBatch } from './exec/types.ts';
import type { MatrixLayer } from './matrices.ts';
import type { DigitalOp } from './ops/types.ts';

/** Each value's last reader (index into net.ops); the graph output is read after the walk. */
function lastReads(net: Network): Map<string, number> {
  const last = new Map<string, number>();
  net.ops.forEach((op, i) => op.inputs.forEach((n) => last.set(n, i)));
  last.set(net.output, Infinity);
  return last;
}

/**
 * Walks `net` over a batch of B samples; returns the graph output. `matrix` gets each matrix op's
 * layer (planMatrices order) and which use of it this is (a tied layer runs once per use); `visit`
 * sees every value as it is produced. With `recycle`, each value is released to the batch after its
 * last reader (ExecBatch.release), so a big network's batch needs the memory of its widest point
 * rather than of all its activations; only for walks that read nothing but the output afterwards.
 */
export function walkNetwork<T>(net: Network, b: ExecBatch<T>, x: Float32Array, B: number, matrix: (layer: number, x: T, use: number) => T, visit?: (name: string, t: T) => void, recycle = false): T {
  const layerOf = matrixLayerOf(net.ops);
  const uses: number[] = [];
  const values = new Map<string, T>();
  const last = recycle && b.hold && b.release ? lastReads(net) : null;
  const produced = (name: string, t: T, at: number): void => {
    values.set(name, t);
    visit?.(name, t);
    if (!last) return;
    b.hold!(t);
    // A value nothing reads is released at once.
    if ((last.get(name) ?? at) <= at) b.release!(t);
  };
  produced(net.input.name, b.input(x, B), -1);
  for (const [i, op] of net.ops.entries()) {
    const ins = op.inputs.map((n) => {
      const t = values.get(n);
      if (t === undefined) throw new Error(`network: value "${n}" used by ${op.name} before it is produced`);
      return t;
    });
    let t: T;
    if (isMatrixOp(op)) {
      const layer = layerOf.get(op)!;
      uses[layer] = (uses[layer] ?? -1) + 1;
      t = matrix(layer, ins[0], uses[layer]);
    } else t = b.digital(op as DigitalOp, ins, B);
    // Held before its inputs are released: a reshape's output shares its input's storage.
    produced(op.output, t, i);
    if (last) for (const n of new Set(op.inputs)) if (last.get(n) === i) b.release!(values.get(n)!);
  }
  const y = values.get(net.output);
  if (y === undefined) throw new Error(`network: output "${net.output}" is never produced`);
  return y;
}

/** Calls `f` with the rows each crossbar matrix of a layer reads: its input (linear) or each group's im2col rows (conv). */
export function forEachMatrix<T>(b: ExecBatch<T>, l: MatrixLayer, x: T, B: number, f: (group: number, rows: T, n: number) => void): void {
  const op = l.op;
  // A linear layer's sample holds vectorsPerUse rows (tokens, pixels), each one crossbar input vector.
  if (op.kind === 'linear') f(0, x, B * l.vectorsPerUse);
  else for (const p of l.parts) f(p.group, b.im2col(op, x, B, p.group), B * l.vectorsPerUse);
}

/** A layer's output from its crossbar matrices: `run` gives each matrix's [n, N] outputs; conv groups are scattered to NCHW. */
export function crossbarOutput<T>(b: ExecBatch<T>, l: MatrixLayer, x: T, B: number, run: (group: number, rows: T, n: number) => T): T {
  const op = l.op;
  if (op.kind === 'linear') return run(0, x, B * l.vectorsPerUse);
  const out = b.convOutput(op, B);
  forEachMatrix(b, l, x, B, (group, rows, n) => b.scatter(op, run(group, rows, n), out, B, group));
  return out;
}
