// What the browser tests check on every page a holder sees: nothing wider than the screen, zero
// axe-core violations (WCAG 2.1 A and AA), and a screenshot saved under test-output/screenshots.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Nothing is wider than the screen: no horizontal scrolling, no element sticking out. */
export async function assertFits(page: Page, name: string) {
  const wide = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const out: string[] = [];
    if (document.documentElement.scrollWidth > width) out.push(`page scrolls sideways: ${document.documentElement.scrollWidth} > ${width}`);
    for (const el of Array.from(document.body.querySelectorAll('*'))) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.right > width + 0.5 || r.left < -0.5 || r.width > width + 0.5) {
        out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className} [${Math.round(r.left)}, ${Math.round(r.right)}]`);
      }
      if (out.length > 5) break;
    }
    return out;
  });
  // The skip link waits off screen until focused: the one element meant to be outside.
  assert.deepEqual(wide.filter((w) => !w.startsWith('a.skip')), [], `${name}: wider than ${page.viewportSize()?.width} px`);
}

/** axe-core with the WCAG 2.1 A and AA rules: no violation at all, whatever its impact. */
export async function assertAccessible(page: Page, name: string) {
  await page.evaluate(AXE_SOURCE);
  const result = (await page.evaluate(() =>
    (window as any).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }),
  )) as { violations: { id: string; impact: string | null; help: string; nodes: { target: unknown }[] }[] };
  assert.deepEqual(
    result.violations.map((v) => `${name}: ${v.id} (${v.impact}) ${v.help} at ${JSON.stringify(v.nodes.map((n) => n.target))}`),
    [],
  );
}

/** The folder of a test file's screenshots (made if missing). */
export function screenshotDir(name: string): string {
  const dir = resolve('test-output/screenshots', name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** One page checked as a holder sees it: it fits the screen, passes axe-core, and is saved as a screenshot in `dir`. */
export async function checkPage(page: Page, dir: string, name: string) {
  await assertFits(page, name);
  await assertAccessible(page, name);
  await page.screenshot({ path: `${dir}/${name}.png`, fullPage: true });
}
