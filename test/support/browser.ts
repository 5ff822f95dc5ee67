// The system's Chromium for the browser tests (never a downloaded browser), and what a test file
// does when it is absent: say so once and skip.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const SKIP = 'Chromium not found at /usr/bin/chromium: browser tests skipped (.ci/run installs it)';
export const chromiumAvailable = existsSync(CHROMIUM);
if (!chromiumAvailable) console.log(SKIP);
/** Options for test(): skipped, with the reason, where there is no Chromium. */
export const browserTestOptions = chromiumAvailable ? {} : { skip: SKIP };

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // An Italian holder's browser: the pages before login follow Accept-Language (issue 19), and the
    // tests read the Italian pages unless a context asks for another locale.
    args: ['--lang=it-IT', '--accept-lang=it-IT,it', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}
