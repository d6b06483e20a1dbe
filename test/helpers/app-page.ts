// Reading and driving the browser app's page by its data-testid hooks, shared by the app suites so
// they exercise the page the same way a user does.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import type { AppHook } from '../../web/app/main.ts';

const at = (testid: string): string => `[data-testid="${testid}"]`;

/** The app's test hook (window.__xbarsim), copied out of the page. */
export const hookOf = (page: Page): Promise<AppHook> => page.evaluate(() => ({ ...window.__xbarsim }));
/** An element's text. */
export const text = (page: Page, testid: string): Promise<string> => page.$eval(at(testid), (e) => (e as HTMLElement).textContent ?? '');
/** Whether an element is shown (not `hidden`). */
export const visible = (page: Page, testid: string): Promise<boolean> => page.$eval(at(testid), (e) => !(e as HTMLElement).hidden);
/** A form control's value. */
export const valueOf = (page: Page, testid: string): Promise<string> => page.$eval(at(testid), (e) => (e as HTMLSelectElement).value);
/** Whether a form control is disabled. */
export const disabled = (page: Page, testid: string): Promise<boolean> => page.$eval(at(testid), (e) => (e as HTMLSelectElement).disabled);

/** Sets a form control's value (or checkbox state) as a user would, firing input and change. */
export async function setField(page: Page, testid: string, value: string | boolean): Promise<void> {
  await page.$eval(
    at(testid),
    (e, v) => {
      const input = e as HTMLInputElement;
      if (typeof v === 'boolean') input.checked = v;
      else input.value = v;
      input.dispatchEvent(new Event('input', { bubbles: true }));
      input.dispatchEvent(new Event('change', { bubbles: true }));
    },
    value,
  );
}

/** Waits for a finished download (not a .crdownload) in `dir` whose name ends with `ext`. */
export async function waitForDownload(dir: string, ext: string, timeoutMs = 20_000): Promise<string> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const f = readdirSync(dir).find((n) => n.endsWith(ext));
    if (f) return join(dir, f);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${ext} download in ${dir} after ${timeoutMs} ms`);
}
