/**
 * Fills `{{NAME}}` placeholders of a WGSL body from a variant's constants (its workgroup size, so the
 * launch shape reads literally in the source). Every placeholder must be given: a typo fails loudly
 * instead of compiling a different kernel.
 */
export function substitute(template: string, values: Readonly<Record<string, string | number | boolean>>): string {
  return template.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_m, name: string) => {
    if (!(name in values)) throw new Error(`WGSL template: no value for {{${name}}}`);
    return String(values[name]);
  });
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
