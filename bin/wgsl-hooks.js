// Node module hook: `import src from './x.wgsl?raw'` yields the file's text, as Vite does.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export async function load(url, context, nextLoad) {
  const u = new URL(url);
  if (u.protocol === 'file:' && u.pathname.endsWith('.wgsl') && u.search === '?raw') {
    const text = await readFile(fileURLToPath(u.href.replace(/\?raw$/, '')), 'utf8');
    return { format: 'module', source: `export default ${JSON.stringify(text)};`, shortCircuit: true };
  }
  return nextLoad(url, context);
}
