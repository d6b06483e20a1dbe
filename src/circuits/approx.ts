/**
 * IBM aihwkit's closed-form IR-drop approximation (`ForwardBackwardPassIOManaged::applyIrDrop`,
 * src/rpucuda/rpu_forward_backward_pass.cpp:387-433, identical in CUDA forward_backward_pass.cu,
 * aihwkit 1.1.0), for one output line: with n inputs, prepared inputs x_j (|x| ≤ 1) and normalized
 * weights W_j (|W| ≤ 1, i.e. g/g_max),
 *   a = (n / ir_drop_g_ratio)·Σ_j |W_j|·|x_j|,   c = a·(a·(0.05·a − 0.2) + 0.5),
 *   y = y_ideal − ir_drop·c·Σ_j W_j·x_j·(1 − (1 − j/n)²).
 * Mapping: one physical column (ours holds one polarity, so W_j = G ≥ 0 and x_j = V_t ≥ 0),
 * ir_drop_g_ratio = wire conductance per cell segment / g_max = 1 / (circuit.rCol·gMax), so
 * n / ratio = n·rColNorm, and ir_drop = 1 (the scale aihwkit's StandardHWATrainingPreset uses). The
 * formula models the output (column) line only; rRow and rTerminal do not enter it.
 * Position: aihwkit's factor is 0 at j = 0 and near 1 at j = n − 1, which is the drop of a line
 * grounded at its j = 0 end (V ∝ 1 − (1 − d/n)² at distance d). Its docstring says the first input is
 * the farthest (io.py:156-161), contradicting the code; we follow the code's physics: j is the distance
 * from the column's grounded end, j = n − 1 − k for row k (DESIGN.md section 13 grounds row n − 1's end).
 */
export function approxColumnCurrent(G: ArrayLike<number>, offset: number, stride: number, V: ArrayLike<number>, v0: number, n: number, rColNorm: number): number {
  let ideal = 0;
  let weighted = 0;
  for (let k = 0; k < n; k++) {
    const v = V[v0 + k];
    if (v === 0) continue;
    const g = G[offset + k * stride];
    const p = 1 - (n - 1 - k) / n;
    ideal += g * v;
    weighted += g * v * (1 - p * p);
  }
  const a = n * rColNorm * ideal;
  const c = a * (a * (0.05 * a - 0.2) + 0.5);
  return ideal - c * weighted;
}
