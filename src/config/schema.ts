// The config's one schema (DESIGN.md sections 7, 11–13): zod shapes, value checks, merging and dotted
// paths. Over 400 lines on purpose: every field's allowed values and its one-line error live here,
// and the cross-block rules (offset mapping needs digital-sa, a device model replaces the noise
// blocks, readout models need a quantizing ADC) read several blocks at once; split by block, those
// rules would be scattered. A later split should move the per-section checks (readout, device,
// circuit) into files of their own together.
import * as z from 'zod';
import { UsageError } from '../errors.ts';
import { DEFAULT_CONFIG, DIGITAL_DEFAULTS } from './defaults.ts';
import { PRESETS, PRESET_NAMES, isPresetName } from './presets.ts';
import { NOISE_PRESETS, NOISE_PRESET_NAMES, isNoisePresetName } from './noise-presets.ts';
import { DEVICE_MODEL_NAMES, WAN_TIMES, deviceRange } from './device.ts';
import type { PresetName } from './presets.ts';
import type { LayerOverride, XbarConfig, XbarConfigInput } from './types.ts';

// ---------------------------------------------------------------------------------------------
// Shape of the user's JSON (DESIGN.md section 7). Every field optional, unknown fields rejected.
// Only shapes and types are checked here; allowed values are checked on the merged config below,
// so that a preset plus a partial override is judged as a whole.
// ---------------------------------------------------------------------------------------------

const DATAFLOWS = ['digital-sa', 'buffered', 'analog-sa'] as const;
const MAPPINGS = ['differential', 'offset'] as const;
const NOISE_MODELS = ['additive', 'proportional'] as const;
const SUBTRACTS = ['digital', 'analog'] as const;
const COMPENSATIONS = ['none', 'global', 'column'] as const;
const CIRCUIT_MODELS = ['none', 'solve', 'approx'] as const;
const RANGE_NAMES = ['full', 'calibrated'] as const;
const ADC_MODELS = ['uniform', 'nonlinear', 'nonuniform', 'neural'] as const;
const INL_KINDS = ['polynomial', 'table'] as const;
const ANALOG_MODELS = ['ideal', 'neural'] as const;
const ROUNDINGS = ['half-even', 'half-up', 'floor', 'truncate'] as const;

const num = z.number();
/** A number, or null for "the model's default" (device.gMax, device.gMin). */
const numOrNull = z.union([num, z.null()]);

const weightsSchema = z
  .strictObject({
    bits: num,
    perChannel: z.boolean(),
    mapping: z.enum(MAPPINGS),
    cellBits: num,
    onOffRatio: num,
  })
  .partial();
const inputsSchema = z.strictObject({ bits: num, dacBits: num }).partial();
const neuralSchema = z.strictObject({ weightBits: num, sigma: num }).partial();
const adcSchema = z
  .strictObject({
    bits: num,
    range: z.union([z.enum(RANGE_NAMES), num]),
    subtract: z.enum(SUBTRACTS),
    noise: num,
    model: z.enum(ADC_MODELS),
    groupSize: num,
    nonlinear: z
      .strictObject({
        inl: z.array(num),
        inlKind: z.enum(INL_KINDS),
        comparatorSigma: num,
        gainError: num,
        gainSigma: num,
        offsetError: num,
        offsetSigma: num,
      })
      .partial(),
    nonuniform: z.strictObject({ levels: z.array(num) }).partial(),
    neural: neuralSchema,
  })
  .partial();
const digitalSchema = z
  .strictObject({
    scale: z.string(),
    offset: z.string(),
    rounding: z.enum(ROUNDINGS),
    saturate: z.boolean(),
    relu: z.boolean(),
    outputBits: num,
  })
  .partial();
const noiseSpecSchema = z.strictObject({ sigma: num, model: z.enum(NOISE_MODELS) }).partial();

const layerSchema = z
  .strictObject({
    digital: z.boolean(),
    preset: z.string(),
    weights: weightsSchema,
    inputs: inputsSchema,
    adc: adcSchema,
  })
  .partial();

/** Zod schema of the user's config JSON (`XbarConfigInput`): all fields optional, strict objects. */
export const configInputSchema = z
  .strictObject({
    preset: z.string(),
    array: z.strictObject({ rows: num, cols: num, partitions: z.strictObject({ rows: num, cols: num }).partial() }).partial(),
    weights: weightsSchema,
    inputs: inputsSchema,
    adc: adcSchema,
    dataflow: z.enum(DATAFLOWS),
    noise: z
      .strictObject({
        preset: z.string(),
        programming: noiseSpecSchema,
        read: noiseSpecSchema,
        drift: z
          .strictObject({ nu: num, nuStd: num, t: num, t0: num, compensation: z.enum(COMPENSATIONS) })
          .partial(),
        stuckAt: z.strictObject({ sa0: num, sa1: num }).partial(),
        device: z
          .strictObject({ model: z.enum(DEVICE_MODEL_NAMES), progScale: num, readScale: num, driftScale: num })
          .partial(),
        time: num,
      })
      .partial(),
    analog: z.strictObject({ gainSigma: num, noise: num, model: z.enum(ANALOG_MODELS), neural: neuralSchema }).partial(),
    digital: digitalSchema,
    device: z.strictObject({ gMax: numOrNull, gMin: numOrNull }).partial(),
    circuit: z
      .strictObject({ model: z.enum(CIRCUIT_MODELS), rRow: num, rCol: num, rTerminal: num, tolerance: num, maxIterations: num })
      .partial(),
    calibration: z.strictObject({ samples: num }).partial(),
    layers: z.record(z.string(), layerSchema),
    seed: num,
  })
  .partial();

// ---------------------------------------------------------------------------------------------
// One-line errors.
// ---------------------------------------------------------------------------------------------

/** Throws a one-line UsageError `config: <path>: <message>`. */
function fail(path: string, message: string): never {
  const line = (path === '' ? `config: ${message}` : `config: ${path}: ${message}`).replace(/\s*[\r\n]+\s*/g, ' ');
  throw new UsageError(line);
}

/** A value as shown in an error message. */
function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Object.is(v, -0) ? '0' : String(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

function joinPath(path: readonly PropertyKey[]): string {
  return path.map((s) => String(s)).join('.');
}

function listValues(values: readonly unknown[]): string {
  return values.map(show).join(', ');
}

/** The schema node at `path` (optional wrappers removed), or undefined. */
function schemaAt(path: readonly PropertyKey[]): z.ZodType | undefined {
  let s: z.ZodType | undefined = configInputSchema;
  for (const seg of path) {
    s = unwrap(s);
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodType | undefined>)[String(seg)];
    else if (s instanceof z.ZodRecord) s = s.valueType as unknown as z.ZodType;
    else return undefined;
    if (s === undefined) return undefined;
  }
  return unwrap(s);
}

function unwrap(s: z.ZodType): z.ZodType {
  let t = s;
  while (t instanceof z.ZodOptional) t = t.unwrap() as unknown as z.ZodType;
  return t;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

const EXPECTED: Record<string, string> = {
  number: 'a finite number',
  boolean: 'true or false',
  string: 'a string',
  object: 'an object',
  record: 'an object',
  array: 'an array of numbers',
};

/** Converts the first zod issue into a one-line message naming the field path and allowed values. */
function issueMessage(issue: z.core.$ZodIssue, input: unknown): never {
  const path = joinPath(issue.path);
  const got = show(valueAt(input, issue.path));
  switch (issue.code) {
    case 'unrecognized_keys': {
      const node = schemaAt(issue.path);
      const allowed = node instanceof z.ZodObject ? Object.keys(node.shape as object) : [];
      const key = issue.keys[0] ?? '';
      return fail(joinPath([...issue.path, key]), `unknown field (allowed: ${allowed.join(', ')})`);
    }
    case 'invalid_type': {
      if (path === '') return fail('', `must be a JSON object (got ${got})`);
      return fail(path, `must be ${EXPECTED[issue.expected] ?? issue.expected} (got ${got})`);
    }
    case 'invalid_value':
      return fail(path, `must be one of ${listValues(issue.values)} (got ${got})`);
    case 'invalid_union':
      if (issue.path[issue.path.length - 1] === 'range') return fail(path, RANGE_RULE + ` (got ${got})`);
      if (issue.path[0] === 'device') return fail(path, `must be a number in µS or null (got ${got})`);
      return fail(path, `invalid value (got ${got})`);
    default:
      return fail(path, `${issue.message} (got ${got})`);
  }
}

const RANGE_RULE = 'must be "full", "calibrated" or a number > 0';

/**
 * Keys that name no layer and would reach Object.prototype through a merge (`__proto__`) or shadow
 * its members; JSON.parse makes them own keys, so they must be refused rather than dropped.
 */
export const RESERVED_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];

/** Refuses a reserved or empty `layers` key: it names no layer. */
function checkLayerKey(key: string, path: string): void {
  if (RESERVED_KEYS.includes(key)) fail(path, `is not a layer name (${RESERVED_KEYS.join(', ')} are reserved; use the ONNX node name or the layer index)`);
  if (key === '') fail(path, 'an empty key names no layer (use the ONNX node name or the layer index)');
}

/** Checks shape and types of a user's config JSON; throws a one-line UsageError on the first problem. */
export function parseConfigInput(input: unknown): XbarConfigInput {
  if (isPlainObject(input) && Object.prototype.hasOwnProperty.call(input, 'layers') && isPlainObject(input.layers)) {
    for (const key of Object.keys(input.layers)) checkLayerKey(key, `layers.${key}`);
  }
  const r = configInputSchema.safeParse(input);
  if (!r.success) {
    const first = r.error.issues[0];
    if (first === undefined) fail('', 'invalid config');
    issueMessage(first, input);
  }
  return r.data;
}

// ---------------------------------------------------------------------------------------------
// Allowed values (DESIGN.md sections 3 and 7), checked on a merged, complete config.
// ---------------------------------------------------------------------------------------------

function intIn(path: string, v: number, lo: number, hi: number, hiText: string = String(hi)): void {
  if (!Number.isInteger(v) || v < lo || v > hi) fail(path, `must be an integer ${lo}–${hiText} (got ${show(v)})`);
}

function nonNegative(path: string, v: number): void {
  if (!(Number.isFinite(v) && v >= 0)) fail(path, `must be a number >= 0 (got ${show(v)})`);
}

function probability(path: string, v: number): void {
  if (!(Number.isFinite(v) && v >= 0 && v <= 1)) fail(path, `must be a probability in [0, 1] (got ${show(v)})`);
}

function oneOf(path: string, v: unknown, allowed: readonly string[]): void {
  if (typeof v !== 'string' || !allowed.includes(v)) fail(path, `must be one of ${listValues(allowed)} (got ${show(v)})`);
}

function unknownPreset(path: string, name: string): never {
  return fail(path, `unknown preset ${show(name)} (allowed: ${PRESET_NAMES.join(', ')})`);
}

/** Checks every allowed-value and cross-field rule on a complete config; `prefix` is prepended to paths. */
function checkValues(c: XbarConfig, prefix: string): void {
  const p = (s: string): string => prefix + s;

  intIn(p('array.rows'), c.array.rows, 1, 4096);
  intIn(p('array.cols'), c.array.cols, 1, 4096);
  intIn(p('array.partitions.rows'), c.array.partitions.rows, 1, c.array.rows, `array.rows (${c.array.rows})`);
  intIn(p('array.partitions.cols'), c.array.partitions.cols, 1, c.array.cols, `array.cols (${c.array.cols})`);

  intIn(p('weights.bits'), c.weights.bits, 2, 16);
  if (typeof c.weights.perChannel !== 'boolean') fail(p('weights.perChannel'), `must be true or false (got ${show(c.weights.perChannel)})`);
  oneOf(p('weights.mapping'), c.weights.mapping, MAPPINGS);
  intIn(p('weights.cellBits'), c.weights.cellBits, 1, 8);
  const r = c.weights.onOffRatio;
  if (!(r === 0 || (Number.isFinite(r) && r > 1))) fail(p('weights.onOffRatio'), `must be 0 (infinite) or a number > 1 (got ${show(r)})`);

  intIn(p('inputs.bits'), c.inputs.bits, 1, 16);
  intIn(p('inputs.dacBits'), c.inputs.dacBits, 1, c.inputs.bits, `inputs.bits (${c.inputs.bits})`);

  const adcBits = c.adc.bits;
  if (!(adcBits === 0 || (Number.isInteger(adcBits) && adcBits >= 2 && adcBits <= 16))) {
    fail(p('adc.bits'), `must be 0 or an integer 2–16 (got ${show(adcBits)})`);
  }
  const range = c.adc.range;
  if (typeof range === 'number') {
    if (!(Number.isFinite(range) && range > 0)) fail(p('adc.range'), `${RANGE_RULE} (got ${show(range)})`);
  } else if (!(RANGE_NAMES as readonly string[]).includes(range)) {
    fail(p('adc.range'), `${RANGE_RULE} (got ${show(range)})`);
  }
  oneOf(p('adc.subtract'), c.adc.subtract, SUBTRACTS);
  nonNegative(p('adc.noise'), c.adc.noise);
  if (c.adc.noise > 0 && adcBits === 0) fail(p('adc.noise'), `must be 0 when adc.bits is 0 (an ideal ADC has no noise) (got ${show(c.adc.noise)})`);

  oneOf(p('dataflow'), c.dataflow, DATAFLOWS);

  nonNegative(p('noise.programming.sigma'), c.noise.programming.sigma);
  oneOf(p('noise.programming.model'), c.noise.programming.model, NOISE_MODELS);
  nonNegative(p('noise.read.sigma'), c.noise.read.sigma);
  oneOf(p('noise.read.model'), c.noise.read.model, NOISE_MODELS);
  const d = c.noise.drift;
  nonNegative(p('noise.drift.nu'), d.nu);
  nonNegative(p('noise.drift.nuStd'), d.nuStd);
  if (!(Number.isFinite(d.t0) && d.t0 > 0)) fail(p('noise.drift.t0'), `must be a number > 0 (got ${show(d.t0)})`);
  if (!(Number.isFinite(d.t) && d.t >= d.t0)) fail(p('noise.drift.t'), `must be a number >= noise.drift.t0 (${show(d.t0)}) (got ${show(d.t)})`);
  oneOf(p('noise.drift.compensation'), d.compensation, COMPENSATIONS);
  const sa = c.noise.stuckAt;
  probability(p('noise.stuckAt.sa0'), sa.sa0);
  probability(p('noise.stuckAt.sa1'), sa.sa1);
  if (sa.sa0 + sa.sa1 > 1) fail(p('noise.stuckAt'), `sa0 + sa1 must be <= 1 (got ${show(sa.sa0)} + ${show(sa.sa1)})`);

  checkDevice(c, p);
  checkCircuit(c, p);

  nonNegative(p('analog.gainSigma'), c.analog.gainSigma);
  nonNegative(p('analog.noise'), c.analog.noise);
  checkReadout(c, p);

  if (!(Number.isInteger(c.calibration.samples) && c.calibration.samples >= 1)) {
    fail(p('calibration.samples'), `must be an integer >= 1 (got ${show(c.calibration.samples)})`);
  }
  intIn(p('seed'), c.seed, 0, 2 ** 32 - 1);

  // Cross-field rules (DESIGN.md section 3). `offset` needs digital-sa with a digital subtract;
  // buffered and analog-sa always subtract in analog, so they need differential columns and
  // ignore adc.subtract.
  if (c.weights.mapping === 'offset' && c.dataflow !== 'digital-sa') {
    fail(p('weights.mapping'), `"offset" is valid only with dataflow "digital-sa" (got dataflow ${show(c.dataflow)}); use "differential"`);
  }
  if (c.dataflow === 'digital-sa' && c.adc.subtract === 'analog' && c.weights.mapping !== 'differential') {
    fail(p('adc.subtract'), `"analog" needs weights.mapping "differential" (got weights.mapping ${show(c.weights.mapping)})`);
  }
  // Signed ADCs (analog subtract, buffered, analog-sa) need adc.bits 0 or >= 2: implied by adc.bits.
}

/** A fixed-point format `u<int>.<frac>` or `s<int>.<frac>` (sign inside the integer bits), as the digital unit reads it. */
export const FIXED_FORMAT = /^([us])(\d{1,2})\.(\d{1,2})$/;

function fixedFormat(path: string, v: string): void {
  const m = FIXED_FORMAT.exec(v);
  const total = m ? Number(m[2]) + Number(m[3]) : 0;
  if (!m || total < 1 || total > 32 || (m[1] === 's' && Number(m[2]) < 1)) {
    fail(path, `must be a fixed-point format "u<int>.<frac>" or "s<int>.<frac>" with 1–32 bits in all (signed: the sign is one of the integer bits), e.g. "u1.7", "s7.1" (got ${show(v)})`);
  }
}

/** The readout chain of DESIGN.md section 11: ADC models, analog accumulation, the digital unit. */
function checkReadout(c: XbarConfig, p: (s: string) => string): void {
  const a = c.adc;
  oneOf(p('adc.model'), a.model, ADC_MODELS);
  if (!(Number.isInteger(a.groupSize) && a.groupSize >= 1 && a.groupSize <= 65536)) fail(p('adc.groupSize'), `must be an integer 1–65536 (got ${show(a.groupSize)})`);
  if (a.model !== 'uniform' && a.bits === 0) fail(p('adc.model'), `${show(a.model)} needs adc.bits 2–16 (got adc.bits 0, the ideal ADC)`);
  // The NNADC has one hidden unit per code transition (src/readout/neural-adc.ts): 1023 at 10 bits.
  if (a.model === 'neural' && a.bits > 10) fail(p('adc.bits'), `must be 2–10 with adc.model "neural" (one NNADC hidden unit per code transition: 2^bits − 1) (got ${show(a.bits)})`);
  const nl = a.nonlinear;
  oneOf(p('adc.nonlinear.inlKind'), nl.inlKind, INL_KINDS);
  if (nl.inl.length > 64) fail(p('adc.nonlinear.inl'), `must have at most 64 entries (got ${nl.inl.length})`);
  nl.inl.forEach((v, i) => {
    if (!Number.isFinite(v)) fail(p(`adc.nonlinear.inl.${i}`), `must be a finite number (got ${show(v)})`);
  });
  nonNegative(p('adc.nonlinear.comparatorSigma'), nl.comparatorSigma);
  if (!(Number.isFinite(nl.gainError) && nl.gainError > -1)) fail(p('adc.nonlinear.gainError'), `must be a number > -1 (got ${show(nl.gainError)})`);
  nonNegative(p('adc.nonlinear.gainSigma'), nl.gainSigma);
  if (!Number.isFinite(nl.offsetError)) fail(p('adc.nonlinear.offsetError'), `must be a finite number (got ${show(nl.offsetError)})`);
  nonNegative(p('adc.nonlinear.offsetSigma'), nl.offsetSigma);
  if (a.model === 'nonuniform') {
    // Same rule as crossbar/adc.ts adcIsSigned (config sits below crossbar and cannot import it).
    const signed = c.dataflow !== 'digital-sa' || (a.subtract === 'analog' && c.weights.mapping === 'differential');
    const lv = a.nonuniform.levels;
    const count = signed ? 2 ** a.bits - 1 : 2 ** a.bits;
    const lo = signed ? -1 : 0;
    const rule = `must be [] (fitted by Lloyd-Max on the calibration inputs) or ${count} increasing levels in [${lo}, 1] (units of the ADC range; ${signed ? 'signed' : 'unsigned'} ${a.bits}-bit ADC)`;
    if (lv.length === 0) {
      if (a.range !== 'calibrated') fail(p('adc.nonuniform.levels'), `[] fits the levels on the calibration inputs, so adc.range must be "calibrated" (got ${show(a.range)}); or give the levels`);
    } else {
      if (lv.length !== count) fail(p('adc.nonuniform.levels'), `${rule} (got ${lv.length} levels)`);
      lv.forEach((v, i) => {
        if (!(Number.isFinite(v) && v >= lo && v <= 1 && (i === 0 || v > lv[i - 1]))) fail(p(`adc.nonuniform.levels.${i}`), `${rule} (got ${show(v)})`);
      });
    }
  }
  for (const block of ['adc', 'analog'] as const) {
    const nn = c[block].neural;
    intIn(p(`${block}.neural.weightBits`), nn.weightBits, 2, 8);
    nonNegative(p(`${block}.neural.sigma`), nn.sigma);
  }
  oneOf(p('analog.model'), c.analog.model, ANALOG_MODELS);
  if (c.analog.model === 'neural' && c.dataflow === 'digital-sa') {
    fail(p('analog.model'), `"neural" (NNS+A) accumulates in analog, so it needs dataflow "buffered" or "analog-sa" (got dataflow ${show(c.dataflow)})`);
  }
  const d = c.digital;
  if (d !== undefined) {
    fixedFormat(p('digital.scale'), d.scale);
    fixedFormat(p('digital.offset'), d.offset);
    oneOf(p('digital.rounding'), d.rounding, ROUNDINGS);
    if (typeof d.saturate !== 'boolean') fail(p('digital.saturate'), `must be true or false (got ${show(d.saturate)})`);
    if (typeof d.relu !== 'boolean') fail(p('digital.relu'), `must be true or false (got ${show(d.relu)})`);
    intIn(p('digital.outputBits'), d.outputBits, 2, 16);
  }
}

/** Device range, model and time (DESIGN.md section 12). */
function checkDevice(c: XbarConfig, p: (s: string) => string): void {
  const { gMax, gMin } = c.device;
  if (gMax !== null && !(Number.isFinite(gMax) && gMax > 0)) fail(p('device.gMax'), `must be a number > 0 in µS, or null for the model's default (got ${show(gMax)})`);
  const dev = c.noise.device;
  oneOf(p('noise.device.model'), dev.model, DEVICE_MODEL_NAMES);
  const range = deviceRange(c);
  if (gMin !== null && !(Number.isFinite(gMin) && gMin >= 0 && gMin < range.gMax)) {
    fail(p('device.gMin'), `must be a number in µS, >= 0 and below device.gMax (${show(range.gMax)}), or null (got ${show(gMin)})`);
  }
  nonNegative(p('noise.device.progScale'), dev.progScale);
  nonNegative(p('noise.device.readScale'), dev.readScale);
  nonNegative(p('noise.device.driftScale'), dev.driftScale);
  nonNegative(p('noise.time'), c.noise.time);
  // aihwkit's ReRamWan2022NoiseModel knows three times only and raises for any other (reram.py:160-161);
  // 0 is the programmed state, before any drift call.
  if (dev.model === 'reram-wan2022' && !WAN_TIMES.includes(c.noise.time)) {
    fail(p('noise.time'), `must be one of ${WAN_TIMES.join(', ')} s with noise.device.model "reram-wan2022" (its fits exist at those times only) (got ${show(c.noise.time)})`);
  }
  // Its read noise takes log10 of the conductance (reram.py:312).
  if (dev.model === 'reram-cmo' && !(range.gMin > 0)) fail(p('device.gMin'), `must be > 0 with noise.device.model "reram-cmo" (its read noise takes log10 of g) (got ${show(range.gMin)})`);
  if (c.noise.drift.compensation === 'column' && dev.model === 'none') {
    fail(p('noise.drift.compensation'), `"column" needs a noise.device.model (aihwkit's PerColumnDriftCompensation); section 4's drift has "none" or "global"`);
  }
}

/** Array circuit parameters (DESIGN.md section 13). */
function checkCircuit(c: XbarConfig, p: (s: string) => string): void {
  const k = c.circuit;
  oneOf(p('circuit.model'), k.model, CIRCUIT_MODELS);
  nonNegative(p('circuit.rRow'), k.rRow);
  nonNegative(p('circuit.rCol'), k.rCol);
  nonNegative(p('circuit.rTerminal'), k.rTerminal);
  if (!(Number.isFinite(k.tolerance) && k.tolerance > 0 && k.tolerance < 1)) fail(p('circuit.tolerance'), `must be a number in (0, 1) (got ${show(k.tolerance)})`);
  intIn(p('circuit.maxIterations'), k.maxIterations, 1, 1_000_000);
}

/**
 * `noise.device` replaces the programming, read and drift blocks while it is set (DESIGN.md section 12):
 * their sigmas and exponents are zeroed so no stage applies them twice; drift.compensation stays (it
 * selects the compensation of the device model too).
 */
function applyDeviceReplacement(c: XbarConfig): void {
  if (c.noise.device.model === 'none') return;
  c.noise.programming.sigma = 0;
  c.noise.read.sigma = 0;
  c.noise.drift.nu = 0;
  c.noise.drift.nuStd = 0;
}

/** Checks a complete config, and each per-layer override resolved against it. */
function checkConfig(c: XbarConfig): void {
  if (c.preset !== undefined && typeof c.preset !== 'string') fail('preset', `must be a string (got ${show(c.preset)})`);
  checkValues(c, '');
  for (const [key, ov] of Object.entries(c.layers)) {
    if (ov.preset !== undefined && !isPresetName(ov.preset)) unknownPreset(`layers.${key}.preset`, ov.preset);
    checkValues(resolveLayerConfig(c, ov), `layers.${key}.`);
  }
}

// ---------------------------------------------------------------------------------------------
// Merging.
// ---------------------------------------------------------------------------------------------

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mergeInto(target: Record<string, unknown>, src: Record<string, unknown>, path: string): void {
  for (const [k, v] of Object.entries(src)) {
    if (v === undefined) continue;
    const full = path === '' ? k : `${path}.${k}`;
    const cur = target[k];
    // `layers` is replaced whole: a file's layer table is never mixed with a preset's.
    if (full === 'layers' || !isPlainObject(v) || !isPlainObject(cur)) target[k] = structuredClone(v);
    else mergeInto(cur, v, full);
  }
}

/** A copy of `base` with `input`'s fields deep-merged over it (`layers` replaced whole); not validated. */
export function mergeConfig(base: XbarConfig, input: XbarConfigInput): XbarConfig {
  const out = structuredClone(base) as unknown as Record<string, unknown>;
  mergeInto(out, input as Record<string, unknown>, '');
  return out as unknown as XbarConfig;
}

/**
 * The config one layer runs with: `base` (its own `layers` dropped), then the fields of the
 * override's `preset` if any (a preset's fields only, not the defaults: the base's device noise,
 * seed and calibration stay unless the preset sets them), then the override's weights/inputs/adc.
 * `digital` is not applied here: the caller keeps such a layer digital.
 */
export function resolveLayerConfig(base: XbarConfig, override: LayerOverride): XbarConfig {
  let c = structuredClone(base);
  c.layers = {};
  if (override.preset !== undefined) {
    if (!isPresetName(override.preset)) unknownPreset('layers.preset', override.preset);
    c = mergeConfig(c, PRESETS[override.preset]);
    c.preset = override.preset;
  }
  const fields: XbarConfigInput = {};
  if (override.weights !== undefined) fields.weights = override.weights;
  if (override.inputs !== undefined) fields.inputs = override.inputs;
  if (override.adc !== undefined) fields.adc = override.adc;
  return mergeConfig(c, fields);
}

/** Replaces `noise.preset` by that device preset's noise block with the rest of `noise` merged over it. */
function expandNoisePreset(input: XbarConfigInput): XbarConfigInput {
  const noise = input.noise as (XbarConfigInput['noise'] & { preset?: string }) | undefined;
  if (noise?.preset === undefined) return input;
  const { preset, ...fields } = noise;
  if (!isNoisePresetName(preset)) fail('noise.preset', `unknown noise preset ${show(preset)} (allowed: ${NOISE_PRESET_NAMES.join(', ')})`);
  const merged = structuredClone(NOISE_PRESETS[preset]) as Record<string, unknown>;
  mergeInto(merged, fields as Record<string, unknown>, 'noise');
  return { ...input, noise: merged as XbarConfigInput['noise'] };
}

/**
 * Validates a user's config JSON and resolves it: DEFAULT_CONFIG <- preset <- input. The preset is
 * `opts.preset` when given (then `input.preset` is ignored), else `input.preset`. `undefined`
 * input means `{}`. Throws a one-line UsageError naming the field on any problem.
 */
export function resolveConfig(input: unknown, opts: { preset?: string } = {}): XbarConfig {
  const parsed = parseConfigInput(input === undefined ? {} : input);
  let presetName: PresetName | undefined;
  if (opts.preset !== undefined) {
    if (!isPresetName(opts.preset)) {
      throw new UsageError(`preset: unknown preset ${show(opts.preset)} (allowed: ${PRESET_NAMES.join(', ')})`);
    }
    presetName = opts.preset;
  } else if (parsed.preset !== undefined) {
    if (!isPresetName(parsed.preset)) unknownPreset('preset', parsed.preset);
    presetName = parsed.preset;
  }
  let c = structuredClone(DEFAULT_CONFIG);
  if (presetName !== undefined) c = mergeConfig(c, PRESETS[presetName]);
  const rest: XbarConfigInput = { ...parsed };
  delete rest.preset;
  c = mergeConfig(c, expandNoisePreset(rest));
  if (presetName !== undefined) c.preset = presetName;
  else delete c.preset;
  if (c.digital !== undefined) c.digital = { ...DIGITAL_DEFAULTS, ...c.digital };
  checkConfig(c);
  applyDeviceReplacement(c);
  return c;
}

// ---------------------------------------------------------------------------------------------
// Dotted paths (sweeps, command-line overrides).
// ---------------------------------------------------------------------------------------------

function leafPaths(v: unknown, prefix: string, out: string[]): string[] {
  if (isPlainObject(v)) {
    for (const [k, child] of Object.entries(v)) leafPaths(child, prefix === '' ? k : `${prefix}.${k}`, out);
  } else {
    out.push(prefix);
  }
  return out;
}

const CONFIG_PATHS: readonly string[] = Object.freeze(
  leafPaths({ ...DEFAULT_CONFIG, layers: undefined }, '', []).filter((p) => p !== 'layers'),
);

/** Leaf paths under `layers.<name>.` that applyOverrides accepts. */
const LAYER_PATHS: readonly string[] = Object.freeze([
  'digital',
  'preset',
  ...leafPaths({ weights: DEFAULT_CONFIG.weights, inputs: DEFAULT_CONFIG.inputs, adc: DEFAULT_CONFIG.adc }, '', []),
]);

/** Every settable leaf path of a config (e.g. `adc.bits`, `noise.read.sigma`), `layers.*` excluded. */
export function configPaths(): string[] {
  return [...CONFIG_PATHS];
}

/** The fields a `layers.<name>.<field>` path may set (`digital`, `preset`, `adc.bits`, …). */
export function layerFieldPaths(): string[] {
  return [...LAYER_PATHS];
}

/**
 * Splits `layers.<key>.<field>` into the layer key (a node name, which may itself hold dots, or an
 * index) and the field (a layerFieldPaths() entry); undefined if `path` is no such path.
 */
export function splitLayerPath(path: string): { key: string; field: string } | undefined {
  if (!path.startsWith('layers.')) return undefined;
  const rest = path.slice('layers.'.length);
  // Longest field first, so a field that ends another (none today) cannot steal its tail.
  const fields = [...LAYER_PATHS].sort((a, b) => b.length - a.length);
  const field = fields.find((l) => rest.length > l.length + 1 && rest.endsWith(`.${l}`));
  if (field === undefined) return undefined;
  return { key: rest.slice(0, rest.length - field.length - 1), field };
}

function setPath(root: Record<string, unknown>, segs: readonly string[], value: unknown): void {
  let o = root;
  for (const seg of segs.slice(0, -1)) {
    const next = o[seg];
    if (isPlainObject(next)) o = next;
    else {
      const created: Record<string, unknown> = {};
      o[seg] = created;
      o = created;
    }
  }
  o[segs[segs.length - 1] ?? ''] = structuredClone(value);
}

/**
 * A copy of `base` with the dotted `path` (a configPaths() entry, or `layers.<name>.<field>`,
 * which adds to that layer's entry and keeps the others) set to `value`, not validated. Throws a
 * UsageError naming the path if it does not exist.
 */
export function setConfigPath(base: XbarConfig, path: string, value: unknown): XbarConfig {
  if (value === undefined) fail(path, 'a value is required');
  const c = structuredClone(base) as unknown as Record<string, unknown>;
  if (path.startsWith('layers.')) {
    const split = splitLayerPath(path);
    if (split === undefined) {
      fail(path, `unknown config path (a layer path is layers.<name>.<field>, field one of: ${LAYER_PATHS.join(', ')})`);
    }
    checkLayerKey(split.key, `layers.${split.key}`);
    if (!isPlainObject(c.layers)) c.layers = {};
    const layers = c.layers as Record<string, unknown>;
    const entry = layers[split.key];
    const ov: Record<string, unknown> = isPlainObject(entry) ? entry : {};
    layers[split.key] = ov;
    setPath(ov, split.field.split('.'), value);
  } else {
    if (!CONFIG_PATHS.includes(path)) fail(path, `unknown config path (allowed: ${CONFIG_PATHS.join(', ')}, layers.<name>.<field>)`);
    setPath(c, path.split('.'), value);
  }
  return c as unknown as XbarConfig;
}

/**
 * A copy of `base` with the dotted `path` (a configPaths() entry, or `layers.<name>.<field>`)
 * set to `value`, re-validated. Throws a UsageError naming the path if it does not exist or the
 * value is not allowed.
 */
export function applyOverrides(base: XbarConfig, path: string, value: unknown): XbarConfig {
  const c = setConfigPath(base, path, value);
  parseConfigInput(c);
  const out = c as unknown as XbarConfig;
  checkConfig(out);
  applyDeviceReplacement(out);
  return out;
}
