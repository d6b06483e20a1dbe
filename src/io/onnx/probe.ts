/**
 * Shape computations that only the batch size decides (torch.arange(x.shape[0]) building the indices
 * of a slice assignment `y[:, :, 0] = 0` on activations). Folding them stops where a value would have
 * batch-many elements; such a node is deferred instead of refused, with everything computed from it,
 * and an op that knows how to read them (OpImporter.batchProbe) evaluates them at a few concrete batch
 * sizes: every batch multiple in the constants becomes a number, and the deferred nodes fold. Any
 * other reader of a deferred value gets the refusal its first node gave.
 */
import type { onnx } from 'onnx-proto';
import { BatchDim, FoldError, isBatchDim } from './consts.ts';
import type { Const, Dim } from './consts.ts';
import type { ImportState } from './node.ts';

/** Batch sizes deferred values are evaluated at: enough to tell a constant, a multiple of the batch and a per-sample pattern apart. */
export const PROBE_BATCHES: readonly number[] = [1, 2, 3];

/** A node whose fold waits for a batch size, and the refusal it gives anything but a probe. */
export interface Deferred {
  node: onnx.INodeProto;
  name: string;
  where: string;
  /** `file: node "…" (Op): reason`, from the first node of the deferred chain. */
  refusal: string;
}

/** `c` at batch size `batch`: each batch multiple k·batch becomes the number. */
export function atBatch(c: Const, batch: number): Const {
  if (c.kind === 'float' || !c.data.some(isBatchDim)) return c;
  return { kind: 'int', dims: c.dims, data: c.data.map((d) => (isBatchDim(d) ? d.k * batch : d)) };
}

/** Whether a constant holds the batch size (as a number of elements it would be batch-many). */
export function holdsBatch(c: Const): boolean {
  return c.kind === 'int' && c.data.some(isBatchDim);
}

/**
 * The importer's state as a deferred node sees it at one batch size: constants read from `known`
 * (the probed values) or the importer's with the batch filled in, results written to `known`. A node
 * that would need an activation there is not a shape computation: it fails (the caller reports the
 * deferred node's refusal).
 */
export function probeState(base: ImportState, known: Map<string, Const>, batch: number): ImportState {
  const view = Object.create(base) as ImportState;
  const canonical = (name: string): string => base.canonicalName(name);
  return Object.assign(view, {
    constOf: (name: string): Const | undefined => {
      const c = known.get(canonical(name)) ?? base.constOf(name);
      return c && atBatch(c, batch);
    },
    setConst: (name: string, c: Const): void => void known.set(canonical(name), c),
    valueOf: (name: string) => (known.has(canonical(name)) ? undefined : base.valueOf(name)),
    emit: (): void => {
      throw new FoldError(`needs an activation at batch size ${batch}`);
    },
  });
}

/**
 * A deferred value as a shape constant, from its values at PROBE_BATCHES 1, 2 and 3 (`at`): the same
 * length at each, every entry a constant or a multiple of the batch. Null when it is not one (a
 * torch.arange(batch) grows with the batch).
 */
export function shapeOver(at: (batch: number) => Const): Const | null {
  const probes = PROBE_BATCHES.map(at);
  const [a, b, c] = probes.map((p) => (p.kind === 'int' && p.dims.length <= 1 && p.data.every((x) => typeof x === 'number') ? (p.data as number[]) : null));
  if (!a || !b || !c || a.length !== b.length || a.length !== c.length) return null;
  const data: Dim[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i] && a[i] === c[i]) data.push(a[i]);
    else if (a[i] > 0 && b[i] === 2 * a[i] && c[i] === 3 * a[i]) data.push(new BatchDim(a[i]));
    else return null;
  }
  return { kind: 'int', dims: [...probes[0].dims], data };
}

/**
 * k when a deferred value is torch.arange(batch)·k shaped [batch, 1, …, 1] (`rank` dims): at each probed
 * batch size n (`batches`; a static export's constant is read at its declared batch only), [0, k, …,
 * (n − 1)·k]. Null otherwise.
 */
export function sampleStep(at: (batch: number) => Const, rank: number, batches: readonly number[] = PROBE_BATCHES): number | null {
  let k: number | null = null;
  for (const n of batches) {
    const c = at(n);
    if (c.dims.length !== rank || c.dims[0] !== n || c.dims.slice(1).some((d) => d !== 1)) return null;
    const v = Array.from(c.data as ArrayLike<number>, Number);
    k ??= n > 1 ? v[1] : null;
    if (k !== null && !(Number.isInteger(k) && k > 0 && v.every((x, i) => x === i * k!))) return null;
    if (v[0] !== 0) return null;
  }
  return k;
}
