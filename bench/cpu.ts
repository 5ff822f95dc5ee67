// CPU time read from /proc (Linux, same machine): what a benchmark's phase cost this process and
// the PostgreSQL backends serving its database. On a shared or virtualised box the wall time of one
// run moves with everything else; the CPU a phase needed is the figure to compare two builds by.
import { readdirSync, readFileSync } from 'node:fs';

/** Linux reports process times in clock ticks of 1/100 s (USER_HZ, the same on every architecture). */
const CPU_MS_PER_TICK = 10;

/** A process's CPU time so far (user + system), from /proc; null when it cannot be read. */
export function processCpuMs(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name, in parentheses, may hold spaces: the fields are counted after its ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * CPU_MS_PER_TICK; // utime, stime (fields 14 and 15)
}

/**
 * The CPU time so far of each PostgreSQL backend serving `database`, found by its process title
 * ("postgres: [cluster: ]user database host(port) state"); background processes have no host.
 */
export function backendsCpuMs(database: string): Map<number, number> {
  const cpu = new Map<number, number>();
  const title = /^postgres: (?:[^:]+: )?\S+ (\S+) (?:\[local\]|\S+\(\d+\)) /;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue; // gone since the listing
    }
    if (title.exec(cmdline)?.[1] !== database) continue;
    const ms = processCpuMs(Number(entry));
    if (ms !== null) cpu.set(Number(entry), ms);
  }
  return cpu;
}

/** What a phase cost: this process, and the backends serving `database` (null without one). */
export interface PhaseCpu {
  processMs: number;
  postgresMs: number | null;
}

export interface CpuMark {
  process: NodeJS.CpuUsage;
  backends: Map<number, number> | null;
}

export const markCpu = (database: string | null): CpuMark => ({ process: process.cpuUsage(), backends: database === null ? null : backendsCpuMs(database) });

/** Between two marks; a backend that started in between counts from zero, one that ended is lost. */
export function cpuSince(before: CpuMark, database: string | null): PhaseCpu {
  const used = process.cpuUsage(before.process);
  let postgresMs: number | null = null;
  if (database !== null && before.backends) {
    postgresMs = 0;
    for (const [pid, ms] of backendsCpuMs(database)) postgresMs += ms - (before.backends.get(pid) ?? 0);
  }
  return { processMs: (used.user + used.system) / 1000, postgresMs };
}
