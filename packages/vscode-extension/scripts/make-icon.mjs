#!/usr/bin/env node
// Draws the extension's icon (images/icon.png, 128×128, as the Marketplace asks) from the SVG
// below, with Debian's chromium through playwright-core. Run it again after changing the drawing.
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, extensionDir } from './harness.mjs';

// A key inside a gate arch, on the gallery banner's colour.
const SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128">
  <rect width="128" height="128" rx="24" fill="#1e2a3a"/>
  <path d="M24 108V56a40 40 0 0 1 80 0v52" fill="none" stroke="#4fc3f7" stroke-width="10" stroke-linecap="round"/>
  <circle cx="64" cy="62" r="14" fill="none" stroke="#ffca28" stroke-width="8"/>
  <path d="M64 76v30M64 92h10M64 102h8" fill="none" stroke="#ffca28" stroke-width="8" stroke-linecap="round"/>
</svg>`;

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 128, height: 128 } });
  await page.setContent(`<html><body style="margin:0;background:transparent">${SVG}</body></html>`);
  const path = join(extensionDir, 'images', 'icon.png');
  await page.locator('svg').screenshot({ path, omitBackground: true });
  console.log(`saved ${path}`);
} finally {
  await browser.close();
}
