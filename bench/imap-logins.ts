// `casella bench imap-logins`: IMAP logins per second through Dovecot's SQL passdb on Casella's
// database (R14). C clients log in as random mailboxes of the renewal benchmark's book
// (bench<N>@pec.bench.test, password "bench-password") and log out, for S seconds. Each login is a
// password lookup in dovecot.passdb plus an Argon2id verification, and a user lookup in dovecot.userdb.
// Run it against a Dovecot written by `casella dovecot-config` (docs/PERFORMANCE.md says how).
import { parseArgs } from 'node:util';
import { ImapFlow } from 'imapflow';
import { peakRssMb, progress } from '../src/cli/progress.ts';
import { percentile } from './purchase.ts';

export async function runImapLoginBench(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      seconds: { type: 'string', default: '20' },
      concurrency: { type: 'string', default: '8' },
      mailboxes: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const port = Number(values.port);
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  const mailboxes = Number(values.mailboxes);
  if (![port, seconds, concurrency, mailboxes].every((n) => Number.isInteger(n) && n >= 1) || port > 65535 || concurrency > 256) {
    console.error('usage: casella bench imap-logins --port N --mailboxes N [--host H] [--seconds S] [--concurrency C] [--json]');
    return 2;
  }
  const latencies: number[] = [];
  let errors = 0;
  const bar = progress('imap logins');
  const started = performance.now();
  const until = started + seconds * 1000;
  // Which mailbox each login uses: spread over the whole book, so the index is probed cold and warm.
  let seed = 12345;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), 1 + (seed % mailboxes));
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const imap = new ImapFlow({
          host: values.host!,
          port,
          secure: false,
          auth: { user: `bench${next()}@pec.bench.test`, pass: 'bench-password' },
          logger: false,
        });
        const t0 = performance.now();
        try {
          await imap.connect();
          latencies.push(performance.now() - t0);
          await imap.logout();
        } catch {
          errors++;
        }
        if (latencies.length % 50 === 0) bar.update(`${latencies.length} logins`);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  const result = {
    seconds: Math.round(elapsed * 10) / 10,
    concurrency,
    logins: sorted.length,
    loginsPerSecond: Math.round((sorted.length / elapsed) * 10) / 10,
    p50Ms: Math.round(percentile(sorted, 50) * 10) / 10,
    p99Ms: Math.round(percentile(sorted, 99) * 10) / 10,
    errors,
    peakRssMb: peakRssMb(),
  };
  bar.done(`${result.logins} logins`);
  if (values.json) console.log(JSON.stringify(result));
  else console.log(`imap logins: ${result.loginsPerSecond}/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${errors} errors`);
  return errors ? 1 : 0;
}
