// /dev/mail: without SMTP_URL (and never in production) e-mails stay in the outbox; this page shows
// them, newest first, so a developer can read what holders would receive.
import type { FastifyInstance } from 'fastify';
import type { App } from '../app.ts';
import { listOutbox } from '../mail/delivery.ts';
import { html } from '../web/html.ts';
import { page } from '../web/layout.ts';

const SHOWN_MAX = 200;

export async function devRoutes(server: FastifyInstance, opts: { app: App }) {
  const { app } = opts;
  server.get('/dev/mail.json', { schema: { hide: true } }, async () => ({ emails: await listOutbox(app.db, SHOWN_MAX) }));
  server.get('/dev/mail', { schema: { hide: true } }, async (_req, reply) => {
    const emails = await listOutbox(app.db, SHOWN_MAX);
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
    return reply.type('text/html; charset=utf-8').send(page({ lang: 'it', title: 'Posta in uscita', body }));
  });
}
