// docs/PRODUCTION.md's example alert rules (docs/prometheus/casella-alerts.yml) are valid Prometheus
// rules, name only metrics Casella serves, and fire as their unit tests (casella-alerts.test.yml)
// say. promtool comes with Debian's `prometheus` package (.ci/run installs it); PROMTOOL may name it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const promtool = process.env.PROMTOOL || 'promtool';
const present = spawnSync(promtool, ['--version']).status === 0;
const RULES = 'docs/prometheus/casella-alerts.yml';

test('the example alert rules pass `promtool check rules` and `promtool test rules`', { skip: !present && 'promtool is not installed (Debian: apt-get install prometheus; or set PROMTOOL)' }, () => {
  const check = spawnSync(promtool, ['check', 'rules', RULES], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /SUCCESS: \d+ rules found/);
  const unit = spawnSync(promtool, ['test', 'rules', 'docs/prometheus/casella-alerts.test.yml'], { encoding: 'utf8' });
  assert.equal(unit.status, 0, unit.stdout + unit.stderr);
});

test('the example alert rules use only metrics Casella serves (src/metrics.ts, src/http/metrics.ts) or Prometheus and prom-client provide', () => {
  const rules = readFileSync(RULES, 'utf8');
  const served = readFileSync('src/metrics.ts', 'utf8') + readFileSync('src/http/metrics.ts', 'utf8');
  const used = new Set([...rules.matchAll(/\b(casella_[a-z_]+?)(?:_bucket|_count|_sum)?\b(?=[{[\s)])/g)].map((m) => m[1]!));
  assert.ok(used.size >= 8, [...used].join(' '));
  for (const name of used) assert.ok(served.includes(`'${name}'`), `${name} is not a metric Casella serves`);
});
