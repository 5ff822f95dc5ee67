// R12: login CSRF. A form on another site could log the victim into the attacker's account; the
// browser says where a request comes from (Sec-Fetch-Site, Origin), so logins from another site are
// refused. API clients send neither header and are not browsers: they pass.
import type { FastifyRequest } from 'fastify';

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/** True when a browser says this request was sent by a page of another site. */
export function fromAnotherSite(req: FastifyRequest, publicUrl: string): boolean {
  if (req.headers['sec-fetch-site'] === 'cross-site') return true;
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  // "null" (a sandboxed frame, a redirect across sites) names no page of ours.
  const given = originOf(origin);
  if (given === null) return true;
  if (given === originOf(publicUrl)) return false;
  return new URL(given).host !== req.headers.host;
}
