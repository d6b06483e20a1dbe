/**
 * The closing table of issue 13: Neural-PIM's energy-efficiency and throughput ratios over ISAAC and
 * over CASCADE as xbarsim estimates them, per network and on average (geometric mean), beside the
 * ratios the Neural-PIM paper reports (Cao et al., IEEE TC 2022: 5.36× / 3.43× over ISAAC, 1.73× /
 * 1.59× over CASCADE). Run: node --import ./bin/register.js scripts/neural-pim-table.ts [--area MM2]
 */
import { energyReport } from '../src/cli/energy.ts';
import { HEADLINE_NETWORKS } from '../src/energy/networks/index.ts';

const areaArg = process.argv.indexOf('--area');
const area = areaArg > 0 ? process.argv[areaArg + 1] : undefined;
const PAPER = { isaac: { e: 5.36, t: 3.43 }, cascade: { e: 1.73, t: 1.59 } };

const rows: { name: string; chips: number; v: number[] }[] = [];
for (const name of HEADLINE_NETWORKS) {
  const r = energyReport({ network: name, inputSign: 'signed', area });
  const of = (over: string) => r.ratios.find((x) => x.of === 'neural-pim' && x.over === over)!;
  const a = of('isaac');
  const c = of('cascade');
  rows.push({ name, chips: r.areaBudget_mm2 / r.presets[0].tileArea_mm2 / 168, v: [a.energyEfficiency, a.throughput, c.energyEfficiency, c.throughput] });
}
const geo = (i: number): number => Math.exp(rows.reduce((s, r) => s + Math.log(r.v[i]), 0) / rows.length);
const f = (v: number): string => `${v.toFixed(2)}×`;
const lines = [
  `| network | area (ISAAC chips) | energy eff. vs ISAAC | throughput vs ISAAC | energy eff. vs CASCADE | throughput vs CASCADE |`,
  `|---|---|---|---|---|---|`,
  ...rows.map((r) => `| ${r.name} | ${area ? `${area} mm²` : r.chips.toFixed(0)} | ${r.v.map(f).join(' | ')} |`),
  `| geometric mean | | ${[0, 1, 2, 3].map((i) => f(geo(i))).join(' | ')} |`,
  `| Neural-PIM paper | | ${f(PAPER.isaac.e)} | ${f(PAPER.isaac.t)} | ${f(PAPER.cascade.e)} | ${f(PAPER.cascade.t)} |`,
];
process.stdout.write(`${lines.join('\n')}\n`);
