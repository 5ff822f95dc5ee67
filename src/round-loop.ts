// A background loop that runs one round at a time: every intervalMs, at once after a round that
// filled its batch (more may be waiting), and on kick(). The outbox of e-mails (R13) and the
// invoices' SdI channel (R15) both deliver this way.

export interface RoundLoop {
  /** Something was queued: run a round now (or right after the one running). */
  kick(): void;
  /** No new round starts; resolves when the running one ends. */
  stop(): Promise<void>;
}

/** `round` answers whether it was busy (a full batch): then the next round runs without waiting. */
export function startRoundLoop(intervalMs: number, round: () => Promise<boolean>): RoundLoop {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let again = false;

  const schedule = (delayMs: number) => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(run, delayMs);
    timer.unref(); // the HTTP server, not this loop, keeps the process alive
  };

  function run(): void {
    timer = null;
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    let busy = false;
    running = (async () => {
      busy = await round();
    })().finally(() => {
      running = null;
      const now = again || busy;
      again = false;
      schedule(now ? 0 : intervalMs);
    });
  }

  schedule(0);
  return {
    kick() {
      if (stopped) return;
      if (running) again = true;
      else schedule(0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}
