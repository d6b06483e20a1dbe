/**
 * Renamed copies of ONNX graphs, for the importer's inlining: an unrolled Loop's iterations
 * (ops/control.ts) and the bodies of model-local functions (functions.ts) each import as a copy whose
 * names cannot collide with the rest of the model.
 */
import type { onnx } from 'onnx-proto';

/** How a copy is made: fresh names, node names under `tag`, and optionally each attribute rewritten (null drops it). */
export interface RenameOptions {
  fresh: (name: string) => string;
  tag: string;
  /** Names of enclosing graphs the copy reads, as an enclosing copy renamed them. */
  outer?: ReadonlyMap<string, string>;
  attribute?: (a: onnx.IAttributeProto) => onnx.IAttributeProto | null;
}

/**
 * A copy of graph `g` in which every name it defines is fresh: its inputs become `inputs` (or fresh
 * names, for a nested graph), its nodes are named under `tag`, and names of outer graphs are kept.
 */
export function renamed(g: onnx.IGraphProto, inputs: readonly string[] | null, o: RenameOptions): onnx.IGraphProto {
  const names = new Map(o.outer ?? []);
  const define = (name: string, to = o.fresh(name)): string => (names.set(name, to), to);
  const input = (g.input ?? []).map((v, k) => ({ ...v, name: define(v.name ?? '', inputs?.[k]) }));
  const initializer = (g.initializer ?? []).map((t) => ({ ...t, name: define(t.name ?? '') }));
  const node = (g.node ?? []).map((nd, j): onnx.INodeProto => {
    const name = `${o.tag}/${(nd.name || `${nd.opType ?? ''}_${j}`).replace(/^\//, '')}`;
    const attrs = (nd.attribute ?? []).flatMap((a0) => {
      const a = o.attribute ? o.attribute(a0) : a0;
      if (!a) return [];
      // A subgraph reads the names defined so far, never its own node's outputs.
      const sub = (s: onnx.IGraphProto): onnx.IGraphProto => renamed(s, null, { ...o, tag: name, outer: names });
      return [{ ...a, ...(a.g ? { g: sub(a.g) } : {}), ...(a.graphs?.length ? { graphs: a.graphs.map(sub) } : {}) }];
    });
    return {
      ...nd,
      name,
      input: (nd.input ?? []).map((x) => (x ? (names.get(x) ?? x) : x)),
      attribute: attrs,
      output: (nd.output ?? []).map((out) => (out ? define(out) : out)),
    };
  });
  return { ...g, input: inputs ? [] : input, initializer, node, output: (g.output ?? []).map((v) => ({ ...v, name: names.get(v.name ?? '') ?? v.name })) };
}
