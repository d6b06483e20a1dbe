/**
 * `xbarsim energy`: energy, latency, throughput and area of one network on one or more presets, from
 * its schedule alone (counts-only: no values are computed, so ImageNet networks cost in seconds).
 */
import { MODEL_HELP } from './model-help.ts';
import { Option, type Command } from 'commander';
import { isPresetName, PRESET_NAMES } from '../config/presets.ts';
import type { XbarConfig } from '../config/types.ts';
import { UsageError } from '../errors.ts';
import { countsOnlyNetwork, type CostLayer } from '../energy/layers.ts';
import { BREAKDOWN_KEYS, COST_COUNT_NAMES, equalAreaBudget, estimate, ratios, type PresetEstimate, type Ratio } from '../energy/model.ts';
import { architectureFor, ISAAC_CHIP_TILES_MM2 } from '../energy/architectures.ts';
import { builtInNetwork, networkName, NETWORK_NAMES } from '../energy/networks/index.ts';
import { loadModel } from '../nn/load-model.ts';
import { countsOnlyLayers, type RunCost } from '../nn/cost.ts';
import { configFromFlags } from './vmm.ts';

/** Flags of `xbarsim energy`. */
export interface EnergyFlags {
  model?: string;
  network?: string;
  inputShape?: string;
  preset?: string[];
  config?: string;
  area?: string;
  inputSign: string;
  json?: boolean;
}

/** Presets costed when neither --preset nor --config is given: the three designs of the Neural-PIM paper's comparison (IEEE TC 2022, Table 3). */
export const ENERGY_DEFAULT_PRESETS = ['isaac-style', 'cascade-style', 'neural-pim'] as const;

/** The network of the command, as the cost model's layers for each config. */
interface CostNetwork {
  label: string;
  source: string;
  inputShape: readonly number[];
  layersFor: (cfg: XbarConfig) => CostLayer[];
}

/** Parses --input-shape: comma-separated positive integers, [batch,] C, H, W. */
export function parseInputShape(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length < 1 || parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 1e6)) {
    throw new UsageError(`--input-shape: must be comma-separated positive integers such as 1,3,224,224 (got "${text}")`);
  }
  return parts.map(Number);
}

function costNetwork(f: EnergyFlags): CostNetwork {
  if ((f.model === undefined) === (f.network === undefined)) throw new UsageError('give exactly one of --model m.onnx or --network NAME');
  const shape = f.inputShape === undefined ? undefined : parseInputShape(f.inputShape);
  if (f.inputSign !== 'signed' && f.inputSign !== 'nonnegative') throw new UsageError(`--input-sign: must be signed or nonnegative (got ${f.inputSign})`);
  const nonNegative = f.inputSign === 'nonnegative';
  if (f.network !== undefined) {
    const name = networkName(f.network);
    if (shape && shape.length !== 4 && shape.length !== 3) throw new UsageError(`--input-shape: ${name} takes batch,3,H,W (got ${shape.join(',')})`);
    const net = builtInNetwork(name, shape ? shape.slice(-3) : undefined);
    if (nonNegative) for (const l of net.layers) l.inputNonNegative = true;
    return { label: name, source: net.source, inputShape: net.inputShape, layersFor: (cfg) => countsOnlyNetwork(net, cfg) };
  }
  // --input-shape also fixes the model's symbolic dims (an export's dynamic height and width), with
  // or without its batch dim: the input's rank tells which.
  const net = loadModel(f.model!, shape ? (declared) => ({ '': Object.values(declared)[0]?.length === shape.length - 1 ? shape.slice(1) : shape }) : undefined);
  if (shape) {
    const want = net.input.shape;
    const got = shape.length === want.length + 1 ? shape.slice(1) : shape;
    if (got.length !== want.length || got.some((v, i) => v !== want[i])) {
      throw new UsageError(`--input-shape: ${shape.join(',')} does not match the model's input [batch, ${want.join(', ')}] (${f.model})`);
    }
  }
  return { label: f.model!, source: f.model!, inputShape: net.input.shape, layersFor: (cfg) => countsOnlyLayers(net, cfg, nonNegative) };
}

/** The configs to cost: each --preset (with --config over it), else --config alone, else the default presets. */
function configs(f: EnergyFlags): { label: string; cfg: XbarConfig }[] {
  const presets = f.preset ?? [];
  const dup = presets.find((p, i) => presets.indexOf(p) !== i);
  if (dup) throw new UsageError(`--preset ${dup}: given twice`);
  const bad = presets.find((p) => !isPresetName(p));
  if (bad) throw new UsageError(`--preset: unknown preset "${bad}" (allowed: ${PRESET_NAMES.join(', ')})`);
  if (presets.length === 0 && f.config !== undefined) {
    const cfg = configFromFlags(f.config, undefined);
    return [{ label: cfg.preset ?? f.config, cfg }];
  }
  return (presets.length > 0 ? presets : [...ENERGY_DEFAULT_PRESETS]).map((p) => ({ label: p, cfg: configFromFlags(f.config, p) }));
}

function areaFlag(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!/^\s*[0-9.eE+-]+\s*$/.test(text) || !Number.isFinite(v) || v <= 0) throw new UsageError(`--area: must be a positive number of mm² (got ${text})`);
  return v;
}

/** The whole report of `xbarsim energy --json` (DESIGN.md section 10). */
export interface EnergyReport {
  model: string;
  source: string;
  inputShape: readonly number[];
  macsPerInference: number;
  areaBudget_mm2: number;
  presets: PresetEstimate[];
  ratios: Ratio[];
}

/** Costs the network of `f` on every config; everything is validated before anything is printed. */
export function energyReport(f: EnergyFlags): EnergyReport {
  const net = costNetwork(f);
  const items = configs(f).map((c) => {
    architectureFor(c.cfg, `--preset ${c.label}`);
    return { ...c, layers: net.layersFor(c.cfg) };
  });
  const budget = areaFlag(f.area) ?? equalAreaBudget(items);
  const presets = items.map((i) => estimate(i.label, i.layers, i.cfg, budget));
  return { model: net.label, source: net.source, inputShape: net.inputShape, macsPerInference: presets[0].macsPerInference, areaBudget_mm2: budget, presets, ratios: ratios(presets) };
}

/** The section-10 fields of an estimate without its per-layer and per-component detail (eval --json's `cost`). */
export function costSummary(e: PresetEstimate): Omit<PresetEstimate, 'layers' | 'tileComponents'> {
  const { layers: _l, tileComponents: _t, ...rest } = e;
  return rest;
}

/** One line of cost beside an accuracy (eval's text output). */
export function costLine(c: RunCost): string {
  if (!c.estimate) return `cost: none (${c.note})`;
  const e = c.estimate;
  return `cost (${e.architecture} table, this run's counts): ${si(e.energyPerInference_J, 'J')} per inference, ${e.topsPerWatt.toPrecision(4)} TOPS/W, ${si(e.throughput_inferencesPerSecond, '')}inferences/s and ${e.topsPerMm2.toPrecision(4)} TOPS/mm² at ${e.area_mm2.toFixed(2)} mm²`;
}

/** JSON with non-finite numbers (a network with no crossbar layer has no finite throughput) as null. */
function toJson(r: EnergyReport): string {
  return JSON.stringify(r, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
}

const SI: readonly [number, string][] = [[1e9, 'G'], [1e6, 'M'], [1e3, 'k'], [1, ''], [1e-3, 'm'], [1e-6, 'µ'], [1e-9, 'n'], [1e-12, 'p']];
/** A value with an SI prefix and unit, 4 significant digits. */
export function si(v: number, unit: string): string {
  if (!Number.isFinite(v)) return `∞ ${unit}`;
  if (v === 0) return `0 ${unit}`;
  const [scale, p] = SI.find(([s]) => Math.abs(v) >= s) ?? SI[SI.length - 1];
  return `${(v / scale).toPrecision(4)} ${p}${unit}`;
}

function formatReport(r: EnergyReport): string {
  const out: string[] = [];
  const chips = r.areaBudget_mm2 / ISAAC_CHIP_TILES_MM2;
  out.push(`xbarsim energy: ${r.model} (${r.source}), input [${r.inputShape.join(', ')}], ${si(r.macsPerInference, 'MAC')} per inference`);
  out.push(`area budget ${r.areaBudget_mm2.toFixed(2)} mm² of tiles${Math.abs(chips - Math.round(chips)) < 1e-9 ? ` (${Math.round(chips)} ISAAC chip${Math.round(chips) === 1 ? '' : 's'} of 168 tiles)` : ''}; per inference, counts-only`);
  const cols = ['preset', 'energy', 'latency', 'throughput', 'area', 'TOPS/W', 'TOPS/mm²', 'tiles'];
  const rows = r.presets.map((p) => [
    p.preset === p.architecture ? p.preset : `${p.preset} (${p.architecture} table)`,
    si(p.energyPerInference_J, 'J'),
    si(p.latency_s, 's'),
    `${si(p.throughput_inferencesPerSecond, '')}inf/s`,
    `${p.area_mm2.toFixed(2)} mm²`,
    p.topsPerWatt.toPrecision(4),
    p.topsPerMm2.toPrecision(4),
    `${p.tilesUsed}/${p.tiles}`,
  ]);
  out.push(...table(cols, rows));
  out.push('energy by component:');
  for (const p of r.presets) {
    const parts = BREAKDOWN_KEYS.filter((k) => p.breakdown_J[k] > 0).map((k) => `${k} ${si(p.breakdown_J[k], 'J')} (${((100 * p.breakdown_J[k]) / p.energyPerInference_J).toFixed(1)}%)`);
    out.push(`  ${p.preset}: ${parts.join(', ')}`);
  }
  out.push('counts per inference:');
  for (const p of r.presets) out.push(`  ${p.preset}: ${COST_COUNT_NAMES.map((k) => `${k} ${si(p.counts[k], '')}`.trim()).join(', ')}`);
  if (r.ratios.length > 0) {
    out.push('ratios (energy efficiency = inferences per joule):');
    for (const x of r.ratios) out.push(`  ${x.of} over ${x.over}: energy efficiency ${x.energyEfficiency.toFixed(3)}×, throughput ${x.throughput.toFixed(3)}×`);
  }
  out.push('per layer (energy per inference / stage time per inference / copies):');
  const layerRows = r.presets[0].layers.map((l, i) => [l.name, si(l.macs, 'MAC'), ...r.presets.map((p) => `${si(p.layers[i].energy_J, 'J')} / ${si(p.layers[i].latency_s, 's')} / ${p.layers[i].replication}`)]);
  out.push(...table(['layer', 'MACs', ...r.presets.map((p) => p.preset)], layerRows));
  return out.join('\n');
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: readonly string[]): string => `  ${r.map((c, i) => c.padEnd(w[i])).join('  ')}`.trimEnd();
  return [line(head), ...rows.map(line)];
}

/** `xbarsim energy`. */
export function runEnergy(f: EnergyFlags): void {
  const r = energyReport(f);
  process.stdout.write(`${f.json ? toJson(r) : formatReport(r)}\n`);
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Registers `xbarsim energy` on the program. */
export function registerEnergyCommand(program: Command): void {
  program
    .command('energy')
    .description('energy, latency, throughput and area per inference of a network on presets (counts-only, DESIGN.md section 10)')
    .option('--model <m.onnx>', MODEL_HELP)
    .option('--network <name>', `built-in network: ${NETWORK_NAMES.join(', ')}`)
    .option('--input-shape <dims>', 'input shape, e.g. 1,3,224,224 (built-in networks: any H, W; models: must match the file, and fixes its dynamic dims)')
    .addOption(new Option('--preset <name>', `preset to cost, repeatable (default: ${ENERGY_DEFAULT_PRESETS.join(', ')}); a --config file overrides its fields`).argParser(collect))
    .option('--config <cfg.json>', 'hardware config (JSON, DESIGN.md section 7), applied over each --preset')
    .option('--area <mm2>', 'chip area budget in mm² of tiles for every preset (default: the fewest ISAAC chips of 168 tiles, 62.5 mm², that hold the network on every preset)')
    .addOption(new Option('--input-sign <sign>', 'network input: signed (a normalized image: first-layer vectors run two passes) or nonnegative').choices(['signed', 'nonnegative']).default('signed'))
    .option('--json', 'print one JSON object (DESIGN.md section 10 names)')
    .action((opts: EnergyFlags) => runEnergy(opts));
}
