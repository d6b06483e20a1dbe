// How far a GPU gradient is from the CPU oracle's (test/gpu/adapt-backward.test.ts, adapt-conv.test.ts).
import { expect } from 'vitest';

/** Largest |gpu − cpu| over the tensor, relative to its largest |cpu| (at least `floor`): f32 against f64 sums. */
export function relErr(g: ArrayLike<number>, c: ArrayLike<number>, floor = 0): number {
  expect(g.length).toBe(c.length);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < c.length; i++) {
    worst = Math.max(worst, Math.abs(g[i] - c[i]));
    scale = Math.max(scale, Math.abs(c[i]));
  }
  return worst / Math.max(scale, floor);
}
