/**
 * Layering of src/ (DESIGN.md section 1), checked by `npm run lint:layers` as part of `npm test`.
 * Imports run down this list, never up; folders on one line do not import each other unless listed.
 *   cli, web                        (entry points)
 *   sweep                           (Monte Carlo over chips and grids, reports)
 *   nn                              (the network walk, calibration, execution, adapter training in nn/adapt)
 *   adapters                        (digital low-rank adapter sets: files, CPU branch, GPU branch)
 *   kernels | reference | io | energy   (GPU kernels | CPU oracle | files | cost model)
 *   readout                         (ADC, analog accumulation and digital-unit models; imports crossbar)
 *   devices | circuits              (device models of section 12 | array circuits of section 13: formulas, layouts)
 *   crossbar                        (programming a chip: quantize, slice, map, static noise ids)
 *   config | gpu | random | ir      (leaves: schema, device, Philox, network IR and geometry)
 * Type-only imports count: a type is as much a dependency as a function.
 */
const level = {
  leaf: ['config', 'gpu', 'random', 'ir'],
  crossbar: ['crossbar'],
  readout: ['readout'],
  devices: ['devices', 'circuits'],
  mid: ['kernels', 'reference', 'io', 'energy'],
  adapters: ['adapters'],
  nn: ['nn'],
  sweep: ['sweep'],
  cli: ['cli'],
};
const dir = (names) => `^src/(${names.join('|')})/`;
const above = (names) => dir(names);

module.exports = {
  forbidden: [
    { name: 'leaf-imports-up', severity: 'error', comment: 'config, gpu, random and ir are leaves: they import only errors and each other where listed',
      from: { path: dir(level.leaf) }, to: { path: above([...level.crossbar, ...level.readout, ...level.devices, ...level.mid, ...level.adapters, ...level.nn, ...level.sweep, ...level.cli]) } },
    { name: 'ir-is-pure', severity: 'error', comment: 'the IR does not depend on a config, a device or a random stream',
      from: { path: '^src/ir/' }, to: { path: dir(['config', 'gpu', 'random']) } },
    { name: 'config-is-pure', severity: 'error', from: { path: '^src/config/' }, to: { path: dir(['gpu', 'random', 'ir']) } },
    { name: 'random-is-pure', severity: 'error', from: { path: '^src/random/' }, to: { path: dir(['config', 'gpu', 'ir']) } },
    { name: 'crossbar-imports-up', severity: 'error', from: { path: '^src/crossbar/' }, to: { path: above([...level.readout, ...level.devices, ...level.mid, ...level.adapters, ...level.nn, ...level.sweep, ...level.cli, 'gpu']) } },
    { name: 'readout-imports-up', severity: 'error', comment: 'readout models sit on crossbar: kernels and the reference both use them',
      from: { path: '^src/readout/' }, to: { path: above([...level.mid, ...level.adapters, ...level.nn, ...level.sweep, ...level.cli, 'gpu']) } },
    { name: 'devices-imports-up', severity: 'error', comment: 'device models and circuits may import config, random, crossbar and errors only',
      from: { path: dir(level.devices) }, to: { path: above([...level.mid, ...level.adapters, ...level.nn, ...level.sweep, ...level.cli, 'gpu', 'ir']) } },
    { name: 'devices-circuits-apart', severity: 'error', comment: 'device physics and wire circuits are separate areas',
      from: { path: '^src/devices/' }, to: { path: '^src/circuits/' } },
    { name: 'circuits-devices-apart', severity: 'error', from: { path: '^src/circuits/' }, to: { path: '^src/devices/' } },
    { name: 'mid-imports-up', severity: 'error', from: { path: dir(level.mid) }, to: { path: above([...level.adapters, ...level.nn, ...level.sweep, ...level.cli]) } },
    { name: 'oracle-is-independent', severity: 'error', comment: 'the CPU reference must not share code with the GPU programs it checks',
      from: { path: '^src/reference/' }, to: { path: dir(['kernels', 'gpu']) } },
    { name: 'kernels-not-reference', severity: 'error', comment: 'a kernel computing its answer with the oracle would test nothing',
      from: { path: '^src/kernels/' }, to: { path: dir(['reference', 'io', 'energy']) } },
    { name: 'io-not-compute', severity: 'error', from: { path: '^src/io/' }, to: { path: dir(['kernels', 'reference', 'energy', 'gpu', 'devices', 'circuits']) } },
    { name: 'energy-not-compute', severity: 'error', from: { path: '^src/energy/' }, to: { path: dir(['kernels', 'reference', 'io', 'gpu']) } },
    { name: 'adapters-imports-up', severity: 'error', comment: 'adapter sets sit under the network walk that applies them',
      from: { path: '^src/adapters/' }, to: { path: above([...level.nn, ...level.sweep, ...level.cli]) } },
    { name: 'nn-imports-up', severity: 'error', from: { path: '^src/nn/' }, to: { path: above([...level.sweep, ...level.cli]) } },
    { name: 'sweep-imports-cli', severity: 'error', from: { path: '^src/sweep/' }, to: { path: above(level.cli) } },
    { name: 'web-imports-cli', severity: 'error', comment: 'the browser app shares the library, never the Node command line',
      from: { path: '^web/' }, to: { path: '^src/cli/' } },
    { name: 'no-circular', severity: 'error', from: { path: '^src/' }, to: { circular: true } },
  ],
  options: {
    parser: 'swc',
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
  },
};
