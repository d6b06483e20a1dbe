/**
 * Model-local functions (ModelProto.functions): PyTorch's `export_modules_as_functions` makes every
 * module a function, and onnxscript-built exporters call their own. Before import, each call is
 * replaced by a renamed copy of the function's body (nested calls too), its attribute references
 * (`ref_attr_name`) bound to the call's attributes or the function's defaults, so the importer sees
 * one flat graph and folds and maps it as if the model had been exported without functions.
 */
import protobuf from 'protobufjs/minimal.js';
import type { onnx } from 'onnx-proto';
import { UsageError } from '../../errors.ts';
import type { DecodedModel, DecodedNode } from './decode.ts';
import { bare, int64ToNumber, proto, quote } from './proto.ts';
import { renamed } from './rename.ts';

/** Deepest chain of calls inlined: guards against mutual recursion, which ONNX forbids. */
const MAX_CALL_DEPTH = 64;

interface LocalFunction {
  fn: onnx.IFunctionProto;
  /** FunctionProto.attribute_proto (IR 9): attribute defaults, by name. */
  defaults: ReadonlyMap<string, onnx.IAttributeProto>;
  label: string;
}

/**
 * Per function, the fields newer than onnx-proto's ONNX 1.10 schema, read from the model's bytes:
 * attribute_proto (field 11) and overload (field 13). protobufjs skipped them when decoding.
 */
function newerFields(bytes: Uint8Array): { defaults: onnx.IAttributeProto[]; overload: string }[] {
  const out: { defaults: onnx.IAttributeProto[]; overload: string }[] = [];
  const model = protobuf.Reader.create(bytes);
  while (model.pos < model.len) {
    const tag = model.uint32();
    if (tag >>> 3 !== 25 || (tag & 7) !== 2) {
      model.skipType(tag & 7);
      continue;
    }
    const r = protobuf.Reader.create(model.bytes());
    const f = { defaults: [] as onnx.IAttributeProto[], overload: '' };
    while (r.pos < r.len) {
      const t = r.uint32();
      if (t >>> 3 === 11 && (t & 7) === 2) f.defaults.push(proto.AttributeProto.decode(r.bytes()));
      else if (t >>> 3 === 13 && (t & 7) === 2) f.overload = r.string();
      else r.skipType(t & 7);
    }
    out.push(f);
  }
  return out;
}

const keyOf = (domain: string | null | undefined, name: string | null | undefined): string => `${domain || 'ai.onnx'}\u0000${name ?? ''}`;

/** Every name a graph and its subgraphs use, so that the copies' names never collide with them. */
function namesIn(g: onnx.IGraphProto, into: Set<string>): void {
  for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])]) into.add(v.name ?? '');
  for (const t of g.initializer ?? []) into.add(t.name ?? '');
  for (const s of g.sparseInitializer ?? []) into.add(s.values?.name ?? '');
  for (const nd of g.node ?? []) {
    for (const x of [...(nd.input ?? []), ...(nd.output ?? [])]) into.add(x);
    for (const a of nd.attribute ?? []) for (const sub of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) namesIn(sub, into);
  }
}

/** Replaces every call of a model-local function in `model`'s graph (and its subgraphs) by the function's body. */
export function inlineFunctions(model: DecodedModel, bytes: Uint8Array, file: string): void {
  const fns = model.functions ?? [];
  if (fns.length === 0) return;
  const extra = newerFields(bytes);
  const table = new Map<string, LocalFunction>();
  fns.forEach((fn, i) => {
    const label = `${file}: function ${quote(fn.name)} of domain ${quote(fn.domain)}`;
    const key = keyOf(fn.domain, fn.name);
    if (table.has(key)) throw new UsageError(`${label} is defined twice${extra[i]?.overload ? ' (overloads are not supported)' : ''}`);
    table.set(key, { fn, label, defaults: new Map((extra[i]?.defaults ?? []).map((a) => [a.name ?? '', a])) });
  });
  const modelOpset = (domain: string): number | undefined => {
    const o = model.opsetImport.find((x) => (x.domain || 'ai.onnx') === domain);
    return o ? int64ToNumber(o.version) : undefined;
  };
  const taken = new Set<string>();
  namesIn(model.graph, taken);
  const fresh = (base: string): string => {
    let name = base;
    for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    return name;
  };

  /** The body of `f` for one call, renamed; its own calls still to expand. */
  const instantiate = (f: LocalFunction, call: onnx.INodeProto, callName: string): onnx.INodeProto[] => {
    for (const o of f.fn.opsetImport ?? []) {
      const domain = o.domain || 'ai.onnx';
      const have = modelOpset(domain);
      if (domain === 'ai.onnx' && have !== int64ToNumber(o.version)) {
        throw new UsageError(`${f.label} imports opset ${int64ToNumber(o.version)} of the default ONNX domain and the model opset ${have ?? 'none'}; only functions at the model's opset are supported`);
      }
    }
    const formalIn = f.fn.input ?? [];
    const formalOut = f.fn.output ?? [];
    const ins = call.input ?? [];
    const outs = call.output ?? [];
    const where = `${file}: node ${quote(callName)} (${bare(call.opType ?? '')})`;
    if (ins.length > formalIn.length || outs.length > formalOut.length) {
      throw new UsageError(`${where} has ${ins.length} inputs and ${outs.length} outputs; function ${quote(f.fn.name)} takes ${formalIn.length} and gives ${formalOut.length}`);
    }
    const given = new Map((call.attribute ?? []).map((a) => [a.name ?? '', a]));
    const bind = (a: onnx.IAttributeProto): onnx.IAttributeProto | null => {
      if (!a.refAttrName) return a;
      const v = given.get(a.refAttrName) ?? f.defaults.get(a.refAttrName);
      return v ? { ...v, name: a.name, refAttrName: '' } : null;
    };
    const body = renamed(
      { input: formalIn.map((name) => ({ name })), node: f.fn.node ?? [], output: formalOut.map((name) => ({ name })) },
      formalIn.map((_, k) => ins[k] ?? ''),
      { fresh: (x) => fresh(`${callName}/${x}`), tag: callName, attribute: bind },
    );
    // A name the body reads that it neither takes nor defines would silently read the caller's value.
    const known = new Set<string>([...ins, '']);
    for (const nd of body.node ?? []) {
      for (const x of nd.input ?? []) if (!known.has(x)) throw new UsageError(`${f.label} reads ${quote(x)}, which is neither its input nor defined in it before`);
      for (const x of nd.output ?? []) known.add(x);
    }
    formalOut.forEach((name, k) => {
      // PyTorch 1.13's export_modules_as_functions can leave such an output (swin_t's ShiftedWindowAttention).
      if (outs[k] && !known.has(body.output?.[k]?.name ?? '')) throw new UsageError(`${f.label} gives ${quote(name)} as output ${k}, which it neither takes nor defines (the exporter wrote a broken function)`);
    });
    // The call's outputs alias the body's (Identity: the importer passes them through).
    const copies = (body.output ?? []).flatMap((v, k) => (outs[k] ? [{ opType: 'Identity', name: `${callName}/output_${k}`, input: [v.name ?? ''], output: [outs[k]], attribute: [] }] : []));
    return [...(body.node ?? []), ...copies];
  };

  // Every node is named, as the importer would name it by its index in the original graph, so that
  // nodes after a call keep their names.
  const expand = (nodes: readonly onnx.INodeProto[], chain: readonly string[]): onnx.INodeProto[] =>
    nodes.flatMap((nd, i) => {
      const name = nd.name || `${nd.opType ?? ''}_${i}`;
      const key = keyOf(nd.domain, nd.opType);
      const f = table.get(key);
      if (!f) {
        const sub = (g: onnx.IGraphProto): onnx.IGraphProto => ({ ...g, node: expand(g.node ?? [], chain) });
        const attribute = (nd.attribute ?? []).map((a) => ({ ...a, ...(a.g ? { g: sub(a.g) } : {}), ...(a.graphs?.length ? { graphs: a.graphs.map(sub) } : {}) }));
        return [{ ...nd, name, attribute }];
      }
      if (chain.includes(key)) throw new UsageError(`${f.label} calls itself (through ${chain.length} calls); ONNX functions cannot recurse`);
      if (chain.length >= MAX_CALL_DEPTH) throw new UsageError(`${f.label}: calls nest deeper than ${MAX_CALL_DEPTH}`);
      return expand(instantiate(f, nd, name), [...chain, key]);
    });

  model.graph.node = expand(model.graph.node, []) as DecodedNode[];
  model.functions = [];
}
