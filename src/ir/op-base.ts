/** What every IR op and value shares (src/ir/graph.ts re-exports these). */

/** Per-sample shape (batch dimension excluded). */
export type Shape = readonly number[];

/** A constant f32 tensor (weights, biases, broadcast operands). */
export interface ConstTensor {
  dims: readonly number[];
  data: Float32Array;
}

/** What every op has. */
export interface OpBase {
  /** ONNX node name (or `<op_type>_<node index>` when the node has none): used in errors and `layers` overrides. */
  name: string;
  /** Names of the values this op reads (usually one; none for `constant`) and writes. */
  inputs: readonly string[];
  output: string;
}
