// API.md TRUST_PROXY, issue 19: behind a reverse proxy every request came from the proxy's address,
// so the per-client limits (R12) were one limit for everyone: 21 wrong logins for 21 addresses locked
// every holder out, 21 wrong operator tokens locked the operators out. Tested through a real reverse
// proxy on loopback (node:http, appending the peer to X-Forwarded-For as nginx's
// $proxy_add_x_forwarded_for does), with clients on distinct loopback addresses (127.0.0.N).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { FastifyInstance } from 'fastify';
import { clock } from '../../src/clock.ts';
import { buildServer } from '../../src/http/server.ts';
import { loadConfig, ConfigError, trustProxy } from '../../src/config.ts';
import { engineNames } from '../support/engines.ts';
import { Client, provisionHolder, startTestServer, type TestServer } from '../support/http.ts';

interface Answer {
  status: number;
  body: any;
}

/** One HTTP request from the loopback address `from` (each 127.0.0.N is another client). */
async function requestFrom(from: string, port: number, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const req = http.request({
    host: '127.0.0.1',
    port,
    method,
    path,
    localAddress: from,
    agent: false,
    headers: { ...(payload ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}), ...headers },
  });
  req.end(payload);
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  let text = '';
  for await (const chunk of res) text += String(chunk);
  return { status: res.statusCode!, body: text ? JSON.parse(text) : null };
}

/** A reverse proxy: forwards everything to `targetPort`, appending the peer's address to X-Forwarded-For. */
async function startProxy(targetPort: number): Promise<{ port: number; close: () => Promise<void> }> {
  const proxy = http.createServer((req, res) => {
    const peer = req.socket.remoteAddress!;
    const given = req.headers['x-forwarded-for'];
    const headers = { ...req.headers, 'x-forwarded-for': given ? `${given}, ${peer}` : peer };
    const upstream = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  return {
    port: (proxy.address() as { port: number }).port,
    close: () => new Promise<void>((resolve) => proxy.close(() => resolve())),
  };
}

const wrongLogin = (from: string, port: number, address: string, headers?: Record<string, string>) =>
  requestFrom(from, port, 'POST', '/api/session', { address, password: 'non-è-questa-1' }, headers);

test('TRUST_PROXY takes a hop count or proxy addresses; unset trusts nobody; `true` and junk are refused at start', () => {
  assert.equal(trustProxy(undefined), false);
  assert.equal(trustProxy(''), false);
  assert.equal(trustProxy('1'), 1);
  assert.deepEqual(trustProxy('127.0.0.1, 10.0.0.0/8,::1,loopback'), ['127.0.0.1', '10.0.0.0/8', '::1', 'loopback']);
  for (const bad of ['true', '0', '99', 'proxy.example.it', '10.0.0.0/40', '1.2.3']) {
    assert.throws(() => trustProxy(bad), ConfigError, bad);
  }
  assert.equal(loadConfig({ TRUST_PROXY: '1' }).trustProxy, 1);
  assert.equal(loadConfig({}).trustProxy, false);
});

for (const engine of engineNames()) {
  describe(`per-client limits behind a reverse proxy (TRUST_PROXY=1) [${engine}]`, () => {
    let s: TestServer;
    let op: Client;
    let proxy: { port: number; close: () => Promise<void> };
    let direct: FastifyInstance;
    let directPort: number;

    before(async () => {
      clock.setRome('2026-06-10T10:00');
      s = await startTestServer(engine, { TRUST_PROXY: '1' });
      op = new Client(s.baseUrl, s.operatorToken);
      proxy = await startProxy(Number(new URL(s.baseUrl).port));
      // The same application served without TRUST_PROXY, as it is by default.
      direct = await buildServer({ ...s.app, config: { ...s.app.config, trustProxy: false } });
      await direct.listen({ port: 0, host: '127.0.0.1' });
      directPort = (direct.addresses().find((a) => typeof a !== 'string' && a.family === 'IPv4') as { port: number }).port;
    });
    after(async () => {
      await direct?.close();
      await proxy?.close();
      await s?.close();
    });

    test('21 wrong logins from 21 clients for 21 addresses lock nobody else out; one client guessing is still stopped, whatever X-Forwarded-For it writes', async () => {
      const { mailbox, password } = await provisionHolder(op);
      for (let i = 0; i < 21; i++) {
        const answer = await wrongLogin(`127.0.0.${10 + i}`, proxy.port, `sconosciuto${i}@pec.casella.test`);
        assert.equal(answer.status, 401, `client ${i}: ${JSON.stringify(answer.body)}`);
      }
      const owner = await requestFrom('127.0.0.50', proxy.port, 'POST', '/api/session', { address: mailbox.address, password });
      assert.equal(owner.status, 200, `the holder behind the same proxy logs in: ${JSON.stringify(owner.body)}`);

      // One client rotating addresses and forging X-Forwarded-For: the proxy appends its real address.
      const statuses: number[] = [];
      for (let i = 0; i < 21; i++) {
        const forged = { 'x-forwarded-for': `203.0.113.${i + 1}` };
        statuses.push((await wrongLogin('127.0.0.60', proxy.port, `altro${i}@pec.casella.test`, forged)).status);
      }
      assert.deepEqual(statuses, [...Array(20).fill(401), 429], 'the 21st guess of one client is refused');
      const stillBlocked = await requestFrom('127.0.0.60', proxy.port, 'POST', '/api/session', { address: mailbox.address, password }, { 'x-forwarded-for': '198.51.100.7' });
      assert.equal(stillBlocked.status, 429);
      const neighbour = await requestFrom('127.0.0.61', proxy.port, 'POST', '/api/session', { address: mailbox.address, password });
      assert.equal(neighbour.status, 200);
    });

    test('21 wrong operator tokens from one client do not lock the operators out', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 21; i++) {
        const wrong = { authorization: `Bearer ${'sbagliato'.padEnd(40, String(i % 10))}` };
        statuses.push((await requestFrom('127.0.0.70', proxy.port, 'GET', '/api/admin/ledger/verify', undefined, wrong)).status);
      }
      assert.deepEqual(statuses, [...Array(20).fill(401), 429]);
      const operator = await requestFrom('127.0.0.71', proxy.port, 'GET', '/api/admin/ledger/verify', undefined, { authorization: `Bearer ${s.operatorToken}` });
      assert.equal(operator.status, 200, JSON.stringify(operator.body));
      const guesser = await requestFrom('127.0.0.70', proxy.port, 'GET', '/api/admin/ledger/verify', undefined, { authorization: `Bearer ${s.operatorToken}` });
      assert.equal(guesser.status, 429, 'the guessing client stays refused, even with a right token');
    });

    test('without TRUST_PROXY a forged X-Forwarded-For is ignored: the peer is the client', async () => {
      const { mailbox, password } = await provisionHolder(op);
      const statuses: number[] = [];
      for (let i = 0; i < 21; i++) {
        statuses.push((await wrongLogin('127.0.0.80', directPort, `forgiato${i}@pec.casella.test`, { 'x-forwarded-for': `192.0.2.${i + 1}` })).status);
      }
      assert.deepEqual(statuses, [...Array(20).fill(401), 429]);
      const forged = await requestFrom('127.0.0.80', directPort, 'POST', '/api/session', { address: mailbox.address, password }, { 'x-forwarded-for': '192.0.2.200', forwarded: 'for=192.0.2.201' });
      assert.equal(forged.status, 429);
    });
  });
}
