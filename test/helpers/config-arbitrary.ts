// Random configs from the config schema's own grammar (src/config/schema.ts, zod): every object,
// field, enum, union and record of configInputSchema. A number field takes the values the defaults
// and presets give it (valid), values around the edges of DESIGN.md section 7's ranges, or any
// double; now and then a field gets a wrong type, an object an unknown or hostile key, and a
// `layers` table hostile keys, so fuzzing reaches the valid configs and every way of being invalid.
import fc from 'fast-check';
import { z } from 'zod';
import { DEFAULT_CONFIG } from '../../src/config/defaults.ts';
import { configInputSchema } from '../../src/config/schema.ts';
import { NOISE_PRESETS, NOISE_PRESET_NAMES } from '../../src/config/noise-presets.ts';
import { PRESETS, PRESET_NAMES } from '../../src/config/presets.ts';

/** Numbers around the edges of every range in DESIGN.md section 7, and beyond. */
const edgeNumber = fc.oneof(
  fc.integer({ min: -2, max: 20 }),
  fc.constantFrom(0, 1, 2, 3, 4, 6, 8, 16, 17, 32, 64, 100, 128, 256, 4096, 4097, 2 ** 32 - 1, 2 ** 32, -0, 1e308, -1e308, 5e-324),
  fc.double({ min: -1, max: 2, noNaN: true }),
  fc.double({ min: 0, max: 0.2, noNaN: true }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** A value of the wrong type for any field. */
const wrongType = fc.oneof(fc.constant(null), fc.string({ maxLength: 6 }), fc.boolean(), fc.array(fc.integer(), { maxLength: 2 }), fc.constant({}), edgeNumber);

/** Keys a `layers` table may hold: the shipped MLP's names and indices, other names, and keys that must be refused. */
const layerKey = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('fc1', 'fc2', 'fc3', '0', '1', '2') },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', '', 'toString', '7', 'features.0.conv') },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);

/** Every number the defaults and presets give each leaf path (layers' fields by their own path). */
const SEEN = new Map<string, Set<number>>();
function collect(v: unknown, path: string): void {
  if (typeof v === 'number') {
    const s = SEEN.get(path) ?? new Set<number>();
    s.add(v);
    SEEN.set(path, s);
  } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, c] of Object.entries(v)) collect(c, path === '' ? k : `${path}.${k}`);
  }
}
collect(DEFAULT_CONFIG, '');
for (const p of Object.values(PRESETS)) collect(p, '');
for (const n of Object.values(NOISE_PRESETS)) collect(n, 'noise');

function unwrap(s: z.ZodType): z.ZodType {
  let t = s;
  while (t instanceof z.ZodOptional) t = t.unwrap() as unknown as z.ZodType;
  return t;
}

function ownKeys(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  // defineProperty, as JSON.parse does: `__proto__` becomes an own key, not the prototype.
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, configurable: true, writable: true });
  return o;
}

/** An arbitrary for the schema node `s` at dotted `path` (layer fields: `path` relative to the layer); `odd`: chance of a wrong type or extra key. */
function arbitraryOf(s: z.ZodType, path: string, odd: number): fc.Arbitrary<unknown> {
  const node = unwrap(s);
  const withOdd = (a: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
    odd <= 0 ? a : fc.oneof({ weight: Math.round(1000 * (1 - odd)), arbitrary: a }, { weight: Math.max(1, Math.round(1000 * odd)), arbitrary: wrongType });
  if (node instanceof z.ZodObject) {
    const shape = node.shape as Record<string, z.ZodType>;
    const fields: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [k, child] of Object.entries(shape)) fields[k] = arbitraryOf(child, path === '' ? k : `${path}.${k}`, odd);
    const rec = fc.record(fields, { requiredKeys: [] });
    if (odd <= 0) return rec;
    const extra = fc.option(fc.tuple(fc.constantFrom('bitz', '__proto__', 'constructor', 'sigma', 'Bits'), wrongType), { freq: Math.max(2, Math.round(1 / odd)) });
    return fc.tuple(rec, extra).map(([r, x]) => (x === null ? r : ownKeys([...Object.entries(r as object), x])));
  }
  if (node instanceof z.ZodRecord) {
    // The only record is `layers`; its entries' fields are named as at the top (`adc.bits`).
    const value = arbitraryOf(node.valueType as unknown as z.ZodType, '', odd);
    return fc.array(fc.tuple(layerKey, value), { maxLength: 2 }).map(ownKeys);
  }
  if (node instanceof z.ZodEnum) return withOdd(fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...node.options.map(String)) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }));
  if (node instanceof z.ZodUnion) return withOdd(fc.oneof(...(node.options as readonly z.ZodType[]).map((o) => arbitraryOf(o, path, 0))));
  if (node instanceof z.ZodBoolean) return withOdd(fc.boolean());
  // Arrays of numbers (adc.nonlinear.inl, adc.nonuniform.levels): short lists of grammar numbers.
  if (node instanceof z.ZodArray) return withOdd(fc.array(arbitraryOf(node.element as unknown as z.ZodType, `${path}[]`, 0), { maxLength: 8 }));
  if (node instanceof z.ZodNumber) {
    const seen = [...(SEEN.get(path) ?? [])];
    const valid = seen.length > 0 ? fc.constantFrom(...seen) : edgeNumber;
    return withOdd(fc.oneof({ weight: 6, arbitrary: valid }, { weight: 3, arbitrary: edgeNumber }));
  }
  if (node instanceof z.ZodString) {
    const names = path.endsWith('noise.preset') ? NOISE_PRESET_NAMES : PRESET_NAMES;
    return withOdd(fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }));
  }
  throw new Error(`config-arbitrary: no generator for the schema node at ${path || '(root)'}`);
}

/** Any config the grammar spells, valid or not (about 1 field in 30 of a wrong type). */
export const anyConfig: fc.Arbitrary<unknown> = arbitraryOf(configInputSchema, '', 1 / 30);

/** Every leaf path of the grammar with its arbitrary (no wrong types), `layers` as one entry. */
function leaves(s: z.ZodType, path: string, out: [string, fc.Arbitrary<unknown>][]): [string, fc.Arbitrary<unknown>][] {
  const node = unwrap(s);
  if (node instanceof z.ZodObject) {
    for (const [k, child] of Object.entries(node.shape as Record<string, z.ZodType>)) leaves(child, path === '' ? k : `${path}.${k}`, out);
  } else {
    out.push([path, arbitraryOf(node, path, 0)]);
  }
  return out;
}
const LEAVES = leaves(configInputSchema, '', []).filter(([p]) => p !== 'preset');

/** `root` with the dotted `path` set to `value`. */
function setPath(root: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const segs = path.split('.');
  let o = root;
  for (const seg of segs.slice(0, -1)) {
    if (typeof o[seg] !== 'object' || o[seg] === null) o[seg] = {};
    o = o[seg] as Record<string, unknown>;
  }
  o[segs[segs.length - 1]] = value;
  return root;
}

/**
 * Configs near validity, as users write them: a preset plus one to four fields of the grammar set
 * to grammar values, so a good share resolves and runs and the rest fail on ranges and cross-field
 * rules.
 */
export const nearValidConfig: fc.Arbitrary<unknown> = fc
  .tuple(
    fc.constantFrom(...PRESET_NAMES),
    fc.array(
      fc.integer({ min: 0, max: LEAVES.length - 1 }).chain((i) => LEAVES[i][1].map((v) => [LEAVES[i][0], v] as const)),
      { minLength: 1, maxLength: 4 },
    ),
  )
  .map(([preset, sets]) => {
    const out: Record<string, unknown> = { preset };
    for (const [p, v] of sets) setPath(out, p, v);
    return out;
  });
