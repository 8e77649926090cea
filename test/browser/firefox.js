// Starts headless Firefox for the benchmark's Firefox row: Debian's firefox-esr (FUSED_BCE_FIREFOX to point
// elsewhere), driven by puppeteer-core over WebDriver BiDi, with a fresh profile. Returns null where Firefox or
// puppeteer-core is missing (the row is then left out and the benchmark says so).
'use strict';
const { existsSync, mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const executablePath = process.env.FUSED_BCE_FIREFOX ?? '/usr/bin/firefox-esr';

/** Why Firefox cannot run here, or null. */
function firefoxMissing() {
  if (!existsSync(executablePath)) return `no Firefox at ${executablePath} (Debian: apt-get install firefox-esr)`;
  try {
    require.resolve('puppeteer-core');
  } catch {
    return 'puppeteer-core not installed';
  }
  return null;
}

/** { browser, close() }: close() also removes the profile. */
async function launchFirefox() {
  const profile = mkdtempSync(join(tmpdir(), 'fused-bce-firefox-'));
  const browser = await require('puppeteer-core').launch({
    browser: 'firefox', protocol: 'webDriverBiDi', executablePath, headless: true, userDataDir: profile,
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

module.exports = { firefoxMissing, launchFirefox };
