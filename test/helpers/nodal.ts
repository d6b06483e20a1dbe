/**
 * An exact dense nodal solve of DESIGN.md section 13's array, written independently of the solver it
 * checks: every row and column node is an unknown, the conductance matrix is assembled branch by branch
 * (source → rTerminal + rRow → row node 0, rRow between row nodes, the cell between row and column
 * node, rCol between column nodes, rCol + rTerminal from the last column node to ground) and solved by
 * Gaussian elimination with partial pivoting in f64. All resistances must be > 0.
 */
export function denseNodalCurrents(G: ArrayLike<number>, rows: number, cols: number, V: ArrayLike<number>, rRow: number, rCol: number, rTerminal: number): Float64Array {
  const n = 2 * rows * cols;
  const rowNode = (r: number, c: number): number => r * cols + c;
  const colNode = (r: number, c: number): number => rows * cols + r * cols + c;
  const A = Array.from({ length: n }, () => new Float64Array(n));
  const b = new Float64Array(n);
  const branch = (i: number, j: number, g: number): void => {
    A[i][i] += g;
    A[j][j] += g;
    A[i][j] -= g;
    A[j][i] -= g;
  };
  const toFixed = (i: number, g: number, v: number): void => {
    A[i][i] += g;
    b[i] += g * v;
  };
  for (let r = 0; r < rows; r++) {
    toFixed(rowNode(r, 0), 1 / (rTerminal + rRow), V[r]);
    for (let c = 1; c < cols; c++) branch(rowNode(r, c - 1), rowNode(r, c), 1 / rRow);
  }
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) branch(rowNode(r, c), colNode(r, c), G[r * cols + c]);
  for (let c = 0; c < cols; c++) {
    for (let r = 1; r < rows; r++) branch(colNode(r - 1, c), colNode(r, c), 1 / rCol);
    toFixed(colNode(rows - 1, c), 1 / (rCol + rTerminal), 0);
  }
  // Gaussian elimination with partial pivoting.
  for (let k = 0; k < n; k++) {
    let piv = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(A[i][k]) > Math.abs(A[piv][k])) piv = i;
    [A[k], A[piv]] = [A[piv], A[k]];
    [b[k], b[piv]] = [b[piv], b[k]];
    for (let i = k + 1; i < n; i++) {
      const f = A[i][k] / A[k][k];
      if (f === 0) continue;
      for (let j = k; j < n; j++) A[i][j] -= f * A[k][j];
      b[i] -= f * b[k];
    }
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let j = i + 1; j < n; j++) s -= A[i][j] * x[j];
    x[i] = s / A[i][i];
  }
  const I = new Float64Array(cols);
  for (let c = 0; c < cols; c++) I[c] = x[colNode(rows - 1, c)] / (rCol + rTerminal);
  return I;
}
