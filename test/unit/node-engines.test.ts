// Issue 12 item 17: the README says Node 20, so `npm install` must not warn EBADENGINE on Node 20.
// Every package in package-lock.json that declares engines.node must accept Node 20 LTS. The ranges
// are read by a small evaluator of npm's range grammar that refuses what it does not understand,
// so an unfamiliar range fails the test instead of passing unread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

/** The first Node 20 LTS release; a range that needs a later 20.x would need the README to say so. */
const NODE_20 = '20.9.0';

type Version = [number, number, number];
const compare = (a: Version, b: Version): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** "20", "20.1", "20.1.2", "20.x": the parts given (a wildcard ends them). */
function partial(text: string): number[] {
  if (text === '*' || text === 'x' || text === '') return [];
  const m = /^v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?$/.exec(text);
  if (!m) throw new Error(`unsupported version in an engines range: "${text}"`);
  const parts: number[] = [];
  for (const p of [m[1], m[2], m[3]]) {
    if (p === undefined || p === 'x' || p === '*') break;
    parts.push(Number(p));
  }
  return parts;
}

const floor = (p: number[]): Version => [p[0] ?? 0, p[1] ?? 0, p[2] ?? 0];
/** The first version after every version the partial names: 20 → 21.0.0, 20.1 → 20.2.0. */
const ceiling = (p: number[]): Version =>
  p.length === 0 ? [Infinity, 0, 0] : p.length === 1 ? [p[0]! + 1, 0, 0] : p.length === 2 ? [p[0]!, p[1]! + 1, 0] : [p[0]!, p[1]!, p[2]! + 1];

function satisfiesComparator(v: Version, comparator: string): boolean {
  const m = /^(>=|<=|>|<|=|\^|~)?(.*)$/.exec(comparator)!;
  const op = m[1] ?? '';
  const p = partial(m[2]!);
  switch (op) {
    case '>=':
      return compare(v, floor(p)) >= 0;
    case '>':
      return compare(v, ceiling(p)) >= 0;
    case '<':
      return compare(v, floor(p)) < 0;
    case '<=':
      return compare(v, ceiling(p)) < 0;
    case '^': {
      const lo = floor(p);
      const hi: Version = lo[0] > 0 || p.length < 2 ? [lo[0] + 1, 0, 0] : lo[1] > 0 || p.length < 3 ? [0, lo[1] + 1, 0] : [0, 0, lo[2] + 1];
      return compare(v, lo) >= 0 && compare(v, hi) < 0;
    }
    case '~': {
      const lo = floor(p);
      const hi: Version = p.length < 2 ? [lo[0] + 1, 0, 0] : [lo[0], lo[1] + 1, 0];
      return compare(v, lo) >= 0 && compare(v, hi) < 0;
    }
    default: // "20", "=20.1.0": every version the partial names
      return compare(v, floor(p)) >= 0 && compare(v, ceiling(p)) < 0;
  }
}

function rangeAccepts(range: string, version: string): boolean {
  const v = floor(partial(version));
  if (/ - /.test(range) || /-[0-9A-Za-z]/.test(range.replace(/ - /g, ''))) throw new Error(`unsupported engines range: "${range}"`);
  return range.split('||').some((set) => {
    const comparators = set.trim().replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1').split(/\s+/).filter(Boolean);
    return comparators.every((c) => satisfiesComparator(v, c));
  });
}

test('the engines range evaluator reads npm ranges as npm does', () => {
  const cases: [string, boolean][] = [
    ['>=20', true],
    ['>= 20', true],
    ['>=20.0.0', true],
    ['>=22', false],
    ['>=20.19', false],
    ['18 || 20 || >=22', true],
    ['20 || >=22', true],
    ['^18.17.0 || >=20.5.0', true],
    ['^8.16.0 || ^10.6.0 || >=11.0.0', true],
    ['>=14 <20', false],
    ['>=14 <21', true],
    ['^20.10.0', false],
    ['~20.9', true],
    ['20.x', true],
    ['*', true],
    ['<=19', false],
    ['>19', true],
    ['>20', false],
  ];
  for (const [range, expected] of cases) assert.equal(rangeAccepts(range, NODE_20), expected, range);
  assert.throws(() => rangeAccepts('>=20.0.0-rc.1', NODE_20), /unsupported/);
  assert.throws(() => rangeAccepts('18 - 22', NODE_20), /unsupported/);
});

test(`every package in package-lock.json accepts Node ${NODE_20} (no EBADENGINE on npm install)`, () => {
  const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as {
    packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
  };
  const refusing: string[] = [];
  let checked = 0;
  for (const [path, pkg] of Object.entries(lock.packages)) {
    const range = pkg.engines && !Array.isArray(pkg.engines) ? pkg.engines.node : undefined;
    if (!range) continue;
    checked++;
    if (!rangeAccepts(range, NODE_20)) refusing.push(`${path.replace(/^node_modules\//, '') || 'casella'}@${pkg.version} wants node ${range}`);
  }
  assert.ok(checked > 5, `only ${checked} packages declare engines.node: is this the lock file?`);
  assert.deepEqual(refusing, []);
});
