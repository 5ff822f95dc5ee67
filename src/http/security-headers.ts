// Security headers on every response. The pages use no inline script or style, so the policy needs
// no 'unsafe-inline'; a route that sets its own policy (the API docs) keeps it.
import type { FastifyReply, FastifyRequest } from 'fastify';

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  // The test gateway's page and Stripe Checkout are the only other places a form may lead.
  "form-action 'self' https://checkout.stripe.com",
].join('; ');

/** The headers every response carries, also those written straight to the socket (clientErrorHandler). */
export function securityHeaderValues(publicUrl: string): Record<string, string> {
  return {
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
    ...(publicUrl.startsWith('https:') ? { 'strict-transport-security': 'max-age=31536000' } : {}),
    'cache-control': 'no-store',
  };
}

/** A route's own policy (the API docs) and caching rule win. */
const KEPT_WHEN_SET = new Set(['content-security-policy', 'cache-control']);

export function securityHeaders(publicUrl: string) {
  const values = Object.entries(securityHeaderValues(publicUrl));
  return async (_req: FastifyRequest, reply: FastifyReply) => {
    for (const [name, value] of values) if (!(KEPT_WHEN_SET.has(name) && reply.hasHeader(name))) reply.header(name, value);
  };
}
