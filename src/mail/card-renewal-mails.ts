// R18's e-mails (subjects as API.md fixes them: `Pagamento non riuscito`, `Conferma il pagamento`,
// `Carta in scadenza`), Italian first and English beside it. Each one says exactly what happens at
// E if the holder does nothing.
import type { CalendarDate } from '../domain/calendar.ts';
import type { Cents } from '../domain/money.ts';
import { dictionary } from '../i18n/dictionary.ts';
import { longDate, money, type Locale } from '../i18n/format.ts';
import type { EmailContent } from './message.ts';

const it = {
  failedSubject: 'Pagamento non riuscito: rinnovo di {address}',
  failedIntro: 'Non è stato possibile addebitare {charge} sulla carta {brand} che termina con {last4} per il rinnovo automatico della casella {address} (motivo: {reason}).',
  retryOn: 'Riproveremo ad addebitare la carta il {on}.',
  noRetry: 'Non ci saranno altri tentativi di addebito.',
  orderWaiting: 'Nell’area clienti trovi l’ordine di rinnovo in attesa di pagamento fino al {until}: puoi pagarlo con una carta oppure annullarlo.',
  authSubject: 'Conferma il pagamento: rinnovo di {address}',
  authIntro: 'La tua banca chiede di confermare l’addebito di {charge} sulla carta {brand} che termina con {last4} per il rinnovo automatico della casella {address}.',
  authLink: 'Conferma il pagamento',
  atExpiryShort: 'Se non fai nulla, il {on} il credito ({balance}) non basterà per il rinnovo ({price}): la casella {address} scadrà e non potrà più inviare messaggi; potrai ancora rinnovarla dall’area clienti per {grace} giorni.',
  atExpiryShortExtra: 'Se non fai nulla, il {on} il credito ({balance}) non basterà per il rinnovo ({price}): la casella {address} scadrà e non potrà più inviare messaggi, e lo Spazio Extra Inbox sarà disattivato; potrai ancora rinnovare la casella dall’area clienti per {grace} giorni.',
  expiringSubject: 'Carta in scadenza: {brand} che termina con {last4}',
  expiringIntro: 'La carta {brand} che termina con {last4} scade a fine {expiry}: prima del prossimo addebito, il {on}, per il rinnovo automatico di {addresses}.',
  expiringWhat: 'Aggiungi una nuova carta in «Metodi di pagamento» e sceglila per il rinnovo di ciascuna casella.',
  expiringAtExpiryOne: 'Se non fai nulla, la carta non sarà addebitata: il {due}, alla scadenza, la casella {address} si rinnoverà solo se il credito basta; altrimenti scadrà e non potrà più inviare messaggi.',
  expiringAtExpiryMany: 'Se non fai nulla, la carta non sarà addebitata: alla scadenza di ciascuna casella, la prima il {due}, il rinnovo avverrà solo se il credito basta; altrimenti la casella scadrà e non potrà più inviare messaggi.',
  paymentMethods: 'Metodi di pagamento',
  ordersLink: 'Ordini in attesa',
  reasonDeclined: 'carta rifiutata',
  reasonFunds: 'fondi insufficienti',
  reasonExpired: 'carta scaduta',
  reasonAuthentication: 'la banca chiede che tu confermi il pagamento, quindi non riproveremo senza di te',
  reasonOther: 'pagamento non riuscito',
};
const en: { [K in keyof typeof it]: string } = {
  failedSubject: 'Payment failed: renewal of {address}',
  failedIntro: 'We could not charge {charge} to the {brand} card ending in {last4} for the automatic renewal of the mailbox {address} (reason: {reason}).',
  retryOn: 'We will try the card again on {on}.',
  noRetry: 'There will be no further attempts to charge the card.',
  orderWaiting: 'In the customer area the renewal order is waiting for payment until {until}: you can pay it by card or cancel it.',
  authSubject: 'Confirm the payment: renewal of {address}',
  authIntro: 'Your bank asks you to confirm the charge of {charge} to the {brand} card ending in {last4} for the automatic renewal of the mailbox {address}.',
  authLink: 'Confirm the payment',
  atExpiryShort: 'If you do nothing, on {on} the credit ({balance}) will not cover the renewal ({price}): the mailbox {address} will expire and can no longer send messages; you can still renew it from the customer area for {grace} days.',
  atExpiryShortExtra: 'If you do nothing, on {on} the credit ({balance}) will not cover the renewal ({price}): the mailbox {address} will expire and can no longer send messages, and its Extra Inbox Space will be switched off; you can still renew the mailbox from the customer area for {grace} days.',
  expiringSubject: 'Card expiring: {brand} ending in {last4}',
  expiringIntro: 'The {brand} card ending in {last4} expires at the end of {expiry}: before its next charge, on {on}, for the automatic renewal of {addresses}.',
  expiringWhat: 'Add a new card in "Payment methods" and choose it for the renewal of each mailbox.',
  expiringAtExpiryOne: 'If you do nothing, the card will not be charged: on {due}, at expiry, the mailbox {address} will renew only if the credit covers it; otherwise it will expire and can no longer send messages.',
  expiringAtExpiryMany: 'If you do nothing, the card will not be charged: at each mailbox\'s expiry, the first on {due}, it will renew only if the credit covers it; otherwise it will expire and can no longer send messages.',
  paymentMethods: 'Payment methods',
  ordersLink: 'Waiting orders',
  reasonDeclined: 'card declined',
  reasonFunds: 'insufficient funds',
  reasonExpired: 'card expired',
  reasonAuthentication: 'your bank asks you to confirm the payment, so we will not try again without you',
  reasonOther: 'payment failed',
};
const say = dictionary(it, en);

const reasonKey = (code: string) =>
  code === 'card_declined' ? 'reasonDeclined' : code === 'insufficient_funds' ? 'reasonFunds' : code === 'expired_card' ? 'reasonExpired' : code === 'authentication_required' ? 'reasonAuthentication' : 'reasonOther';

export interface CardChargeFacts {
  address: string;
  dueOn: CalendarDate;
  chargeCents: Cents;
  brand: string;
  last4: string;
  balanceCents: Cents;
  renewalPriceCents: Cents;
  hasExtraSpace: boolean;
  graceDays: number;
}

const atExpiry = (L: Locale, d: CardChargeFacts) =>
  say(L, d.hasExtraSpace ? 'atExpiryShortExtra' : 'atExpiryShort', {
    on: longDate(d.dueOn, L), balance: money(d.balanceCents, L), price: money(d.renewalPriceCents, L), address: d.address, grace: d.graceDays,
  });

export function cardChargeFailed(L: Locale, d: CardChargeFacts & { failureCode: string; retryOn: CalendarDate | null; orderWaitsUntil: CalendarDate | null; ordersUrl: string }): EmailContent {
  return {
    subject: say(L, 'failedSubject', { address: d.address }),
    blocks: [
      { p: say(L, 'failedIntro', { charge: money(d.chargeCents, L), brand: d.brand, last4: d.last4, address: d.address, reason: say(L, reasonKey(d.failureCode)) }) },
      { p: d.retryOn ? say(L, 'retryOn', { on: longDate(d.retryOn, L) }) : say(L, 'noRetry') },
      { warning: atExpiry(L, d) },
      // The order is there unless the holder's own renewal order was already waiting, or renewal closed.
      ...(d.orderWaitsUntil ? [{ p: say(L, 'orderWaiting', { until: longDate(d.orderWaitsUntil, L) }) }, { link: say(L, 'ordersLink'), href: d.ordersUrl }] : []),
    ],
  };
}

export function cardChargeNeedsAuthentication(L: Locale, d: CardChargeFacts & { actionUrl: string }): EmailContent {
  return {
    subject: say(L, 'authSubject', { address: d.address }),
    blocks: [
      { p: say(L, 'authIntro', { charge: money(d.chargeCents, L), brand: d.brand, last4: d.last4, address: d.address }) },
      { link: say(L, 'authLink'), href: d.actionUrl },
      { warning: atExpiry(L, d) },
    ],
  };
}

export function cardExpiring(
  L: Locale,
  d: { brand: string; last4: string; expMonth: number; expYear: number; chargeOn: CalendarDate; dueOn: CalendarDate; addresses: string[]; paymentMethodsUrl: string },
): EmailContent {
  const expiry = new Intl.DateTimeFormat(L === 'en' ? 'en-GB' : 'it-IT', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(Date.UTC(d.expYear, d.expMonth - 1, 1));
  return {
    subject: say(L, 'expiringSubject', { brand: d.brand, last4: d.last4 }),
    blocks: [
      { p: say(L, 'expiringIntro', { brand: d.brand, last4: d.last4, expiry, on: longDate(d.chargeOn, L), addresses: d.addresses.join(', ') }) },
      { p: say(L, 'expiringWhat') },
      {
        warning: d.addresses.length === 1
          ? say(L, 'expiringAtExpiryOne', { due: longDate(d.dueOn, L), address: d.addresses[0]! })
          : say(L, 'expiringAtExpiryMany', { due: longDate(d.dueOn, L) }),
      },
      { link: say(L, 'paymentMethods'), href: d.paymentMethodsUrl },
    ],
  };
}
