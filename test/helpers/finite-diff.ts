/** Central differences (loss(v + eps·e_i) − loss(v − eps·e_i)) / 2eps for every element of `v`, which is perturbed in place and restored. */
export function centralDifferences(v: Float32Array | Float64Array, loss: () => number, eps: number): Float64Array {
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const keep = v[i];
    v[i] = keep + eps;
    const up = loss();
    v[i] = keep - eps;
    const down = loss();
    v[i] = keep;
    out[i] = (up - down) / (2 * eps);
  }
  return out;
}
