/**
 * Fills `{{NAME}}` placeholders in a WGSL template. Every placeholder must be given and every given
 * value used, so a typo in a generator fails loudly instead of compiling a different kernel.
 */
export function instantiate(template: string, values: Readonly<Record<string, string | number>>): string {
  const used = new Set<string>();
  const out = template.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_m, name: string) => {
    if (!(name in values)) throw new Error(`WGSL template: no value for {{${name}}}`);
    used.add(name);
    return String(values[name]);
  });
  for (const k of Object.keys(values)) if (!used.has(k)) throw new Error(`WGSL template: {{${k}}} not in template`);
  return out;
}

/** Throws unless `v` is an integer in [lo, hi] (and a power of two when asked): kernel constraints. */
export function checkParam(name: string, v: number, lo: number, hi: number, powerOfTwo = false): void {
  if (!Number.isInteger(v) || v < lo || v > hi || (powerOfTwo && (v & (v - 1)) !== 0)) {
    throw new Error(`kernel parameter ${name}=${v}: must be an integer in [${lo}, ${hi}]${powerOfTwo ? ', a power of two' : ''}`);
  }
}

/** ceil(a / b) for positive integers. */
export function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}
