/** A host tensor: full shape including the batch dimension, row-major f32. */
export interface HostTensor {
  shape: readonly number[];
  data: Float32Array;
}

/** Element count of a full shape. */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
