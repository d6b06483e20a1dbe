#!/usr/bin/env node
// The xbarsim command. Runs the precompiled bundle (dist/cli/xbarsim.js: `npm run build`, which npm's
// `prepare` hook runs on npm ci, npm install and npm pack) when it matches the sources, else the
// TypeScript sources through tsx (bin/register.js). XBARSIM_FROM_SOURCE=1 forces the sources.
// XBARSIM_TRACE=1 (src/trace.ts) books Node's own start-up apart from loading our modules.
if (process.env.XBARSIM_TRACE) {
  const u = process.cpuUsage();
  globalThis.__xbarsimBoot = { wall: performance.now() / 1000, cpu: (u.user + u.system) / 1e6 };
}
const { fileURLToPath } = await import('node:url');
const { builtEntry } = await import('./built.js');

const entry = process.env.XBARSIM_FROM_SOURCE === '1' ? null : builtEntry(fileURLToPath(new URL('..', import.meta.url)));
let main;
if (entry) ({ main } = await import(entry));
else {
  await import('./register.js');
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
