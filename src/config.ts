// The environment of API.md "Configuration", read and checked once at start.
import { readFileSync } from 'node:fs';
import { buildCatalogue, DEFAULT_CATALOGUE, type Catalogue } from './domain/catalogue.ts';

export type GatewayName = 'test' | 'stripe';

export interface AppConfig {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  publicUrl: string;
  smtpUrl: string | undefined;
  mailFrom: string;
  operatorToken: string | undefined;
  testClock: boolean;
  paymentGateway: GatewayName;
  stripeSecretKey: string | undefined;
  stripeWebhookSecret: string | undefined;
  production: boolean;
  catalogue: Catalogue;
  /** Signs the test gateway's notifications; random per data directory unless set. */
  testGatewaySecret: string;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const production = env.NODE_ENV === 'production';
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`PORT must be a port number, not "${env.PORT}"`);
  const gateway = (env.PAYMENT_GATEWAY ?? 'test') as GatewayName;
  if (gateway !== 'test' && gateway !== 'stripe') throw new ConfigError(`PAYMENT_GATEWAY must be "test" or "stripe"`);
  if (production && gateway === 'test') throw new ConfigError('the test payment gateway is refused in production');
  const testClock = env.CASELLA_TEST_CLOCK === '1';
  if (production && testClock) throw new ConfigError('the test clock is refused in production');
  if (gateway === 'stripe' && (!env.STRIPE_SECRET_KEY || !env.STRIPE_WEBHOOK_SECRET)) {
    throw new ConfigError('PAYMENT_GATEWAY=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET');
  }
  const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, '');
  try {
    new URL(publicUrl);
  } catch {
    throw new ConfigError(`PUBLIC_URL is not a URL: "${publicUrl}"`);
  }
  let catalogue = DEFAULT_CATALOGUE;
  if (env.CASELLA_CONFIG) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(env.CASELLA_CONFIG, 'utf8'));
    } catch (err) {
      throw new ConfigError(`CASELLA_CONFIG ${env.CASELLA_CONFIG}: ${(err as Error).message}`);
    }
    catalogue = buildCatalogue(parsed);
  }
  return {
    port,
    host: env.HOST ?? '127.0.0.1',
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.CASELLA_DATA_DIR ?? './data',
    publicUrl,
    smtpUrl: env.SMTP_URL || undefined,
    mailFrom: env.MAIL_FROM ?? 'Casella <noreply@localhost>',
    operatorToken: env.CASELLA_OPERATOR_TOKEN || undefined,
    testClock,
    paymentGateway: gateway,
    stripeSecretKey: env.STRIPE_SECRET_KEY,
    stripeWebhookSecret: env.STRIPE_WEBHOOK_SECRET,
    production,
    catalogue,
    testGatewaySecret: env.CASELLA_TEST_GATEWAY_SECRET ?? '',
  };
}
