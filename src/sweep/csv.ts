// CSV cells and column names shared by summary.csv and the browser app's downloads (pure: no Node modules).

/** camelCase count name to the snake_case CSV column stem. */
export function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** One CSV cell: empty for null, numbers to 12 significant digits, quoted when needed. */
export function csvCell(v: string | number | boolean | null): string {
  if (v === null) return '';
  // 12 significant digits: drops float noise (0.7349999999999999) but keeps every real digit.
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(Number(v.toPrecision(12))) : '') : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
