// A second reporter beside the usual one for `npm test` (scripts/run-tests.js): how long each test
// file took, slowest first, so the files that make the suite long can be found without timing them
// one by one. A file's time is its process's, from start to exit: loading included, and while other
// files ran beside it (TEST_CONCURRENCY).
export default async function* fileTimes(source) {
  const started = Date.now();
  const files = [];
  for await (const event of source) {
    // The runner reports each file as a test of its own, named by the file's path.
    if (event.type === 'test:complete' && event.data.file && event.data.name === event.data.file) {
      files.push({ file: event.data.file, s: (event.data.details?.duration_ms ?? 0) / 1000, ok: event.data.details?.passed });
    }
  }
  files.sort((a, b) => b.s - a.s);
  const root = process.cwd() + '/';
  yield `test files by the time of their process (s), slowest first; ${files.length} files, run of ${((Date.now() - started) / 1000).toFixed(1)} s\n`;
  for (const f of files) yield `${f.s.toFixed(1).padStart(7)}  ${f.file.replace(root, '')}${f.ok === false ? '  (failed)' : ''}\n`;
}
