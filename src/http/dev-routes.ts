// /dev/mail: without SMTP_URL (and never in production) e-mails stay in the outbox; this page shows
// them, newest first, so a developer can read what holders would receive. It shows every holder's
// e-mails (reset links included), so it answers only the machine itself: a developer's browser on
// loopback, never a client on the network, to which it does not exist.
import type { FastifyInstance } from 'fastify';
import type { App } from '../app.ts';
import { emailBrandOf } from '../brand.ts';
import { listOutbox } from '../mail/delivery.ts';
import { ApiError } from './errors.ts';
import { html } from '../web/html.ts';
import { page } from '../web/layout.ts';

const SHOWN_MAX = 200;

/** 127.0.0.0/8, ::1, and IPv4 loopback as an IPv6 socket reports it. */
const LOOPBACK = /^(?:127(?:\.\d{1,3}){3}|::1|::ffff:127(?:\.\d{1,3}){3})$/i;
export const isLoopback = (ip: string): boolean => LOOPBACK.test(ip);

export async function devRoutes(server: FastifyInstance, opts: { app: App }) {
  const { app } = opts;
  // Read per request: the public URL may be settled after the routes are (a test server's port).
  const brand = () => emailBrandOf(app.config.brand, app.config.publicUrl);
  server.addHook('onRequest', async (req) => {
    // Behind a trusted proxy on this machine the peer is always loopback: the client (req.ip) must be too.
    if (!isLoopback(req.socket.remoteAddress ?? '') || !isLoopback(req.ip)) throw new ApiError('not_found', 'Not found');
  });
  server.get('/dev/mail.json', { schema: { hide: true } }, async () => ({ emails: await listOutbox(app.db, SHOWN_MAX, brand()) }));
  server.get('/dev/mail', { schema: { hide: true } }, async (_req, reply) => {
    const emails = await listOutbox(app.db, SHOWN_MAX, brand());
    const body = html`<h1>Posta in uscita (sviluppo)</h1>
<p class="muted">SMTP_URL non è impostato: le e-mail restano qui. Le più recenti per prime (al massimo ${SHOWN_MAX}).</p>
${emails.length === 0 ? html`<p>Nessuna e-mail.</p>` : ''}
${emails.map(
  (e) => html`<article class="card mail">
  <h2>${e.subject}</h2>
  <p class="muted small">A: ${e.to_address} · ${e.created_at.toISOString()} · ${e.status}</p>
  <pre>${e.text_body}</pre>
</article>`,
)}`;
    return reply.type('text/html; charset=utf-8').send(page({ lang: 'it', title: 'Posta in uscita', body, brand: app.config.brand }));
  });
}
