/** PyTorch's int8 model outputs: the step between its output levels, and how far another output is in steps. */

/** The smallest gap between distinct values of `y`: one level of the dequantized int8 output. */
export function levelStep(y: Float32Array): number {
  const levels = [...new Set(y)].sort((a, b) => a - b);
  let step = Infinity;
  for (let i = 1; i < levels.length; i++) step = Math.min(step, levels[i] - levels[i - 1]);
  return step;
}

/** The largest |got − y| in output levels. */
export function levelsOff(got: Float32Array, y: Float32Array): number {
  const step = levelStep(y);
  let worst = 0;
  got.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - y[i]) / step)));
  return worst;
}
