// The project's documentation stands alone: a clone has every page the README and docs/ point at,
// and none of them sends a reader to files outside the repository (issue 12, item 17).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function walk(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(ROOT, path)).isDirectory() ? walk(path) : [path];
  });
}

/**
 * The files a clone would have: tracked or about to be (untracked but not ignored), so `data/` or
 * `test-output/` never count. Outside a git checkout (an unpacked tarball), what is on disk.
 */
function repositoryFiles(): Set<string> {
  try {
    const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' });
    return new Set(out.split('\0').filter((f) => f && existsSync(join(ROOT, f))));
  } catch {
    return new Set(['README.md', ...walk('docs')].map((f) => f.split(sep).join('/')));
  }
}

const FILES = repositoryFiles();
const docFiles = (): string[] => [...FILES].filter((f) => f === 'README.md' || f.startsWith('docs/')).sort();
const markdownFiles = (): string[] => docFiles().filter((f) => f.endsWith('.md'));
const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

const withoutCodeFences = (md: string): string => md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
/** Markdown without fenced blocks and inline code, where a link-like text is not a link. */
const withoutCode = (md: string): string => withoutCodeFences(md).replace(/`[^`\n]*`/g, '');

function linkTargets(md: string): string[] {
  return [...withoutCode(md).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
}

const isExternal = (target: string): boolean => /^[a-z][a-z0-9+.-]*:/i.test(target);

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingAnchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const m of withoutCodeFences(md).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1]!
      .replace(/`/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}
const isRepositoryDirectory = (path: string): boolean => [...FILES].some((f) => f.startsWith(`${path}/`));

test('README.md and docs/ never send the reader to ../shared, which a clone does not have', () => {
  const offenders = docFiles().filter((f) => /\.\.\/shared\b/.test(read(f)));
  assert.deepEqual(offenders, [], `files referring to ../shared: ${offenders.join(', ')}`);
});

test('the README links the rules, the API contract and the architecture, kept in docs/', () => {
  const readme = linkTargets(read('README.md'));
  for (const page of ['docs/RULES.md', 'docs/API.md', 'docs/ARCHITECTURE.md', 'docs/DECISIONS.md']) {
    assert.ok(readme.some((t) => t.split('#')[0] === page), `README.md links ${page}`);
  }
});

test('every relative link in README.md and docs/*.md reaches a file of the repository (and its heading)', () => {
  const broken: string[] = [];
  for (const file of markdownFiles()) {
    for (const target of linkTargets(read(file))) {
      if (isExternal(target)) continue;
      const [pathPart, anchor] = target.split('#') as [string, string | undefined];
      const resolved = pathPart === '' ? file : relative(ROOT, resolve(ROOT, dirname(file), decodeURI(pathPart))).split(sep).join('/');
      const inside = resolved !== '' && !resolved.startsWith('..');
      const isDirectory = isRepositoryDirectory(resolved.replace(/\/$/, ''));
      if (!inside || (!FILES.has(resolved) && !isDirectory)) {
        broken.push(`${file}: ${target} (no such file in the repository)`);
        continue;
      }
      if (anchor && resolved.endsWith('.md') && !headingAnchors(read(resolved)).has(anchor)) {
        broken.push(`${file}: ${target} (no heading #${anchor} in ${resolved})`);
      }
    }
  }
  assert.deepEqual(broken, []);
});
