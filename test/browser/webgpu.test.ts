import { afterAll, describe, expect, it } from 'vitest';
import { openBrowser } from '../helpers/browser.ts';

const env = await openBrowser();
afterAll(async () => env?.close());

describe.skipIf(!env)('WebGPU in headless Chromium', () => {
  it('runs the GEMM kernel on navigator.gpu and matches the CPU reference', async () => {
    const page = await env!.browser.newPage();
    page.on('console', (m) => console.log(`[chromium] ${m.text()}`));
    await page.goto(`${env!.baseUrl}/web/smoke.html`, { waitUntil: 'load' });
    const r = await page.evaluate(() => window.xbarsimSmoke);
    console.log(`browser adapter: ${r.adapter ?? '(none)'}; max |error| ${r.maxAbsError}`);
    expect(r.error).toBeUndefined();
    expect(r.adapter).toBeTruthy();
    expect(r.ok).toBe(true);
  });
});
