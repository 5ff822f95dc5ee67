// The environment of API.md "Configuration", read and checked once at start.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { buildCatalogue, DEFAULT_CATALOGUE, type Catalogue } from './domain/catalogue.ts';
import { BrandError, DEFAULT_BRAND, readBrand, type Brand } from './brand.ts';
import { DEMO_SELLER, sellerProblems, type Seller } from './domain/invoice.ts';
import { bankAccountProblems, DEMO_BANK_ACCOUNT, normalisedBankAccount, type BankAccount } from './domain/bank-transfer.ts';

export type GatewayName = 'test' | 'stripe';
export type SdiChannelName = 'simulator' | 'directory';

export interface AppConfig {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  publicUrl: string;
  smtpUrl: string | undefined;
  mailFrom: string;
  operatorToken: string | undefined;
  /** R20: CASELLA_METRICS_TOKEN, a bearer token that may read GET /metrics from outside loopback. */
  metricsToken: string | undefined;
  /** R12: a session ends this long after login, however busy. */
  sessionLifetimeMs: number;
  testClock: boolean;
  paymentGateway: GatewayName;
  stripeSecretKey: string | undefined;
  stripeWebhookSecret: string | undefined;
  /** STRIPE_API_BASE: Stripe's API, or a stand-in of it (tests, an egress proxy); https in production. */
  stripeApiBase: string;
  production: boolean;
  catalogue: Catalogue;
  /** CASELLA_CONFIG `brand` (name, logo) and the legal footer from `seller`. */
  brand: Brand;
  /** Signs the test gateway's notifications; random per data directory unless set. */
  testGatewaySecret: string;
  /** R15: the provider's fiscal data on every invoice (CASELLA_CONFIG `seller`). */
  seller: Seller;
  /** True when no seller is configured and the demo seller stands in (never in production). */
  sellerIsDemo: boolean;
  /** R17: CASELLA_CONFIG `bankTransfer`; the demo account outside production; null (not offered) in production without one. */
  bankTransfer: BankAccount | null;
  /** R15: where invoices go (SDI_CHANNEL). */
  sdiChannel: SdiChannelName;
  /**
   * TRUST_PROXY: the reverse proxies in front, as a hop count or their addresses (Fastify's
   * trustProxy); false when unset: the peer's address is the client's and forwarded headers are ignored.
   */
  trustProxy: TrustProxy;
  /** SDI_OUTBOX_DIR, for the directory channel. */
  sdiOutboxDir: string | undefined;
  /** How long the SdI simulator takes to answer (SDI_SIMULATOR_DELAY_MS). */
  sdiSimulatorDelayMs: number;
}

export class ConfigError extends Error {}

export const STRIPE_API_BASE_DEFAULT = 'https://api.stripe.com/v1';

/**
 * STRIPE_API_BASE: an http(s) URL whose path is `/v1` (a trailing slash is dropped); only https in
 * production (it carries the secret key). Stripe's SDK takes a host, a port and a protocol and always
 * requests `/v1/...`, so a base with another path (a prefix on an egress proxy, say) is refused here
 * rather than silently ignored.
 */
function stripeApiBase(value: string | undefined, production: boolean): string {
  if (!value) return STRIPE_API_BASE_DEFAULT;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`STRIPE_API_BASE is not a URL: "${value}"`);
  }
  if (url.protocol !== 'https:' && (production || url.protocol !== 'http:')) {
    throw new ConfigError(`STRIPE_API_BASE must be an ${production ? 'https' : 'http or https'} URL: "${value}"`);
  }
  stripeApiAddress(value);
  return value.replace(/\/+$/, '');
}

/** Where Stripe's SDK sends its requests: STRIPE_API_BASE as the SDK's `host`, `port` and `protocol` options. */
export interface StripeApiAddress {
  host: string;
  port: number;
  protocol: 'http' | 'https';
}

/**
 * STRIPE_API_BASE as Stripe's SDK takes it. The SDK always requests `/v1/...` on the host, so the
 * base's path must be `/v1` (or `/v1/`); no credentials, query or fragment (the SDK would drop them).
 */
export function stripeApiAddress(base: string): StripeApiAddress {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new ConfigError(`STRIPE_API_BASE is not a URL: "${base}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`STRIPE_API_BASE must be an http or https URL: "${base}"`);
  if (url.pathname !== '/v1' && url.pathname !== '/v1/') {
    throw new ConfigError(`STRIPE_API_BASE must have the path /v1 (Stripe's SDK always requests /v1/... on the host; another path cannot be kept): "${base}"`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new ConfigError(`STRIPE_API_BASE must be scheme, host, optional port and /v1, without credentials, query or fragment: "${base}"`);
  }
  const protocol = url.protocol === 'https:' ? 'https' : 'http';
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : protocol === 'https' ? 443 : 80,
    protocol,
  };
}

/** false, a number of proxies, or the addresses (or CIDR ranges, or `loopback`) of the proxies trusted. */
export type TrustProxy = false | number | string[];

const TRUST_PROXY_HOPS_MAX = 10;
const PROXY_ADDRESS_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * API.md TRUST_PROXY: a hop count (`1`) or a comma-separated list of proxy addresses. Per-client
 * limits (R12) then count the client that X-Forwarded-For names, as the trusted proxies saw it.
 * `true` (trust whatever a client writes) is refused: any client could then pick its own address.
 */
export function trustProxy(value: string | undefined): TrustProxy {
  const text = (value ?? '').trim();
  if (text === '') return false;
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops < 1 || hops > TRUST_PROXY_HOPS_MAX) throw new ConfigError(`TRUST_PROXY must be a number of proxies from 1 to ${TRUST_PROXY_HOPS_MAX}, or their addresses; not "${text}"`);
    return hops;
  }
  const addresses = text.split(',').map((a) => a.trim());
  for (const address of addresses) {
    const [ip, bits, ...rest] = address.split('/');
    const family = isIP(ip ?? '');
    const bitsOk = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (!PROXY_ADDRESS_NAMES.has(address) && (!family || !bitsOk || rest.length)) {
      throw new ConfigError(
        `TRUST_PROXY must be how many reverse proxies stand in front (e.g. 1) or their addresses, comma-separated (e.g. 127.0.0.1,10.0.0.0/8, or loopback); "${address}" is neither`,
      );
    }
  }
  return addresses;
}

const SESSION_LIFETIME_HOURS_DEFAULT = 12;
const SESSION_LIFETIME_HOURS_MAX = 720;
/** API.md: operator tokens have at least 32 characters, of those a Bearer header can carry. */
const OPERATOR_TOKEN = /^[A-Za-z0-9._~+/=-]{32,200}$/;

function sessionLifetimeHours(value: string | undefined): number {
  if (value === undefined || value === '') return SESSION_LIFETIME_HOURS_DEFAULT;
  const hours = Number(value);
  if (!/^\d+$/.test(value) || hours < 1 || hours > SESSION_LIFETIME_HOURS_MAX) {
    throw new ConfigError(`CASELLA_SESSION_LIFETIME_HOURS must be a whole number of hours from 1 to ${SESSION_LIFETIME_HOURS_MAX}, not "${value}"`);
  }
  return hours;
}

function operatorToken(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (!OPERATOR_TOKEN.test(value)) {
    throw new ConfigError(
      `CASELLA_OPERATOR_TOKEN must have at least 32 characters (A-Z a-z 0-9 . _ ~ + / = -); it has ${value.length}: make one with "openssl rand -hex 32"`,
    );
  }
  return value;
}

function metricsToken(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (!OPERATOR_TOKEN.test(value)) {
    throw new ConfigError(
      `CASELLA_METRICS_TOKEN must have at least 32 characters (A-Z a-z 0-9 . _ ~ + / = -); it has ${value.length}: make one with "openssl rand -hex 32"`,
    );
  }
  return value;
}

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
  const stripeApi = stripeApiBase(env.STRIPE_API_BASE, production);
  const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, '');
  try {
    new URL(publicUrl);
  } catch {
    throw new ConfigError(`PUBLIC_URL is not a URL: "${publicUrl}"`);
  }
  let catalogue = DEFAULT_CATALOGUE;
  let brand = DEFAULT_BRAND;
  let sellerConfig: unknown;
  let bankTransfer: BankAccount | null = production ? null : DEMO_BANK_ACCOUNT;
  if (env.CASELLA_CONFIG) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(env.CASELLA_CONFIG, 'utf8'));
    } catch (err) {
      throw new ConfigError(`CASELLA_CONFIG ${env.CASELLA_CONFIG}: ${(err as Error).message}`);
    }
    // Brand: the provider's name, logo and legal footer (src/brand.ts), beside the catalogue.
    // `seller` (the provider's fiscal data) gives the footer; neither belongs to the catalogue.
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      try {
        brand = readBrand(parsed as Record<string, unknown>, env.CASELLA_CONFIG);
      } catch (err) {
        if (err instanceof BrandError) throw new ConfigError(`CASELLA_CONFIG ${env.CASELLA_CONFIG}: ${err.message}`);
        throw err;
      }
      const { brand: _brand, seller, bankTransfer: bankConfig, ...rest } = parsed as Record<string, unknown>;
      sellerConfig = seller;
      if (bankConfig !== undefined) {
        const problems = bankAccountProblems(bankConfig);
        if (problems.length) throw new ConfigError(`CASELLA_CONFIG ${env.CASELLA_CONFIG}: ${problems.join('; ')}`);
        bankTransfer = normalisedBankAccount(bankConfig as BankAccount);
      }
      parsed = rest;
    }
    catalogue = buildCatalogue(parsed);
  }
  const invoicing = invoicingConfig(env, production, sellerConfig);
  if (catalogue.vatRateBasisPoints <= 0) {
    throw new ConfigError('vatRatePercent must be above 0: invoices at 0 % would need a VAT exemption (Natura) Casella does not issue');
  }
  return {
    port,
    host: env.HOST ?? '127.0.0.1',
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.CASELLA_DATA_DIR ?? './data',
    publicUrl,
    smtpUrl: env.SMTP_URL || undefined,
    mailFrom: env.MAIL_FROM ?? 'Casella <noreply@localhost>',
    operatorToken: operatorToken(env.CASELLA_OPERATOR_TOKEN),
    metricsToken: metricsToken(env.CASELLA_METRICS_TOKEN),
    sessionLifetimeMs: sessionLifetimeHours(env.CASELLA_SESSION_LIFETIME_HOURS) * 3600_000,
    testClock,
    paymentGateway: gateway,
    stripeSecretKey: env.STRIPE_SECRET_KEY,
    stripeWebhookSecret: env.STRIPE_WEBHOOK_SECRET,
    stripeApiBase: stripeApi,
    production,
    catalogue,
    brand,
    testGatewaySecret: env.CASELLA_TEST_GATEWAY_SECRET ?? '',
    trustProxy: trustProxy(env.TRUST_PROXY),
    bankTransfer,
    ...invoicing,
  };
}

const SDI_SIMULATOR_DELAY_MS_DEFAULT = 3000;
const SDI_SIMULATOR_DELAY_MS_MAX = 24 * 3600_000;

/**
 * R15: invoicing is always on. The seller must be complete when configured, and configured in
 * production; elsewhere a demo seller stands in so that development and the demo need no setup.
 */
function invoicingConfig(env: NodeJS.ProcessEnv, production: boolean, sellerConfig: unknown) {
  let seller: Seller = DEMO_SELLER;
  const sellerIsDemo = sellerConfig === undefined;
  if (sellerIsDemo && production) {
    throw new ConfigError(
      'CASELLA_CONFIG must give `seller` in production (companyName, vatNumber, taxCode, taxRegime, address: street, postalCode, city, province, country; rea and shareCapitalCents for a company): every card payment issues an invoice',
    );
  }
  if (!sellerIsDemo) {
    const problems = sellerProblems(sellerConfig);
    if (problems.length) throw new ConfigError(`CASELLA_CONFIG seller is incomplete: ${problems.join('; ')}`);
    seller = normalisedSeller(sellerConfig as Seller);
  }
  const channel = (env.SDI_CHANNEL || (production ? '' : 'simulator')) as SdiChannelName;
  if (channel !== 'simulator' && channel !== 'directory') {
    throw new ConfigError(
      production && !env.SDI_CHANNEL ? 'SDI_CHANNEL must be set in production: "directory" (with SDI_OUTBOX_DIR)' : `SDI_CHANNEL must be "simulator" or "directory", not "${env.SDI_CHANNEL}"`,
    );
  }
  if (production && channel === 'simulator') throw new ConfigError('the SdI simulator is refused in production: use SDI_CHANNEL=directory');
  const dir = env.SDI_OUTBOX_DIR || undefined;
  if (channel === 'directory' && !dir) throw new ConfigError('SDI_CHANNEL=directory needs SDI_OUTBOX_DIR, the folder the invoice files are written to');
  const delayText = env.SDI_SIMULATOR_DELAY_MS;
  const delay = delayText === undefined || delayText === '' ? SDI_SIMULATOR_DELAY_MS_DEFAULT : Number(delayText);
  if (!Number.isInteger(delay) || delay < 0 || delay > SDI_SIMULATOR_DELAY_MS_MAX) {
    throw new ConfigError(`SDI_SIMULATOR_DELAY_MS must be a whole number of milliseconds from 0 to ${SDI_SIMULATOR_DELAY_MS_MAX}`);
  }
  return {
    seller,
    sellerIsDemo,
    sdiChannel: channel,
    sdiOutboxDir: dir ? (isAbsolute(dir) ? dir : resolve(dir)) : undefined,
    sdiSimulatorDelayMs: delay,
  };
}

function normalisedSeller(s: Seller): Seller {
  const a = s.address;
  return {
    companyName: s.companyName.trim(),
    vatNumber: s.vatNumber.trim(),
    taxCode: s.taxCode.trim(),
    taxRegime: s.taxRegime.trim(),
    address: {
      street: a.street.trim(),
      streetNumber: a.streetNumber ?? null,
      postalCode: a.postalCode.trim(),
      city: a.city.trim(),
      province: a.province ?? null,
      country: a.country.trim(),
    },
    transmitter: s.transmitter ?? null,
    rea: s.rea ? { office: s.rea.office, number: s.rea.number.trim() } : null,
    shareCapitalCents: s.shareCapitalCents ?? null,
  };
}
