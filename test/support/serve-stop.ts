// For the tests of `casella serve`'s stop (R20): raw HTTP/1.1 connections whose requests can be held
// in flight, and a served process with card top-ups waiting for their payment notifications.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { testNotification, TEST_SIGNATURE_HEADER } from '../../src/payments/test-gateway.ts';
import { Client, storedDatabase } from './http.ts';
import { servedWithHolders, type Served } from './serve-process.ts';

/** A raw HTTP/1.1 connection: what arrives is kept, so a test can read answers as they come. */
export async function rawConnection(baseUrl: string) {
  const { port } = new URL(baseUrl);
  const socket: Socket = connect(Number(port), '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  let closed = false;
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  socket.on('data', (c) => {
    received += String(c);
    wake();
  });
  socket.on('close', () => {
    closed = true;
    wake();
  });
  socket.on('error', () => {});
  const until = (check: () => boolean) =>
    new Promise<void>((resolve) => {
      const test = () => (check() ? resolve() : waiters.push(test));
      test();
    });
  return {
    socket,
    received: () => received,
    closed: () => closed,
    /** Resolves once what arrived matches. */
    untilReceived: (pattern: RegExp) => until(() => pattern.test(received) || closed),
    untilClosed: () => until(() => closed),
  };
}

export function webhookHead(baseUrl: string, n: { body: string; signature: string }, extra = ''): string {
  const { host } = new URL(baseUrl);
  return (
    `POST /api/payments/webhook/test HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
    `${TEST_SIGNATURE_HEADER}: ${n.signature}\r\nContent-Length: ${Buffer.byteLength(n.body)}\r\n${extra}\r\n`
  );
}

/** A holder with two pending card top-ups, on a served process, and their notifications. */
export async function servedWithTopups(engine: Parameters<typeof storedDatabase>[0]) {
  const stored = await storedDatabase(engine);
  const token = `cop_${randomBytes(16).toString('hex')}`;
  const secret = randomBytes(24).toString('base64url');
  const env = { ...stored.env, CASELLA_TEST_GATEWAY_SECRET: secret };
  const { served, holders } = await servedWithHolders(env, token, 1, 0);
  const c = new Client(served.baseUrl);
  assert.equal((await c.login(holders[0]!.mailbox.address, holders[0]!.password)).status, 200);
  const topupIds: string[] = [];
  for (const amountCents of [2000, 3000]) {
    const res = await c.post('/api/credit/topups', { amountCents });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    topupIds.push(res.body.topup.id);
  }
  const notifications = topupIds.map((topupId) => testNotification(secret, { topupId, outcome: 'succeeded', failureCode: null }, Math.floor(Date.now() / 1000)));
  return { stored, served, topupIds, notifications };
}

/** Sends the head of a notification with Expect: 100-continue: once 100 arrives, the request is in flight. */
export async function notificationInFlight(served: Served, n: { body: string; signature: string }) {
  const conn = await rawConnection(served.baseUrl);
  conn.socket.write(webhookHead(served.baseUrl, n, 'Expect: 100-continue\r\n'));
  await conn.untilReceived(/HTTP\/1\.1 100 Continue\r\n\r\n/);
  return conn;
}

