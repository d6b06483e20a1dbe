import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import type { XbarConfig } from '../config/types.ts';
import { UsageError } from '../errors.ts';
import { stderrLine } from '../gpu/node-backend.ts';
import { writeTextAtomic } from '../io/atomic-write.ts';
import { checkOutDir } from '../sweep/outdir.ts';
import { meanStdCi } from '../sweep/stats.ts';
import { measureAdc, measureChain, type ChainEntry, type PeriphPreset, type Stat, type StageFigures, type StageResult } from './periph-measure.ts';
import { periphReportHtml } from './periph-report.ts';
import { configFromFlags, intFlag } from './vmm.ts';

/** Flags of `xbarsim periph` (DESIGN.md section 11). */
export interface PeriphFlags {
  preset?: string[];
  config?: string;
  chips: string;
  seed?: string;
  json?: boolean;
  out: string;
}

/** Presets measured when neither --preset nor --config is given: one design per dataflow (digital, buffered and analog shift-and-add). */
export const PERIPH_DEFAULT_PRESETS = ['isaac', 'cascade', 'neural-pim'] as const;

/** The default folder of report.html and periph.json. */
export const PERIPH_OUT = 'xbarsim-periph';

const FIELDS = ['sinad_dB', 'enob', 'sfdr_dB', 'inlMax_LSB', 'dnlMax_LSB'] as const;

/** The `chains` entries of measured presets. */
export function chainEntries(presets: readonly PeriphPreset[]): ChainEntry[] {
  const out: ChainEntry[] = [];
  for (const p of presets) {
    for (const s of p.stages) {
      const stat = (f: keyof StageFigures): Stat => {
        const r = meanStdCi(s.chips.map((c) => c[f]));
        return { mean: r.mean, std: r.std ?? 0 };
      };
      const e = { preset: p.label, stage: s.stage } as ChainEntry;
      for (const f of FIELDS) e[f] = stat(f);
      out.push(e);
    }
  }
  return out;
}

/** The configs `periph` measures: each --preset (with --config's fields over it), or the --config alone, or the defaults. */
export function periphConfigs(f: Pick<PeriphFlags, 'preset' | 'config' | 'seed'>): { label: string; config: XbarConfig }[] {
  const presets = f.preset ?? [];
  const seed = intFlag('--seed', f.seed, 0, 2 ** 32 - 1);
  const withSeed = (c: XbarConfig): XbarConfig => (seed === undefined ? c : { ...c, seed });
  if (presets.length === 0 && f.config !== undefined) {
    const c = withSeed(configFromFlags(f.config, undefined));
    return [{ label: c.preset ?? 'custom', config: c }];
  }
  const names = presets.length > 0 ? presets : [...PERIPH_DEFAULT_PRESETS];
  return names.map((name) => ({ label: name, config: withSeed(configFromFlags(f.config, name)) }));
}

/** `xbarsim periph`: the conversion chain measured like a circuit (sine and ramp tests), per chip and over chips. */
export async function runPeriph(f: PeriphFlags): Promise<void> {
  // Everything is validated before any work and before anything is written.
  const chips = intFlag('--chips', f.chips, 1, 10000) ?? 1;
  const configs = periphConfigs(f);
  for (const { config } of configs) {
    if (config.adc.bits === 0) throw new UsageError(`periph: ${config.preset ?? 'the config'} has adc.bits 0 (the ideal ADC): there is no converter to measure`);
    if (config.array.rows < 2) throw new UsageError(`periph: array.rows must be at least 2 for the chain's push-pull stimulus (got ${config.array.rows})`);
  }
  checkOutDir(f.out, '--out', ['periph.json', 'report.html']);

  const tasks = configs.length * 2 * chips;
  const bar = !f.json && process.stderr.isTTY ? new SingleBar({ format: 'periph [{bar}] {percentage}% | {what} | ETA {eta_formatted}', hideCursor: true }, Presets.shades_classic) : null;
  bar?.start(tasks, 0, { what: '' });
  const t0 = performance.now();
  const measured: PeriphPreset[] = [];
  let done = 0;
  for (const { label, config } of configs) {
    const stages: StageResult[] = [];
    for (const stage of ['adc', 'chain'] as const) {
      bar?.update(done, { what: `${label} ${stage}` });
      stages.push(stage === 'adc' ? measureAdc(config, chips) : measureChain(config, chips));
      done += chips;
      bar?.update(done, { what: `${label} ${stage}` });
      if (!bar && !f.json) stderrLine(`periph: ${label} ${stage} done (${chips} chip${chips === 1 ? '' : 's'})`);
    }
    measured.push({ label, config, stages });
  }
  bar?.stop();
  const seconds = (performance.now() - t0) / 1000;
  const chains = chainEntries(measured);

  mkdirSync(f.out, { recursive: true });
  const detail = { chains, chips, backend: 'cpu (the reference)', seconds, presets: measured.map((p) => ({ preset: p.label, config: p.config, stages: p.stages.map((s) => ({ stage: s.stage, chips: s.chips })) })) };
  writeTextAtomic(join(f.out, 'periph.json'), `${JSON.stringify(detail, null, 2)}\n`);
  writeTextAtomic(join(f.out, 'report.html'), await periphReportHtml(measured, chains, { chips, seconds }));

  if (f.json) {
    process.stdout.write(`${JSON.stringify({ chains }, null, 2)}\n`);
  } else {
    const n = (s: Stat, d: number): string => (chips > 1 ? `${s.mean.toFixed(d)} ± ${s.std.toFixed(d)}` : s.mean.toFixed(d));
    const lines = [`xbarsim periph: ${chips} chip${chips === 1 ? '' : 's'} per preset, CPU reference, ${seconds.toFixed(1)} s`];
    for (const c of chains) {
      lines.push(`  ${c.preset.padEnd(12)} ${c.stage.padEnd(6)} SINAD ${n(c.sinad_dB, 2)} dB  ENOB ${n(c.enob, 2)}  SFDR ${n(c.sfdr_dB, 1)} dB  INL ${n(c.inlMax_LSB, 2)} LSB  DNL ${n(c.dnlMax_LSB, 2)} LSB`);
    }
    lines.push(`report: ${join(f.out, 'report.html')}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}
