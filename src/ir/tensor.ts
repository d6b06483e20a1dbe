/** A host tensor: full shape including the batch dimension, row-major f32. */
export interface HostTensor {
  shape: readonly number[];
  data: Float32Array;
}

/** Element count of a full shape. */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Row-major strides of a shape. */
export function rowMajorStrides(dims: readonly number[]): number[] {
  const st = new Array<number>(dims.length);
  let acc = 1;
  for (let d = dims.length - 1; d >= 0; d--) {
    st[d] = acc;
    acc *= dims[d];
  }
  return st;
}
