/**
 * A kernel's uniforms, declared once by name and WGSL type: the WGSL `struct Params` is generated from
 * the declaration and the host packs values by name at the offsets WGSL gives the same struct, so the
 * two can never drift apart (the role of ONNX Runtime Web's registerUniform).
 */

/** The WGSL scalar types of uniform fields and storage elements. */
export type Scalar = 'u32' | 'i32' | 'f32';

/** A uniform field: a scalar, or a table of 32-bit words held as `array<vec4<T>, n>` (uniform arrays need a 16-byte stride). */
export type UniformType = Scalar | `array<vec4<${Scalar}>, ${number}>`;

/** Field name → WGSL type, in struct order. */
export type UniformDecl = Readonly<Record<string, UniformType>>;

/** The values of a declaration: a number per scalar, up to 4·n numbers per table (zero-filled). */
export type UniformValues<U extends UniformDecl> = { readonly [K in keyof U]: U[K] extends Scalar ? number : readonly number[] };

/** Where one field lives in the uniform buffer. */
export interface UniformField {
  name: string;
  type: UniformType;
  scalar: Scalar;
  /** Byte offset, by WGSL's alignment rules (scalars 4, vec4 arrays 16). */
  offset: number;
  /** 32-bit words it holds. */
  words: number;
}

/** A declaration's byte layout. */
export interface UniformLayout {
  fields: readonly UniformField[];
  /** Buffer size: the struct size rounded up to 16 bytes (at least 16). */
  bytes: number;
}

const TABLE = /^array<vec4<(u32|i32|f32)>, ([1-9][0-9]*)>$/;

/** Offsets of every field of `decl` as WGSL lays out the generated struct. */
export function uniformLayout(decl: UniformDecl): UniformLayout {
  const fields: UniformField[] = [];
  let offset = 0;
  for (const [name, type] of Object.entries(decl)) {
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) throw new Error(`uniform ${name}: not a WGSL identifier`);
    const table = TABLE.exec(type);
    if (table) {
      offset = Math.ceil(offset / 16) * 16;
      const n = Number(table[2]);
      fields.push({ name, type, scalar: table[1] as Scalar, offset, words: 4 * n });
      offset += 16 * n;
    } else if (type === 'u32' || type === 'i32' || type === 'f32') {
      fields.push({ name, type, scalar: type, offset, words: 1 });
      offset += 4;
    } else {
      throw new Error(`uniform ${name}: unsupported type ${String(type)}`);
    }
  }
  return { fields, bytes: Math.max(16, Math.ceil(offset / 16) * 16) };
}

/** The WGSL struct of a declaration. */
export function uniformStruct(decl: UniformDecl, name = 'Params'): string {
  const body = Object.entries(decl).map(([field, type]) => `  ${field}: ${type},`);
  return `struct ${name} {\n${body.join('\n')}\n}`;
}

/** Packs `values` by name into a buffer laid out as `layout`; every field must be given, and nothing else. */
export function packUniforms(layout: UniformLayout, given: Readonly<Record<string, number | readonly number[]>>, what: string): ArrayBuffer {
  const view = new DataView(new ArrayBuffer(layout.bytes));
  for (const k of Object.keys(given)) {
    if (!layout.fields.some((f) => f.name === k)) throw new Error(`${what}: no uniform named ${k}`);
  }
  for (const f of layout.fields) {
    const v = given[f.name];
    if (v === undefined) throw new Error(`${what}: uniform ${f.name} not given`);
    const words = typeof v === 'number' ? [v] : v;
    if (typeof v === 'number' ? f.words !== 1 : f.words === 1) throw new Error(`${what}: uniform ${f.name} is ${f.type}`);
    if (words.length > f.words) throw new Error(`${what}: uniform ${f.name} holds ${f.words} values, got ${words.length}`);
    for (let i = 0; i < f.words; i++) {
      const w = words[i] ?? 0;
      const at = f.offset + 4 * i;
      if (f.scalar === 'u32') view.setUint32(at, w >>> 0, true);
      else if (f.scalar === 'i32') view.setInt32(at, w | 0, true);
      else view.setFloat32(at, w, true);
    }
  }
  return view.buffer as ArrayBuffer;
}
