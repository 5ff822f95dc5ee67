// The holder's pages (SPEC section 4, API.md "Web customer area"): server-rendered HTML that works
// without JavaScript; /assets/casella.js only adds a live price on the purchase form. Each group of
// pages is a module of src/web/pages; what they share is src/web/kit.ts.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { App } from '../app.ts';
import type { PaymentGateway } from '../payments/gateway.ts';
import { webKit } from './kit.ts';
import { sessionPages } from './pages/session-pages.ts';
import { mailboxPages } from './pages/mailbox-pages.ts';
import { extraSpacePages } from './pages/extra-space-pages.ts';
import { orderPages } from './pages/order-pages.ts';
import { creditPages } from './pages/credit-pages.ts';
import { profilePages } from './pages/profile-pages.ts';
import { twoStepPages } from './pages/two-step-pages.ts';
import { invoicePages } from './pages/invoice-pages.ts';
import { recoveryPages } from './pages/recovery-pages.ts';
import { paymentMethodPages } from './pages/payment-method-pages.ts';

const ASSET_CACHE = 'public, max-age=3600';
const asset = (name: string): string => readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8');

export async function webRoutes(server: FastifyInstance, opts: { app: App; gateway: PaymentGateway }): Promise<void> {
  const css = asset('casella.css');
  const js = asset('casella.js');
  const icon = asset('favicon.svg');

  server.get('/assets/casella.css', { schema: { hide: true } }, async (_req, reply) =>
    reply.header('cache-control', ASSET_CACHE).type('text/css; charset=utf-8').send(css),
  );
  server.get('/assets/casella.js', { schema: { hide: true } }, async (_req, reply) =>
    reply.header('cache-control', ASSET_CACHE).type('text/javascript; charset=utf-8').send(js),
  );

  server.get('/assets/favicon.svg', { schema: { hide: true } }, async (_req, reply) =>
    reply.header('cache-control', ASSET_CACHE).type('image/svg+xml').send(icon),
  );
  const logo = opts.app.config.brand.logo;
  if (logo) {
    server.get(logo.path, { schema: { hide: true } }, async (_req, reply) => reply.header('cache-control', ASSET_CACHE).type(logo.contentType).send(logo.bytes));
  }
  server.get('/favicon.ico', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/assets/favicon.svg', 301));

  const kit = webKit(opts.app, opts.gateway);
  sessionPages(server, kit);
  mailboxPages(server, kit);
  extraSpacePages(server, kit);
  orderPages(server, kit);
  creditPages(server, kit);
  profilePages(server, kit);
  twoStepPages(server, kit);
  invoicePages(server, kit);
  recoveryPages(server, kit);
  paymentMethodPages(server, kit);
}
