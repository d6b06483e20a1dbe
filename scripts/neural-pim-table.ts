/**
 * The closing table of issue 13: Neural-PIM's energy-efficiency and throughput ratios over the
 * paper's own ISAAC-style and CASCADE-style baselines (presets isaac-style, cascade-style; Cao et
 * al., IEEE TC 2022 §6.1, Table 3) as xbarsim estimates them, per network and on average (geometric
 * mean), beside the ratios the paper reports (§7.2: 5.36× / 3.43× over ISAAC style, 1.73× / 1.59×
 * over CASCADE style). The paper's MobileNet is MobileNetV2 (its ref. [43]) and its Inception is
 * v3 (ref. [42]); issue 13 prescribes MobileNet v1, which is what runs here.
 * Run: node --import ./bin/register.js scripts/neural-pim-table.ts [--area MM2]
 */
import { energyReport } from '../src/cli/energy.ts';
import { ISAAC_CHIP_TILES_MM2 } from '../src/energy/architectures.ts';
import { HEADLINE_NETWORKS } from '../src/energy/networks/index.ts';

const areaArg = process.argv.indexOf('--area');
const area = areaArg > 0 ? process.argv[areaArg + 1] : undefined;
const PAPER = { isaac: { e: 5.36, t: 3.43 }, cascade: { e: 1.73, t: 1.59 } };
const PRESETS = ['isaac-style', 'cascade-style', 'neural-pim'];

const rows: { name: string; chips: number; v: number[] }[] = [];
for (const name of HEADLINE_NETWORKS) {
  const r = energyReport({ network: name, inputSign: 'signed', area, preset: PRESETS });
  const of = (over: string) => r.ratios.find((x) => x.of === 'neural-pim' && x.over === over)!;
  const a = of('isaac-style');
  const c = of('cascade-style');
  rows.push({ name, chips: r.areaBudget_mm2 / ISAAC_CHIP_TILES_MM2, v: [a.energyEfficiency, a.throughput, c.energyEfficiency, c.throughput] });
}
const geo = (i: number): number => Math.exp(rows.reduce((s, r) => s + Math.log(r.v[i]), 0) / rows.length);
const f = (v: number): string => `${v.toFixed(2)}×`;
const lines = [
  `| network | area (ISAAC chips) | energy eff. vs ISAAC style | throughput vs ISAAC style | energy eff. vs CASCADE style | throughput vs CASCADE style |`,
  `|---|---|---|---|---|---|`,
  ...rows.map((r) => `| ${r.name} | ${area ? `${area} mm²` : r.chips.toFixed(0)} | ${r.v.map(f).join(' | ')} |`),
  `| geometric mean | | ${[0, 1, 2, 3].map((i) => f(geo(i))).join(' | ')} |`,
  `| Neural-PIM paper (its MobileNet is V2; mobilenet-v1 here) | | ${f(PAPER.isaac.e)} | ${f(PAPER.isaac.t)} | ${f(PAPER.cascade.e)} | ${f(PAPER.cascade.t)} |`,
];
process.stdout.write(`${lines.join('\n')}\n`);
