// Progress lines for long runs: redrawn in place on a terminal, silent otherwise (logs stay clean).
export function progress(label: string): { update(text: string): void; done(text: string): void } {
  const tty = process.stderr.isTTY;
  return {
    update(text) {
      if (tty) process.stderr.write(`\r\x1b[2K${label}: ${text}`);
    },
    done(text) {
      if (tty) process.stderr.write(`\r\x1b[2K`);
      process.stderr.write(`${label}: ${text}\n`);
    },
  };
}

/** Peak resident memory of this process so far, in MB (the kernel's own high-water mark). */
export const peakRssMb = (): number => Math.round(process.resourceUsage().maxRSS / 1024);
