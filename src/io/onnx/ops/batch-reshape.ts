/**
 * Where the batch goes in a Reshape of an activation in a batched import. In row-major order the input
 * is L per-sample values, the batch, then R (L·R = the per-sample size), whether the batch is first,
 * moved by a Transpose, or merged with a neighbouring dim (PyTorch's multi-head attention views
 * [T, batch, D] as [T, batch·heads, d], then as [T·batch, D]). A target dim j holds the batch: alone
 * when the dims before it hold L values, merged as its major part (batch·k) likewise, or as its minor
 * part (k·batch) when the dims before it times k hold L. Each sample's values keep their order, so the
 * IR op is a plain per-sample reshape.
 */
import { count, isBatchDim, type Dim } from '../consts.ts';
import { NodeError, type BatchMerge, type Value } from '../node.ts';

/** The per-sample shape after the reshape and where the batch sits among its ONNX dims. */
export interface BatchReshape {
  shape: number[];
  batchAt: number;
  merged?: BatchMerge;
}

/** Per-sample values before the batch in row-major order. */
function valuesBefore(x: Value): number {
  const at = x.batchAt ?? 0;
  return count(x.shape.slice(0, at)) * (x.merged === 'minor' ? x.shape[at] : 1);
}

/** The input's ONNX dims, the one holding the batch as null (for a 0 in the target: copy it). */
function onnxDims(x: Value): (number | null)[] {
  const at = x.batchAt ?? 0;
  const d: (number | null)[] = [...x.shape];
  if (x.merged) d[at] = null;
  else d.splice(at, 0, null);
  return d;
}

/**
 * Places the batch for Reshape of `x` to `target` (numbers, multiples of the batch from Shape, 0 to
 * copy, −1 to infer); `declared` is the graph input's numeric batch, which a static export writes into
 * its shapes as a plain number.
 */
export function reshapeBatch(x: Value, target: readonly Dim[], allowZero: boolean, declared: number | null, show: string): BatchReshape {
  const inDims = onnxDims(x);
  const P = count(x.shape);
  const L = valuesBefore(x);
  // Each target dim as k, times the batch when b (a copied dim that holds the batch is x's own merge).
  let batchDim = -1;
  let copiedK = 1;
  const ks: (number | null)[] = target.map((d, i) => {
    if (isBatchDim(d)) {
      if (batchDim >= 0) throw new NodeError(`target shape ${show} holds the batch size in two dims`);
      batchDim = i;
      return d.k;
    }
    if (d === 0 && !allowZero) {
      if (i >= inDims.length) throw new NodeError(`target shape ${show} copies dimension ${i}, which the input lacks`);
      const c = inDims[i];
      if (c !== null) return c;
      if (batchDim >= 0) throw new NodeError(`target shape ${show} holds the batch size in two dims`);
      batchDim = i;
      copiedK = x.merged ? x.shape[x.batchAt ?? 0] : 1;
      return copiedK;
    }
    if (d === -1) return null;
    if (d < 0 || !Number.isInteger(d)) throw new NodeError(`target shape ${show} has invalid entry ${d}`);
    return d;
  });
  const unknown = ks.filter((k) => k === null).length;
  if (unknown > 1) throw new NodeError(`target shape ${show} has more than one -1`);
  const known = count(ks.filter((k): k is number => k !== null));
  if (unknown === 1) {
    // −1 takes what is left of the per-sample size, and the batch too when no other dim does.
    const at = ks.indexOf(null);
    const perSample = known > 0 && P % known === 0 ? P / known : null;
    const fill = (v: number): number[] => ks.map((d) => d ?? v);
    // A static export may instead spell the batch as a plain number, −1 being per sample (Swin's
    // window_reverse computes B with int()): tried when −1 cannot hold the batch.
    const asBatch = batchDim < 0 && perSample !== null ? placeAt(fill(perSample), at, L) : null;
    const staticBatch = batchDim < 0 && !asBatch && declared !== null && declared >= 1 && (P * declared) % known === 0;
    if (staticBatch) ks[at] = (P * declared) / known;
    else {
      if (perSample === null) throw new NodeError(`cannot reshape per-sample [${x.shape.join(', ')}] to ${show}`);
      ks[at] = perSample;
      if (batchDim < 0) batchDim = at;
    }
  }
  const k = ks as number[];
  if (batchDim >= 0) {
    if (count(k) !== P) throw new NodeError(`cannot reshape per-sample [${x.shape.join(', ')}] to ${show}`);
    const placed = placeAt(k, batchDim, L);
    if (!placed) throw new NodeError(`target shape ${show} would split the batch from the values around it (it must stay a dim of its own, or the first or last part of one)`);
    return placed;
  }
  // A static export: the batch is a plain number inside one of the dims.
  if (declared === null || declared < 1) throw new NodeError(`target shape ${show} has no dim that holds the batch size`);
  if (count(k) !== P * declared) throw new NodeError(`cannot reshape [${x.shape.join(', ')}] with the batch of ${declared} to ${show}`);
  // A batch of 1 fits many places: a dim of its own first, then merged into a dim other than the last
  // (which a following MatMul or Gemm sums over), major before minor.
  const placements: BatchReshape[] = [];
  for (let j = 0; j < k.length; j++) {
    if (k[j] % declared !== 0) continue;
    const per = [...k];
    per[j] = k[j] / declared;
    const placed = placeAt(per, j, L);
    if (placed) placements.push(placed);
  }
  const score = (p: BatchReshape): number => (!p.merged ? 0 : (p.batchAt < k.length - 1 ? 1 : 3) + (p.merged === 'major' ? 0 : 1));
  const best = placements.sort((p, q) => score(p) - score(q))[0];
  if (!best) throw new NodeError(`target shape ${show} would split the batch of ${declared} from the values around it`);
  return best;
}

/** The batch in dim j of per-sample sizes `k` (dim j = k[j]·batch), if the L values before it allow. */
function placeAt(k: readonly number[], j: number, L: number): BatchReshape | null {
  const pre = count(k.slice(0, j));
  const rest = k.filter((_, i) => i !== j);
  if (k[j] === 1) return pre === L ? { shape: rest, batchAt: j } : null;
  if (pre === L) return { shape: [...k], batchAt: j, merged: 'major' };
  if (pre * k[j] === L) return { shape: [...k], batchAt: j, merged: 'minor' };
  return null;
}
