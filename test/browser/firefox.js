// Starts headless Firefox for the benchmark's Firefox row: Debian's firefox-esr (FUSED_BCE_FIREFOX to point
// elsewhere), driven by puppeteer-core over WebDriver BiDi, with a fresh profile. Returns null where Firefox or
// puppeteer-core is missing (the row is then left out and the benchmark says so).
'use strict';
const { existsSync } = require('node:fs');
const { launchWithProfile } = require('./chromium');

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
function launchFirefox() {
  return launchWithProfile('firefox', { browser: 'firefox', protocol: 'webDriverBiDi', executablePath });
}

module.exports = { firefoxMissing, launchFirefox };
