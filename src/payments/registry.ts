// Which gateway this process uses (PAYMENT_GATEWAY): `test` outside production, `stripe` by configuration.
import type { AppConfig } from '../config.ts';
import type { PaymentGateway } from './gateway.ts';
import type { Database } from '../db/database.ts';
import { testSavedCardGateway, type SavedCardGateway } from './saved-cards.ts';
import { stripeGateway, stripeSavedCardGateway } from './stripe-gateway.ts';
import { testGateway } from './test-gateway.ts';

export function gatewayFor(config: AppConfig): PaymentGateway {
  if (config.paymentGateway === 'stripe') return stripeGateway(config.stripeSecretKey!, config.stripeWebhookSecret!, config.stripeApiBase);
  return testGateway(config.testGatewaySecret, () => config.publicUrl);
}

/** R18: the same gateway's saved cards (setup pages and off-session charges). */
export function savedCardGatewayFor(config: AppConfig, db: Database): SavedCardGateway {
  if (config.paymentGateway === 'stripe') return stripeSavedCardGateway(config.stripeSecretKey!, config.stripeApiBase, () => config.publicUrl);
  return testSavedCardGateway(db, () => config.publicUrl);
}
