// WGSL sources are imported as text: Vite's `?raw` in the browser and vitest, bin/register.js's hook in Node.
declare module '*.wgsl?raw' {
  const source: string;
  export default source;
}
