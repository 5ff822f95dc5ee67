// The holder's e-mails, in Italian and English (R13). Subjects begin as API.md "E-mail" fixes.
import type { CalendarDate } from '../domain/calendar.ts';
import type { Cents } from '../domain/money.ts';
import { longDate, money, type Locale } from '../i18n/format.ts';
import type { EmailContent } from './message.ts';

const t = (locale: Locale, it: string, en: string): string => (locale === 'en' ? en : it);

export function topupReceipt(
  locale: Locale,
  d: { amountCents: Cents; vatCents: Cents; chargeCents: Cents; balanceCents: Cents; creditUrl: string },
): EmailContent {
  return {
    subject: t(locale, `Ricarica effettuata: ${money(d.amountCents, 'it')}`, `Top-up completed: ${money(d.amountCents, 'en')}`),
    blocks: [
      { p: t(locale, 'La ricarica del credito è andata a buon fine.', 'Your credit top-up went through.') },
      {
        rows: [
          [t(locale, 'Credito ricaricato', 'Credit added'), money(d.amountCents, locale)],
          [t(locale, 'IVA', 'VAT'), money(d.vatCents, locale)],
          [t(locale, 'Addebitato sulla carta', 'Charged to the card'), money(d.chargeCents, locale)],
          [t(locale, 'Credito residuo', 'Credit balance'), money(d.balanceCents, locale)],
        ],
      },
      { link: t(locale, 'Movimenti del credito', 'Credit movements'), href: d.creditUrl },
    ],
  };
}

export function orderCompleted(
  locale: Locale,
  d: {
    address: string;
    kind: 'extra_inbox_space' | 'renewal';
    quantityGb: number;
    amountCents: Cents;
    activeUntil: CalendarDate;
    balanceCents: Cents;
    mailboxUrl: string;
  },
): EmailContent {
  const what =
    d.kind === 'renewal'
      ? t(locale, 'Rinnovo della casella', 'Mailbox renewal')
      : t(locale, `Spazio Extra Inbox: ${d.quantityGb} GB`, `Extra inbox space: ${d.quantityGb} GB`);
  return {
    subject: t(locale, `Ordine completato: ${d.address}`, `Order completed: ${d.address}`),
    blocks: [
      { p: t(locale, `Il tuo ordine per la casella ${d.address} è stato evaso.`, `Your order for mailbox ${d.address} is complete.`) },
      {
        rows: [
          [t(locale, 'Servizio', 'Service'), what],
          [t(locale, 'Importo', 'Amount'), money(d.amountCents, locale)],
          [t(locale, 'Attivo fino al', 'Active until'), longDate(d.activeUntil, locale)],
          [t(locale, 'Credito residuo', 'Credit balance'), money(d.balanceCents, locale)],
        ],
      },
      { link: t(locale, 'Scheda della casella', 'Mailbox card'), href: d.mailboxUrl },
    ],
  };
}
