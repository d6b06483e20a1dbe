import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { packUniforms, uniformLayout, uniformStruct } from '../../src/kernels/uniforms.ts';
import { WEBGPU_DEFAULT_LIMITS } from '../../src/gpu/gpu-context.ts';
import { adapterTuning, REGISTER_TILES, SHARED_TILES } from '../../src/gpu/tuning.ts';
import { xbarSource } from '../../src/kernels/xbar.ts';
import { ELEMENTWISE } from '../../src/kernels/elementwise.ts';
import { GEMM } from '../../src/kernels/gemm.ts';
import { IM2COL } from '../../src/kernels/im2col.ts';
import { LAYOUT } from '../../src/kernels/layout.ts';
import { POOL } from '../../src/kernels/pool.ts';
import { CONV_GROUPED } from '../../src/kernels/conv-grouped.ts';
import { PROGRAMMING } from '../../src/kernels/program.ts';
import { QUANTIZE, ROW_STATS } from '../../src/kernels/quantize.ts';
import { SOFTMAX } from '../../src/kernels/softmax.ts';
import { XBAR } from '../../src/kernels/xbar-kernel.ts';
import { MATMUL } from '../../src/kernels/matmul.ts';
import { REDUCE } from '../../src/kernels/reduce.ts';
import { TENSOR } from '../../src/kernels/tensor.ts';

/** Sources of the issue-12 digital families (every entry point, one variant each). */
const ISSUE12_SOURCES = [
  MATMUL.source({ wg: 64 }),
  ...(['sum', 'mean', 'max', 'min'] as const).map((fn) => REDUCE.source({ entry: 'reduce', fn, wg: 64 })),
  REDUCE.source({ entry: 'argmax', last: true, wg: 64 }),
  REDUCE.source({ entry: 'norm', wg: 64 }),
  REDUCE.source({ entry: 'lrn', wg: 64 }),
  ...(['constant', 'reflect', 'edge', 'wrap'] as const).map((mode) => TENSOR.source({ entry: 'pad', mode, wg: 64 })),
  TENSOR.source({ entry: 'gather', wg: 64 }),
  TENSOR.source({ entry: 'resize', wg: 64 }),
  TENSOR.source({ entry: 'col2im', wg: 64 }),
  SOFTMAX.source({ log: true, wg: 64 }),
];

describe('uniforms declared once', () => {
  it('lay out scalars and vec4 tables by WGSL alignment', () => {
    const l = uniformLayout({ a: 'u32', b: 'f32', t: 'array<vec4<u32>, 2>', c: 'i32' });
    expect(l.fields.map((f) => [f.name, f.offset, f.words])).toEqual([['a', 0, 1], ['b', 4, 1], ['t', 16, 8], ['c', 48, 1]]);
    expect(l.bytes).toBe(64);
    expect(uniformLayout({ x: 'u32' }).bytes).toBe(16);
    expect(uniformStruct({ a: 'u32', t: 'array<vec4<f32>, 1>' })).toBe('struct Params {\n  a: u32,\n  t: array<vec4<f32>, 1>,\n}');
  });

  it('pack values by name, and refuse a missing, unknown or oversized one', () => {
    const l = uniformLayout({ a: 'u32', b: 'f32', c: 'i32', t: 'array<vec4<u32>, 1>' });
    const v = new DataView(packUniforms(l, { a: 7, b: 0.5, c: -3, t: [1, 2] }, 'test'));
    expect([v.getUint32(0, true), v.getFloat32(4, true), v.getInt32(8, true)]).toEqual([7, 0.5, -3]);
    expect([16, 20, 24, 28].map((o) => v.getUint32(o, true))).toEqual([1, 2, 0, 0]);
    expect(() => packUniforms(l, { a: 1, b: 2, t: [] } as never, 'test')).toThrow(/uniform c not given/);
    expect(() => packUniforms(l, { a: 1, b: 2, c: 3, t: [], d: 4 } as never, 'test')).toThrow(/no uniform named d/);
    expect(() => packUniforms(l, { a: 1, b: 2, c: 3, t: [1, 2, 3, 4, 5] }, 'test')).toThrow(/holds 4 values/);
    expect(() => uniformLayout({ a: 'vec3<f32>' } as never)).toThrow(/unsupported type/);
  });

  it('no shader declares its own uniforms or bindings: every family generates them from its declaration', () => {
    const dir = new URL('../../shaders/', import.meta.url);
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.wgsl'))) {
      const text = readFileSync(new URL(f, dir), 'utf8');
      expect(text, f).not.toMatch(/struct Params|@binding\(/);
    }
  });

  it('every family generates one struct Params and its bindings, numbered in declaration order', () => {
    const sources = [
      ELEMENTWISE.source({ entry: 'binary', fn: 'add', wg: 64 }),
      GEMM.source({ tm: 4, wgx: 16, wgy: 4 }),
      IM2COL.source({ wg: 64 }),
      LAYOUT.source({ bias: true, wg: 64 }),
      POOL.source({ mode: 'avg', wg: 64 }),
      PROGRAMMING.source({ entry: 'planes', mode: 'cells', npl: 8, programming: true, stuckAt: false, drift: false, varPlanes: true, deviceRead: false }),
      QUANTIZE.source({ wg: 64 }),
      ROW_STATS.source({ wg: 64 }),
      SOFTMAX.source({ log: false, wg: 64 }),
      XBAR.source({ tm: 4, wgx: 8, wgy: 8, npl: 8, pc: 4, cycles: 8, signed: false, collapsed: false, trace: false, kt: 0, read: 'none', deviceRead: false, approx: false, pairs: false, gain: false, analogNoise: false, adcNoise: false, adcTable: false, digital: 'none', digitalRelu: false, digitalSaturate: false, digitalExact: false, nsa: false, nsaSlices: false, exact: false, bitplane: false, wbits: 0, exactF32: false, ideal: false }),
      CONV_GROUPED.source({ bias: true, wg: 64 }),
    ];
    for (const src of [...sources, ...ISSUE12_SOURCES]) expect(src.match(/struct Params/g)).toHaveLength(1);
    expect(sources[9]).toContain('@group(0) @binding(1) var<storage, read> xq: array<i32>;');
    expect(sources[9]).toContain('@group(0) @binding(8) var<storage, read_write> Y: array<f32>;');
    expect(sources[9]).toMatch(/const STREAM_READ: u32 = 5u;/);
    // The programming kernels differ only in pipeline overrides: one shader module serves them all.
    const planes = PROGRAMMING.source({ entry: 'planes', mode: 'difference', npl: 4, programming: false, stuckAt: true, drift: true, varPlanes: false, deviceRead: false });
    expect(planes).toBe(sources[5]);
    expect(planes).toContain('override NPL: u32;');
  });
});

describe('crossbar variants and tuning come from the adapter', () => {
  const v = { tm: 4, wgx: 16, wgy: 4, npl: 4, pc: 4, cycles: 8, signed: false, collapsed: false, trace: false, kt: 32, read: 'proportional', deviceRead: false, approx: false, pairs: false, gain: false, analogNoise: false, adcNoise: false, adcTable: false, digital: 'none', digitalRelu: false, digitalSaturate: false, digitalExact: false, nsa: false, nsaSlices: false, exact: false, bitplane: false, wbits: 0, exactF32: false, ideal: false } as const;
  it('the two variants are separate sources; shared tiles are checked against the adapter workgroup memory', () => {
    expect(xbarSource({ ...v, kt: 0 })).toContain('fn stageTile(kt: u32, k1: u32, t: u32, ph: u32, wgRow: u32, li: u32) {}');
    expect(xbarSource(v)).toContain('workgroupUniformLoad(&wgNeg)');
    expect(xbarSource({ ...v, kt: 0 })).not.toContain('workgroupBarrier');
    expect(() => xbarSource(v, { ...WEBGPU_DEFAULT_LIMITS, maxComputeWorkgroupStorageSize: 2048 })).toThrow(/exceeds 2 KiB/);
    expect(() => xbarSource({ ...v, kt: 64 }, WEBGPU_DEFAULT_LIMITS)).not.toThrow();
    expect(() => xbarSource({ ...v, kt: 64, wgy: 16 }, WEBGPU_DEFAULT_LIMITS)).toThrow(/16 KiB/);
    expect(() => xbarSource({ ...v, kt: 64, wgy: 16 }, { ...WEBGPU_DEFAULT_LIMITS, maxComputeWorkgroupStorageSize: 32768 })).not.toThrow();
  });

  it('CPU drivers get the register variant; GPUs shared tiles that fit their workgroup memory', () => {
    const adapter = (isSoftware: boolean) => ({ vendor: '', architecture: '', device: '', description: '', source: '', isSoftware });
    expect(adapterTuning({ adapter: adapter(true), limits: WEBGPU_DEFAULT_LIMITS }).xbar).toEqual(REGISTER_TILES);
    expect(adapterTuning({ adapter: adapter(false), limits: WEBGPU_DEFAULT_LIMITS }).xbar).toEqual(SHARED_TILES);
    const small = adapterTuning({ adapter: adapter(false), limits: { ...WEBGPU_DEFAULT_LIMITS, maxComputeWorkgroupStorageSize: 2048 } }).xbar;
    expect(small.kt).toBe(16);
    expect(() => xbarSource({ ...v, kt: small.kt }, { ...WEBGPU_DEFAULT_LIMITS, maxComputeWorkgroupStorageSize: 2048 })).not.toThrow();
  });
});
