// R20: the stop's bounds. A request that never finishes is cut off 10 s after SIGINT and `serve`
// still exits 0, saying so; a second signal does not wait at all (exit 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitForLog } from '../support/serve-process.ts';
import { notificationInFlight, servedWithTopups } from '../support/serve-stop.ts';

test('R20: a request that never finishes is cut off after 10 s and serve still exits 0; a second signal exits at once', async () => {
  const { stored, served, notifications } = await servedWithTopups('pglite');
  let second: Awaited<ReturnType<typeof servedWithTopups>> | null = null;
  try {
    await notificationInFlight(served, notifications[0]!); // its body never comes
    const signalledMs = Date.now();
    served.child.kill('SIGINT');
    const [code] = (await served.exited) as [number | null];
    const tookMs = Date.now() - signalledMs;
    assert.equal(code, 0);
    assert.ok(tookMs >= 9_000 && tookMs < 15_000, `stopped after ${tookMs} ms`);
    assert.match(served.output(), /stopped on SIGINT in [\d.]+ s: requests still running after 10 s were cut off/);

    second = await servedWithTopups('pglite');
    await notificationInFlight(second.served, second.notifications[0]!);
    second.served.child.kill('SIGINT');
    await waitForLog(second.served.child, /stopping \(SIGINT\)/);
    const againMs = Date.now();
    second.served.child.kill('SIGINT');
    const [code2] = (await second.served.exited) as [number | null];
    assert.equal(code2, 1);
    assert.ok(Date.now() - againMs < 3_000, 'the second signal does not wait');
  } finally {
    for (const s of [served, second?.served]) if (s && s.child.exitCode === null) s.child.kill('SIGKILL');
    await served.exited;
    if (second) await second.served.exited;
    await stored.drop();
    await second?.stored.drop();
  }
});
