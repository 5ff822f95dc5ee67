// The test clock of API.md: only with CASELLA_TEST_CLOCK=1 (loadConfig refuses it in production).
// It only moves forward, and is saved so a restarted server and the CLI see the same "now".
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Temporal } from 'temporal-polyfill';
import { saveTestClock, type App } from '../app.ts';
import { clock } from '../clock.ts';
import { ApiError } from './errors.ts';
import { requireOperator } from './auth.ts';
import * as S from './schemas.ts';

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** An instant with its offset, or a calendar date meaning that day's midnight in Europe/Rome. */
export function parseClockInstant(s: string): number | null {
  try {
    if (INSTANT.test(s)) return Temporal.Instant.from(s).epochMilliseconds;
    if (DATE_ONLY.test(s)) return Temporal.PlainDate.from(s).toZonedDateTime('Europe/Rome').epochMilliseconds;
  } catch {
    return null;
  }
  return null;
}

export async function testClockRoutes(server: FastifyInstance, opts: { app: App }) {
  const { app } = opts;
  const r = server.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['test clock'];
  r.get('/api/test/clock', { schema: { tags, response: { 200: Type.Object({ now: Type.String() }) } } }, async () => ({
    now: clock.now().toISOString(),
  }));
  r.put(
    '/api/test/clock',
    { config: { role: 'admin' },
      onRequest: requireOperator(app),
      schema: { tags, security: [{ bearer: [] }], body: S.ClockBody, response: { 200: Type.Object({ now: Type.String() }), ...S.errors(401, 409, 422) } },
    },
    async (req) => {
      const ms = parseClockInstant(req.body.now);
      if (ms === null) throw new ApiError('validation_failed', 'now must be an ISO 8601 instant with offset', { now: 'must be like 2027-01-01T09:00:00+01:00' });
      if (ms < clock.nowMs()) throw new ApiError('clock_backwards', 'The test clock only moves forward');
      clock.set(ms);
      await saveTestClock(app.db, ms);
      return { now: clock.now().toISOString() };
    },
  );
}
