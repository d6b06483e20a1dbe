import * as z from 'zod';
import { configInputSchema, configPaths, layerFieldPaths, splitLayerPath } from '../config/schema.ts';
import { PRESET_NAMES } from '../config/presets.ts';
import { UsageError } from '../errors.ts';
import type { VaryValue } from './types.ts';

/** How a `--vary` spec was written; `log` makes the report use a log axis. */
export type VaryScale = 'linear' | 'log' | 'list';

/** One parsed `--vary PATH=SPEC`: the config path and the values it takes, in the order given. */
export interface Vary {
  path: string;
  /** The SPEC text as the user wrote it (for messages and the report). */
  spec: string;
  scale: VaryScale;
  values: VaryValue[];
}

/** What kind of value a config path holds, read off the config schema. */
export type PathKind =
  | { kind: 'number'; integer: boolean }
  | { kind: 'enum'; options: string[] }
  | { kind: 'boolean' }
  | { kind: 'number-or-enum'; options: string[] };

// These paths go through schema.ts's integer checks (intIn, the adc.bits rule, calibration.samples);
// the zod shape only says "number", so the integer rule is restated here to reject e.g.
// `adc.bits=2:8:5` (which would give 3.5) with a message about the spec rather than the config.
const INTEGER_PATHS: ReadonlySet<string> = new Set([
  'array.rows',
  'array.cols',
  'weights.bits',
  'weights.cellBits',
  'inputs.bits',
  'inputs.dacBits',
  'adc.bits',
  'calibration.samples',
  'seed',
]);

function unwrap(s: z.ZodType): z.ZodType {
  let t = s;
  while (t instanceof z.ZodOptional) t = t.unwrap() as unknown as z.ZodType;
  return t;
}

/** The schema node at `segs` below `root` (optional wrappers stepped through), or undefined. */
function schemaAt(root: z.ZodType, segs: readonly string[]): z.ZodType | undefined {
  let s: z.ZodType = root;
  for (const seg of segs) {
    const obj = unwrap(s);
    if (!(obj instanceof z.ZodObject)) return undefined;
    const next = (obj.shape as Record<string, z.ZodType | undefined>)[seg];
    if (next === undefined) return undefined;
    s = next;
  }
  return unwrap(s);
}

/** The schema of one `layers` entry (the value type of the `layers` record). */
function layerSchema(): z.ZodType {
  const rec = schemaAt(configInputSchema, ['layers']);
  if (!(rec instanceof z.ZodRecord)) throw new Error('config schema: layers is not a record');
  return rec.valueType as unknown as z.ZodType;
}

/**
 * The kind of value at a `configPaths()` entry or a `layers.<name>.<field>` path (a node name or
 * a layer index; whether that layer exists is checked once the model is loaded); throws a
 * UsageError for an unknown path.
 */
export function pathKind(path: string, flag = '--vary'): PathKind {
  const layer = splitLayerPath(path);
  let leaf: z.ZodType | undefined;
  let integer: boolean;
  if (layer !== undefined) {
    if (layer.field === 'preset') return { kind: 'enum', options: [...PRESET_NAMES] };
    leaf = schemaAt(layerSchema(), layer.field.split('.'));
    integer = INTEGER_PATHS.has(layer.field);
  } else {
    if (!configPaths().includes(path)) {
      const hint = path.startsWith('layers.')
        ? `a layer path is layers.<name or index>.<field>, field one of: ${layerFieldPaths().join(', ')}`
        : `allowed: ${configPaths().join(', ')}, layers.<name or index>.<field>`;
      throw new UsageError(`${flag} ${path}: unknown config path (${hint})`);
    }
    leaf = schemaAt(configInputSchema, path.split('.'));
    integer = INTEGER_PATHS.has(path);
  }
  if (leaf === undefined) throw new UsageError(`${flag} ${path}: unknown config path`);
  if (leaf instanceof z.ZodNumber) return { kind: 'number', integer };
  if (leaf instanceof z.ZodBoolean) return { kind: 'boolean' };
  if (leaf instanceof z.ZodEnum) return { kind: 'enum', options: leaf.options.map(String) };
  if (leaf instanceof z.ZodUnion) {
    const options: string[] = [];
    let numeric = false;
    for (const o of leaf.options as readonly z.ZodType[]) {
      const u = unwrap(o);
      if (u instanceof z.ZodEnum) options.push(...u.options.map(String));
      else if (u instanceof z.ZodNumber) numeric = true;
    }
    return numeric ? { kind: 'number-or-enum', options } : { kind: 'enum', options };
  }
  throw new UsageError(`${flag} ${path}: this config path cannot be varied`);
}

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function parseNumber(text: string): number | undefined {
  const t = text.trim();
  if (!NUMBER_RE.test(t)) return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

/** Rounds away float noise (0.1·3 = 0.30000000000000004) so values, ids and CSV cells read cleanly. */
function clean(v: number): number {
  const r = Number(v.toPrecision(12));
  return Object.is(r, -0) ? 0 : r;
}

function kindText(k: PathKind): string {
  switch (k.kind) {
    case 'number':
      return k.integer ? 'integers' : 'numbers';
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${k.options.join(', ')}`;
    case 'number-or-enum':
      return `${k.options.join(', ')} or a number`;
  }
}

/**
 * Parses `PATH=SPEC` (the value of one `--vary`). SPEC is `start:stop:count` (linear, both ends
 * included), `log:start:stop:count` (geometric, start and stop > 0), or a comma list. Checks the
 * path exists and each value has the path's type (integers for integer paths, enum members for
 * enum paths); whether a value is allowed for a given preset is checked when the grid is built.
 */
export function parseVary(arg: string): Vary {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new UsageError(`--vary ${arg}: expected PATH=SPEC, e.g. noise.programming.sigma=0:0.1:5`);
  const path = arg.slice(0, eq).trim();
  const spec = arg.slice(eq + 1).trim();
  const kind = pathKind(path);
  const where = `--vary ${path}=${spec}`;
  function bad(msg: string): never {
    throw new UsageError(`${where}: ${msg}`);
  }
  if (spec === '') bad('empty SPEC (use start:stop:count, log:start:stop:count or a comma list)');

  let values: VaryValue[];
  let scale: VaryScale;
  const isRange = spec.startsWith('log:') || (spec.includes(':') && !spec.includes(','));
  if (isRange) {
    if (kind.kind === 'enum' || kind.kind === 'boolean') bad(`${path} takes ${kindText(kind)}; use a comma list`);
    const log = spec.startsWith('log:');
    const parts = (log ? spec.slice(4) : spec).split(':');
    if (parts.length !== 3) bad(`expected ${log ? 'log:start:stop:count' : 'start:stop:count'}`);
    const [a, b, c] = parts.map((p) => p.trim());
    const start = parseNumber(a);
    const stop = parseNumber(b);
    if (start === undefined) bad(`start ${JSON.stringify(a)} is not a number`);
    if (stop === undefined) bad(`stop ${JSON.stringify(b)} is not a number`);
    if (!/^\d+$/.test(c) || Number(c) < 1) bad(`count ${JSON.stringify(c)} must be an integer >= 1`);
    const count = Number(c);
    if (count > 100_000) bad(`count ${count} is too large (at most 100000)`);
    if (count === 1 && start !== stop) bad('count 1 needs start = stop');
    if (count > 1 && start === stop) bad('start = stop gives the same value count times');
    if (log && !(start > 0 && stop > 0)) bad('log spacing needs start > 0 and stop > 0');
    values = [];
    for (let i = 0; i < count; i++) {
      const f = count === 1 ? 0 : i / (count - 1);
      let v = log ? start * (stop / start) ** f : start + (stop - start) * f;
      if (i === 0) v = start;
      if (i === count - 1) v = stop;
      values.push(clean(v));
    }
    scale = log ? 'log' : 'linear';
  } else {
    const items = spec.split(',').map((s) => s.trim());
    values = items.map((item) => {
      if (item === '') bad('empty item in the comma list');
      switch (kind.kind) {
        case 'number': {
          const v = parseNumber(item);
          if (v === undefined) bad(`${JSON.stringify(item)} is not a number (${path} takes ${kindText(kind)})`);
          return v;
        }
        case 'boolean':
          if (item !== 'true' && item !== 'false') bad(`${JSON.stringify(item)}: ${path} takes true or false`);
          return item === 'true';
        case 'enum':
          if (!kind.options.includes(item)) bad(`${JSON.stringify(item)}: ${path} must be one of ${kind.options.join(', ')}`);
          return item;
        case 'number-or-enum': {
          if (kind.options.includes(item)) return item;
          const v = parseNumber(item);
          if (v === undefined) bad(`${JSON.stringify(item)}: ${path} must be ${kindText(kind)}`);
          return v;
        }
      }
    });
    scale = 'list';
  }
  if (kind.kind === 'number' && kind.integer) {
    const frac = values.find((v) => typeof v === 'number' && !Number.isInteger(v));
    if (frac !== undefined) bad(`${path} takes integers (this spec gives ${String(frac)})`);
  }
  const seen = new Set<string>();
  for (const v of values) {
    const key = JSON.stringify(v);
    if (seen.has(key)) bad(`value ${String(v)} appears twice`);
    seen.add(key);
  }
  return { path, spec, scale, values };
}

/** Parses every `--vary`; a path may be varied only once. */
export function parseVaries(args: readonly string[]): Vary[] {
  const out: Vary[] = [];
  for (const a of args) {
    const v = parseVary(a);
    if (out.some((o) => o.path === v.path)) throw new UsageError(`--vary ${v.path}: given more than once (one --vary per path)`);
    out.push(v);
  }
  return out;
}
