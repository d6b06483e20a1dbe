import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { createServer, type ViteDevServer } from 'vite';
import { IN_CI } from './gpu.ts';

/** Debian's Chromium (Puppeteer cannot download its own here). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags for WebGPU on SwiftShader in headless Chromium on a machine with no GPU, and no network chatter. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-webgpu-adapter=swiftshader',
  '--enable-unsafe-swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

export interface BrowserEnv {
  browser: Browser;
  server: ViteDevServer;
  baseUrl: string;
  close(): Promise<void>;
}

/** Starts the Vite dev server on loopback and headless Chromium; null (with a reason) when Chromium is absent locally. */
export async function openBrowser(): Promise<BrowserEnv | null> {
  if (!existsSync(CHROMIUM)) {
    if (IN_CI) throw new Error(`CI=true but ${CHROMIUM} is missing: install Debian's chromium`);
    console.warn(`SKIP browser suite: ${CHROMIUM} not found`);
    return null;
  }
  const server = await createServer({ configFile: 'vite.config.ts', server: { host: '127.0.0.1', port: 0 }, logLevel: 'error' });
  await server.listen();
  const addr = server.httpServer?.address();
  if (!addr || typeof addr === 'string') throw new Error('vite dev server has no port');
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    userDataDir: mkdtempSync(join(tmpdir(), 'xbarsim-chromium-')),
  });
  return {
    browser,
    server,
    baseUrl: `http://127.0.0.1:${addr.port}`,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}
