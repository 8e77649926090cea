// Starts headless Chromium for the browser test and the benchmark: Debian's (FUSED_BCE_CHROMIUM to point
// elsewhere), driven by puppeteer-core, with a fresh profile and the flags that keep it off the network.
// Returns null where Chromium or puppeteer-core is missing.
'use strict';
const { existsSync, mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const executablePath = process.env.FUSED_BCE_CHROMIUM ?? '/usr/bin/chromium';

function puppeteerCore() {
  try {
    return require('puppeteer-core');
  } catch {
    return null;
  }
}

/** Why Chromium cannot run here, or null. */
function chromiumMissing() {
  if (!existsSync(executablePath)) return `no Chromium at ${executablePath}`;
  if (puppeteerCore() === null) return 'puppeteer-core not installed';
  return null;
}

/**
 * A browser launched by puppeteer-core with a fresh profile in a temporary folder: { browser, close() }, close()
 * also removing the profile. (Shared with test/browser/firefox.js.)
 */
async function launchWithProfile(name, options) {
  const profile = mkdtempSync(join(tmpdir(), `fused-bce-${name}-`));
  const browser = await puppeteerCore().launch({ ...options, headless: true, userDataDir: profile });
  return {
    browser,
    close: async () => {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** { browser, close() }: close() also removes the profile. */
function launchChromium() {
  return launchWithProfile('chromium', {
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

module.exports = { chromiumMissing, launchChromium, launchWithProfile };
