// A real Casella server on a loopback port, over either engine, with a test clock and an operator.
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { openApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { buildServer, type ServerOptions } from '../../src/http/server.ts';
import { createOperator } from '../../src/services/staff/operators.ts';
import { clock } from '../../src/clock.ts';
import { after, before, describe } from 'node:test';
import { engineNames, freshPostgresUrl, type EngineName } from './engines.ts';
import { PERSON_PROFILE } from './billing.ts';
import { copyPgliteTemplate } from './templates.ts';

export interface TestServer {
  app: App;
  server: FastifyInstance;
  baseUrl: string;
  operatorToken: string;
  /** Every log line the server wrote. */
  logs: string[];
  /** Stops the server and closes the database (keeps it, for a restart). */
  stop: () => Promise<void>;
  /** Stops and throws the database away. */
  close: () => Promise<void>;
}

export interface StoredDatabase {
  env: Record<string, string>;
  drop: () => Promise<void>;
}

/**
 * A database that outlives one server: a PostgreSQL database or an embedded data directory, each
 * already migrated (a copy of the run's template, test/support/templates.ts).
 */
export async function storedDatabase(engine: EngineName): Promise<StoredDatabase> {
  if (engine === 'postgres') {
    const pg = await freshPostgresUrl();
    return { env: { DATABASE_URL: pg.url }, drop: pg.drop };
  }
  const dir = mkdtempSync(join(tmpdir(), 'casella-http-'));
  await copyPgliteTemplate(dir);
  return { env: { CASELLA_DATA_DIR: dir }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startServerOn(db: StoredDatabase, extraEnv: Record<string, string> = {}, opts: ServerOptions = {}): Promise<Omit<TestServer, 'close'>> {
  const config = loadConfig({ CASELLA_TEST_CLOCK: '1', ...db.env, ...extraEnv });
  const app = await openApp(config);
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const server = await buildServer(app, { logStream, ...opts });
  await server.listen({ port: 0, host: '127.0.0.1' });
  const address = server.addresses().find((a) => typeof a !== 'string' && a.family === 'IPv4');
  const baseUrl = `http://127.0.0.1:${(address as { port: number }).port}`;
  app.config.publicUrl = baseUrl;
  app.ctx.publicUrl = baseUrl;
  const { token } = await createOperator(app.db, 'test operator');
  return {
    app,
    server,
    baseUrl,
    operatorToken: token,
    logs,
    stop: async () => {
      await server.close();
      await app.db.close();
    },
  };
}

export async function startTestServer(engine: EngineName, extraEnv: Record<string, string> = {}, opts: ServerOptions = {}): Promise<TestServer> {
  const db = await storedDatabase(engine);
  const s = await startServerOn(db, extraEnv, opts);
  return {
    ...s,
    close: async () => {
      await s.stop();
      clock.set(null);
      await db.drop();
    },
  };
}

export interface Response<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A small JSON client that keeps a holder's cookie and CSRF token, like a browser's fetch would. */
export class Client {
  cookie = '';
  csrfToken = '';
  constructor(
    readonly baseUrl: string,
    readonly bearer: string | null = null,
  ) {}

  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response<T>> {
    const h: Record<string, string> = { ...headers };
    if (body !== undefined) h['content-type'] ??= 'application/json';
    if (this.cookie) h.cookie = this.cookie;
    if (this.bearer) h.authorization = `Bearer ${this.bearer}`;
    if (this.csrfToken && method !== 'GET' && !('x-csrf-token' in h)) h['x-csrf-token'] = this.csrfToken;
    const res = await fetch(this.baseUrl + path, {
      method,
      headers: h,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      redirect: 'manual',
    });
    // The holder's session cookie, or a staff member's console cookie (R19), as a browser keeps it.
    const setCookie = res.headers.get('set-cookie');
    const m = setCookie ? /(casella_session|casella_staff)=([^;]*)/.exec(setCookie) : null;
    if (m) this.cookie = m[2] ? `${m[1]}=${m[2]}` : '';
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, headers: res.headers, body: parsed };
  }

  get = <T = any>(path: string, headers?: Record<string, string>) => this.request<T>('GET', path, undefined, headers);
  post = <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => this.request<T>('POST', path, body, headers);
  patch = <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => this.request<T>('PATCH', path, body, headers);
  put = <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => this.request<T>('PUT', path, body, headers);
  delete = <T = any>(path: string, headers?: Record<string, string>) => this.request<T>('DELETE', path, undefined, headers);

  async login(address: string, password: string): Promise<Response> {
    const res = await this.post('/api/session', { address, password });
    if (res.status === 200) this.csrfToken = res.body.csrfToken;
    return res;
  }
}

/** Pays a top-up on the test gateway's page, as the holder's browser would. */
export async function payByCard(checkoutUrl: string, cardNumber = '4242424242424242', expiry = '12/34', cvc = '123') {
  const res = await fetch(checkoutUrl, { method: 'POST', body: new URLSearchParams({ cardNumber, expiry, cvc }), redirect: 'manual' });
  return { status: res.status, location: res.headers.get('location'), text: await res.text() };
}

let seq = 0;
/** A holder with one mailbox (and optional credit), provisioned through the operator API. */
export async function provisionHolder(
  op: Client,
  opts: { expiresOn?: string; creditCents?: number; type?: 'standard' | 'pro'; locale?: 'it' | 'en'; usedBytes?: number; mailboxes?: number; billingProfile?: boolean } = {},
) {
  const n = ++seq;
  const c = await op.post('/api/admin/customers', {
    name: `Studio ${n}`,
    referenceEmail: `studio${n}.${process.pid}@example.com`,
    ...(opts.locale ? { locale: opts.locale } : {}),
  });
  if (c.status !== 201) throw new Error(`customer: ${c.status} ${JSON.stringify(c.body)}`);
  const customer = c.body.customer;
  const password = 'segreta-casella-1';
  const mailboxes: any[] = [];
  for (let i = 0; i < (opts.mailboxes ?? 1); i++) {
    const m = await op.post('/api/admin/mailboxes', {
      customerId: customer.id,
      address: `box${n}-${i}.${process.pid}@pec.casella.test`,
      password,
      type: opts.type ?? 'standard',
      expiresOn: opts.expiresOn ?? '2026-12-01',
      ...(opts.usedBytes !== undefined ? { usedBytes: opts.usedBytes } : {}),
    });
    if (m.status !== 201) throw new Error(`mailbox: ${m.status} ${JSON.stringify(m.body)}`);
    mailboxes.push(m.body.mailbox);
  }
  if (opts.creditCents) {
    const a = await op.post(`/api/admin/customers/${customer.id}/credit-adjustments`, { amountCents: opts.creditCents, reason: 'credito iniziale' });
    if (a.status !== 201) throw new Error(`credit: ${a.status} ${JSON.stringify(a.body)}`);
  }
  // R15: billing data come before the first card payment; a test about their absence says so.
  if (opts.billingProfile !== false) {
    const b = await op.put(`/api/admin/customers/${customer.id}/billing-profile`, PERSON_PROFILE);
    if (b.status !== 200) throw new Error(`billing profile: ${b.status} ${JSON.stringify(b.body)}`);
  }
  return { customer, mailboxes, mailbox: mailboxes[0], password };
}

export interface ServerUnderTest {
  s: TestServer;
  /** The operator's client. */
  op: Client;
}

/**
 * describe() once per engine around one real server, started with the clock at `startsAt` (Rome).
 * The body gets `t`, whose `s` (the server) and `op` (the operator's client) are there inside tests.
 */
export function forEachServer(title: string, body: (t: ServerUnderTest) => void, startsAt = '2026-06-10T10:00'): void {
  for (const engine of engineNames()) {
    describe(`${title} [${engine}]`, () => {
      let under: ServerUnderTest | undefined;
      const started = (): ServerUnderTest => {
        if (!under) throw new Error('server not started');
        return under;
      };
      before(async () => {
        clock.setRome(startsAt);
        const s = await startTestServer(engine);
        under = { s, op: new Client(s.baseUrl, s.operatorToken) };
      });
      after(async () => under?.s.close());
      body({
        get s() {
          return started().s;
        },
        get op() {
          return started().op;
        },
      });
    });
  }
}
