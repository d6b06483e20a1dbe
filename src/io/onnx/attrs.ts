/** Typed access to a NodeProto's attributes, with errors that name the node and attribute. */
import type { onnx } from 'onnx-proto';
import { UsageError } from '../../errors.ts';
import { AttrType, int64ToNumber, quote } from './proto.ts';

/** A node's attributes by name. */
export class Attrs {
  private readonly byName = new Map<string, onnx.IAttributeProto>();

  /** `where` prefixes error messages (file and node). */
  constructor(node: onnx.INodeProto, private readonly where: string) {
    for (const a of node.attribute ?? []) this.byName.set(a.name ?? '', a);
  }

  /** True when the attribute is present. */
  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The attribute itself, to pass on to a node an op expands into. */
  raw(name: string): onnx.IAttributeProto | undefined {
    return this.byName.get(name);
  }

  /** Names of all attributes present. */
  names(): string[] {
    return [...this.byName.keys()];
  }

  /** An INT attribute, or `def` when absent. */
  int(name: string, def: number): number {
    const a = this.byName.get(name);
    if (!a) return def;
    const t = typeOf(a);
    if (t === AttrType.INT) return int64ToNumber(a.i);
    if (t === AttrType.FLOAT && Number.isInteger(a.f)) return a.f ?? 0;
    throw this.wrongType(name, 'an int', t);
  }

  /** A FLOAT attribute (INT accepted), or `def` when absent. */
  float(name: string, def: number): number {
    const a = this.byName.get(name);
    if (!a) return def;
    const t = typeOf(a);
    if (t === AttrType.FLOAT) return a.f ?? 0;
    if (t === AttrType.INT) return int64ToNumber(a.i);
    throw this.wrongType(name, 'a float', t);
  }

  /** An INTS attribute, or `def` when absent. */
  ints<D extends number[] | null>(name: string, def: D): number[] | D {
    const a = this.byName.get(name);
    if (!a) return def;
    const t = typeOf(a);
    if (t === AttrType.INTS) return (a.ints ?? []).map(int64ToNumber);
    if (t === AttrType.INT) return [int64ToNumber(a.i)];
    throw this.wrongType(name, 'a list of ints', t);
  }

  /** A FLOATS attribute, or `def` when absent. */
  floats<D extends number[] | null>(name: string, def: D): number[] | D {
    const a = this.byName.get(name);
    if (!a) return def;
    const t = typeOf(a);
    if (t === AttrType.FLOATS) return [...(a.floats ?? [])];
    if (t === AttrType.INTS) return (a.ints ?? []).map(int64ToNumber);
    throw this.wrongType(name, 'a list of floats', t);
  }

  /** A STRING attribute (UTF-8), or `def` when absent. */
  str(name: string, def: string): string {
    const a = this.byName.get(name);
    if (!a) return def;
    const t = typeOf(a);
    if (t === AttrType.STRING) return new TextDecoder().decode(a.s ?? new Uint8Array());
    throw this.wrongType(name, 'a string', t);
  }

  /** A STRINGS attribute (UTF-8), or `def` when absent. */
  strings<D extends string[] | null>(name: string, def: D): string[] | D {
    const a = this.byName.get(name);
    if (!a) return def;
    const t = typeOf(a);
    if (t === AttrType.STRINGS) return (a.strings ?? []).map((s) => new TextDecoder().decode(s));
    if (t === AttrType.STRING) return [new TextDecoder().decode(a.s ?? new Uint8Array())];
    throw this.wrongType(name, 'a list of strings', t);
  }

  /** A TENSOR attribute, or null when absent. */
  tensor(name: string): onnx.ITensorProto | null {
    const a = this.byName.get(name);
    if (!a) return null;
    const t = typeOf(a);
    if (t === AttrType.TENSOR && a.t) return a.t;
    throw this.wrongType(name, 'a tensor', t);
  }

  /** A SPARSE_TENSOR attribute (Constant's sparse_value), or null when absent. */
  sparse(name: string): onnx.ISparseTensorProto | null {
    const a = this.byName.get(name);
    if (!a) return null;
    const t = typeOf(a);
    if (t === AttrType.SPARSE_TENSOR && a.sparseTensor) return a.sparseTensor;
    throw this.wrongType(name, 'a sparse tensor', t);
  }

  /** A GRAPH attribute (If's branches); a missing one is an error. */
  graph(name: string): onnx.IGraphProto {
    const a = this.byName.get(name);
    if (!a) throw new UsageError(`${this.where}: attribute ${quote(name)} is missing`);
    const t = typeOf(a);
    if (t === AttrType.GRAPH && a.g) return a.g;
    throw this.wrongType(name, 'a graph', t);
  }

  private wrongType(name: string, want: string, got: number): UsageError {
    return new UsageError(`${this.where}: attribute ${quote(name)} should be ${want}, has type ${attrTypeName(got)}`);
  }
}

/** The attribute's type; writers older than IR v2 left it unset, so infer it from the populated field. */
function typeOf(a: onnx.IAttributeProto): number {
  if (a.type) return a.type;
  if (a.t) return AttrType.TENSOR;
  if (a.g) return AttrType.GRAPH;
  if (a.floats && a.floats.length > 0) return AttrType.FLOATS;
  if (a.ints && a.ints.length > 0) return AttrType.INTS;
  if (a.strings && a.strings.length > 0) return AttrType.STRINGS;
  if (a.s && a.s.length > 0) return AttrType.STRING;
  if (a.f) return AttrType.FLOAT;
  return AttrType.INT;
}

function attrTypeName(t: number): string {
  const entry = Object.entries(AttrType).find(([, v]) => v === t);
  return entry ? entry[0] : String(t);
}
