#!/usr/bin/env node
// The xbarsim command. Runs the precompiled bundle (dist/cli/xbarsim.js: `npm run build`, which npm's
// `prepare` hook runs on npm ci, npm install and npm pack) when it matches the sources, else the
// TypeScript sources through tsx (bin/register.js). XBARSIM_FROM_SOURCE=1 forces the sources.
import { fileURLToPath } from 'node:url';
import { builtEntry } from './built.js';

const entry = process.env.XBARSIM_FROM_SOURCE === '1' ? null : builtEntry(fileURLToPath(new URL('..', import.meta.url)));
let main;
if (entry) ({ main } = await import(entry));
else {
  await import('./register.js');
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
