// Which gateway this process uses (PAYMENT_GATEWAY): `test` outside production, `stripe` by configuration.
import type { AppConfig } from '../config.ts';
import type { PaymentGateway } from './gateway.ts';
import { stripeGateway } from './stripe-gateway.ts';
import { testGateway } from './test-gateway.ts';

export function gatewayFor(config: AppConfig): PaymentGateway {
  if (config.paymentGateway === 'stripe') return stripeGateway(config.stripeSecretKey!, config.stripeWebhookSecret!);
  return testGateway(config.testGatewaySecret, () => config.publicUrl);
}
