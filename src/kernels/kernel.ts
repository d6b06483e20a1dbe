/**
 * A kernel family declared once (README.md in this folder): its uniforms and bindings by name and
 * type, and per variant the constants, entry point and bindings baked into its WGSL. The generated
 * header (uniform struct, bindings, constants) and the pipeline's cache key and bind group layout all
 * come from this one declaration, as tfjs-backend-webgpu's makeShader and ONNX Runtime Web's
 * ProgramInfo do.
 */
import { WEBGPU_DEFAULT_LIMITS, type GpuLimits } from '../gpu/gpu-context.ts';
import type { KernelKey } from '../gpu/pipeline-cache.ts';
import type { GpuSession } from '../gpu/runtime.ts';
import { substitute } from './template.ts';
import { uniformLayout, uniformStruct, type UniformDecl, type UniformLayout } from './uniforms.ts';

/** WGSL element types of storage bindings. */
export type StorageType = 'f32' | 'i32' | 'u32' | 'vec4<f32>' | 'atomic<u32>';

/** A storage binding: `var<storage, access> NAME: array<type>`. */
export interface StorageDecl {
  readonly type: StorageType;
  readonly access: 'read' | 'read_write';
}

/** Storage bindings by WGSL name, numbered from 1 in this order (binding 0 is the uniform struct `P`). */
export type BindingDecl = Readonly<Record<string, StorageDecl>>;

/** A read-only storage binding of `type` elements. */
export function read(type: StorageType): StorageDecl {
  return { type, access: 'read' };
}

/** A read-write storage binding of `type` elements. */
export function readWrite(type: StorageType): StorageDecl {
  return { type, access: 'read_write' };
}

/** What selects one variant of a family: exactly what changes its WGSL or pipeline, hence its cache key. */
export type VariantParams = Readonly<Record<string, string | number | boolean>>;

/** A WGSL constant of a variant: a u32 or a bool. */
export type ConstValue = number | boolean;

/** What one variant bakes in. */
export interface CompiledVariant<B extends BindingDecl> {
  /** WGSL after the generated header: helpers and entry points. */
  body: string;
  /** Entry point (default `main`). */
  entry?: string;
  /** Emitted as `const NAME: u32|bool = value;`, and filling `{{NAME}}` placeholders of the body. */
  consts?: Readonly<Record<string, ConstValue>>;
  /** Emitted as `override NAME: u32|bool;`, set per pipeline: variants that share one shader module. */
  overrides?: Readonly<Record<string, ConstValue>>;
  /** Bindings the entry point reads or writes (default: all), in the pipeline's layout. */
  uses?: readonly (keyof B & string)[];
}

/** A family's declaration. */
export interface KernelFamilyDecl<V extends VariantParams, U extends UniformDecl, B extends BindingDecl> {
  /** Family name: first part of the cache key and of every label. */
  name: string;
  uniforms: U;
  bindings: B;
  /** WGSL placed before the body, after the header (shared helpers: Philox, the counter layout). */
  includes?: readonly string[];
  /** Checks variant `v` against the adapter's limits (throws a one-line reason) and says what it bakes in. */
  compile(v: V, limits: GpuLimits): CompiledVariant<B>;
}

/** A declared family, with what is derived from its declaration. */
export interface Kernel<V extends VariantParams, U extends UniformDecl, B extends BindingDecl> extends KernelFamilyDecl<V, U, B> {
  readonly layout: UniformLayout;
  /** Binding number of each storage binding. */
  readonly slots: Readonly<Record<keyof B & string, number>>;
  key(v: V): KernelKey;
  /** The variant's whole WGSL, checked against `limits` (the WebGPU defaults when no session is at hand). */
  source(v: V, limits?: GpuLimits): string;
  /** The session's pipeline of variant `v` (compiled once per device) and the bindings it uses. */
  pipeline(s: GpuSession, v: V): { pipeline: GPUComputePipeline; uses: readonly (keyof B & string)[] };
}

function constDecl(kind: 'const' | 'override', name: string, v: ConstValue): string {
  if (typeof v === 'boolean') return kind === 'const' ? `const ${name}: bool = ${v};` : `override ${name}: bool;`;
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`WGSL constant ${name}=${v}: must be a u32`);
  return kind === 'const' ? `const ${name}: u32 = ${v}u;` : `override ${name}: u32;`;
}

/** Declares a kernel family. */
export function defineKernel<V extends VariantParams, U extends UniformDecl, B extends BindingDecl>(decl: KernelFamilyDecl<V, U, B>): Kernel<V, U, B> {
  const layout = uniformLayout(decl.uniforms);
  const hasUniforms = Object.keys(decl.uniforms).length > 0;
  const names = Object.keys(decl.bindings) as (keyof B & string)[];
  const slots = Object.fromEntries(names.map((n, i) => [n, i + 1])) as Record<keyof B & string, number>;

  const header = (c: CompiledVariant<B>): string => {
    const lines = [`// Generated from the ${decl.name} family's declaration (src/kernels): uniforms, bindings, constants.`];
    for (const [k, v] of Object.entries(c.consts ?? {})) lines.push(constDecl('const', k, v));
    for (const [k, v] of Object.entries(c.overrides ?? {})) lines.push(constDecl('override', k, v));
    if (hasUniforms) lines.push(uniformStruct(decl.uniforms), '@group(0) @binding(0) var<uniform> P: Params;');
    for (const n of names) {
      const b = decl.bindings[n];
      lines.push(`@group(0) @binding(${slots[n]}) var<storage, ${b.access}> ${n}: array<${b.type}>;`);
    }
    return lines.join('\n');
  };

  const kernel: Kernel<V, U, B> = {
    ...decl,
    layout,
    slots,
    key: (v) => ({ family: decl.name, params: v }),
    source(v, limits = WEBGPU_DEFAULT_LIMITS) {
      const c = decl.compile(v, limits);
      return [header(c), ...(decl.includes ?? []), substitute(c.body, c.consts ?? {})].join('\n\n');
    },
    pipeline(s, v) {
      const c = decl.compile(v, s.ctx.limits);
      const uses = c.uses ?? names;
      const pipeline = s.pipelines.get(kernel.key(v), () => {
        const entries: GPUBindGroupLayoutEntry[] = [];
        if (hasUniforms) entries.push({ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } });
        for (const n of uses) {
          entries.push({ binding: slots[n], visibility: GPUShaderStage.COMPUTE, buffer: { type: decl.bindings[n].access === 'read' ? 'read-only-storage' : 'storage' } });
        }
        const constants = c.overrides && Object.fromEntries(Object.entries(c.overrides).map(([k, x]) => [k, Number(x)]));
        return { code: kernel.source(v, s.ctx.limits), entryPoint: c.entry ?? 'main', bindings: entries, constants };
      });
      return { pipeline, uses };
    },
  };
  return kernel;
}
