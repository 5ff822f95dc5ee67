// R20 / API.md "CLI": what stops `casella serve` (or any command) from starting is said on one line,
// naming the problem and the fix, with exit code 1 and no stack trace: a port in use, a database
// that cannot be reached, a bad configuration. Errors not recognised here are bugs and keep theirs.

/** The database's place without its password, for a message. */
export function databasePlace(url: string | undefined): string {
  if (!url) return 'the embedded database';
  try {
    const u = new URL(url);
    return `PostgreSQL at ${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname && u.pathname !== '/' ? ` (database ${decodeURIComponent(u.pathname.slice(1))})` : ''}`;
  } catch {
    return 'the PostgreSQL server DATABASE_URL names';
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);

/** A failure to open the database, as one line; null when it is not one of the known causes. */
export function databaseErrorLine(command: string, err: unknown, url: string | undefined): string | null {
  const { code, message } = (err ?? {}) as { code?: string; message?: string };
  const place = databasePlace(url);
  if (code && NETWORK_CODES.has(code)) {
    return `casella ${command}: cannot reach ${place} (${code}): start PostgreSQL there, or correct DATABASE_URL`;
  }
  if (code === '28P01' || code === '28000') return `casella ${command}: ${place} refused the login (${message}): correct the user or password in DATABASE_URL`;
  if (code === '3D000') return `casella ${command}: ${place}: ${message}: create it (createdb) or correct DATABASE_URL`;
  if (code === '57P03') return `casella ${command}: ${place} is starting up or shutting down: try again in a moment`;
  if (message && /password authentication|SASL|client password must be a string/i.test(message)) {
    return `casella ${command}: ${place} refused the login (${message}): correct the user or password in DATABASE_URL`;
  }
  return null;
}

/** A failure to listen, as one line; null when it is not one of the known causes. */
export function listenErrorLine(err: unknown, host: string, port: number): string | null {
  const code = (err as { code?: string })?.code;
  if (code === 'EADDRINUSE') {
    return `casella serve: port ${port} on ${host} is already in use (another casella serve?): stop that process, or set PORT to a free port`;
  }
  if (code === 'EACCES') return `casella serve: port ${port} on ${host} needs privileges this user lacks: set PORT to 1024 or above (and let the reverse proxy listen on 80/443)`;
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `casella serve: cannot listen on ${host} (${code}): it is not an address of this machine; set HOST to one (127.0.0.1, or 0.0.0.0 for all)`;
  }
  return null;
}
