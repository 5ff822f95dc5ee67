// Logs are JSON lines (one per request, with its request id `reqId`, which every answer also carries
// in its `x-request-id` header), for a log collector. On a terminal, outside production, the same
// lines are shown short and readable instead: time, level, message, then method, URL, status,
// milliseconds and request id.
import { Writable } from 'node:stream';

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields already shown in the short form, or too noisy for a terminal. */
const SHOWN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'reqId', 'req', 'res', 'responseTime']);

/** One JSON log line as one short line; lines that are not JSON pass through unchanged. */
export function terminalLine(jsonLine: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(jsonLine) as Record<string, unknown>;
  } catch {
    return jsonLine;
  }
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 19) : '';
  const level = (LEVEL_NAMES[entry.level as number] ?? String(entry.level)).padEnd(5);
  const req = entry.req as { method?: string; url?: string } | undefined;
  const res = entry.res as { statusCode?: number } | undefined;
  const parts = [time, level, String(entry.msg ?? '')];
  if (req?.method) parts.push(`${req.method} ${req.url ?? ''}`);
  if (res?.statusCode) parts.push(String(res.statusCode));
  if (typeof entry.responseTime === 'number') parts.push(`${entry.responseTime.toFixed(1)} ms`);
  if (entry.reqId) parts.push(`[${String(entry.reqId)}]`);
  const rest = Object.fromEntries(Object.entries(entry).filter(([k]) => !SHOWN.has(k)));
  if (Object.keys(rest).length) parts.push(JSON.stringify(rest));
  return parts.filter(Boolean).join(' ');
}

/** A stream for pino that writes each line in the short form to `out`. */
export function terminalLogStream(out: NodeJS.WritableStream): Writable {
  let pending = '';
  return new Writable({
    write(chunk, _encoding, callback) {
      pending += String(chunk);
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        out.write(`${terminalLine(pending.slice(0, newline))}\n`);
        pending = pending.slice(newline + 1);
      }
      callback();
    },
  });
}
