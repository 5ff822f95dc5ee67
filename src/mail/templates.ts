// The holder's e-mails, in Italian and English (R13). Subjects begin as API.md "E-mail" fixes.
import type { CalendarDate } from '../domain/calendar.ts';
import type { Cents } from '../domain/money.ts';
import { longDate, money, type Locale } from '../i18n/format.ts';
import type { EmailContent } from './message.ts';

const t = (locale: Locale, it: string, en: string): string => (locale === 'en' ? en : it);

/** A net price, as the catalogue and the credit count it: VAT is paid on top-ups, not here. */
const net = (c: Cents, locale: Locale): string => `${money(c, locale)} ${t(locale, '(IVA esclusa)', '(VAT excluded)')}`;

export function topupReceipt(
  locale: Locale,
  d: { amountCents: Cents; vatCents: Cents; chargeCents: Cents; balanceCents: Cents; creditUrl: string; invoicePdfUrl: string },
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
      // R15: the invoice goes to SdI; the holder gets its courtesy copy here.
      { link: t(locale, 'Fattura (copia di cortesia, PDF)', 'Invoice (courtesy copy, PDF)'), href: d.invoicePdfUrl },
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
          [t(locale, 'Importo', 'Amount'), net(d.amountCents, locale)],
          [t(locale, 'Attivo fino al', 'Active until'), longDate(d.activeUntil, locale)],
          [t(locale, 'Credito residuo', 'Credit balance'), money(d.balanceCents, locale)],
        ],
      },
      { link: t(locale, 'Scheda della casella', 'Mailbox card'), href: d.mailboxUrl },
    ],
  };
}

const gb = (bytes: number, locale: Locale): string => {
  const v = (bytes / 1024 ** 3).toFixed(2);
  return `${locale === 'en' ? v : v.replace('.', ',')} GB`;
};

export type RenewalMailKind = 'renewal_completed' | 'addon_deactivated' | 'mailbox_expired';

export interface RenewalMailData {
  address: string;
  periodEndsOn: CalendarDate;
  newExpiresOn: CalendarDate | null;
  mailbox: { outcome: 'renewed' | 'expired'; priceCents: Cents; reason: 'auto_renew_off' | 'insufficient_credit' | 'overdue_too_long' | null };
  addon: {
    outcome: 'renewed' | 'deactivated' | 'none';
    quantityGb: number;
    priceCents: Cents;
    reason: 'auto_renew_off' | 'insufficient_credit' | 'mailbox_expired' | null;
  };
  chargedCents: Cents;
  balanceCents: Cents;
  missingCents: Cents;
  /** Set when the mailbox holds more mail than its space after the renewal (R7.4). */
  overQuota: { usedBytes: number; totalBytes: number } | null;
  graceEndsOn: CalendarDate;
  mailboxUrl: string;
  creditUrl: string;
}

/** The most important outcome decides the subject: expiry, then deactivation, then the receipt. */
export const renewalMailKind = (d: Pick<RenewalMailData, 'mailbox' | 'addon'>): RenewalMailKind =>
  d.mailbox.outcome === 'expired' ? 'mailbox_expired' : d.addon.outcome === 'deactivated' ? 'addon_deactivated' : 'renewal_completed';

/** R7.4: what the renewal on day E did to a mailbox and its extra space. */
export function renewalOutcome(locale: Locale, d: RenewalMailData): EmailContent {
  const kind = renewalMailKind(d);
  const subject =
    kind === 'mailbox_expired'
      ? t(locale, `Casella scaduta: ${d.address}`, `Mailbox expired: ${d.address}`)
      : kind === 'addon_deactivated'
        ? t(locale, `Servizio aggiuntivo disattivato: ${d.address}`, `Add-on service deactivated: ${d.address}`)
        : t(locale, `Rinnovo effettuato: ${d.address}`, `Renewal completed: ${d.address}`);
  const blocks: EmailContent['blocks'][number][] = [];
  if (d.mailbox.outcome === 'renewed') {
    blocks.push({
      p: t(
        locale,
        `La casella ${d.address} è stata rinnovata fino al ${longDate(d.newExpiresOn!, 'it')}.`,
        `Mailbox ${d.address} has been renewed until ${longDate(d.newExpiresOn!, 'en')}.`,
      ),
    });
  } else {
    const why =
      d.mailbox.reason === 'auto_renew_off'
        ? t(locale, 'il rinnovo automatico era disattivato', 'automatic renewal was switched off')
        : d.mailbox.reason === 'overdue_too_long'
          ? t(locale, 'era scaduta da più di due anni e i rinnovi arretrati non vengono addebitati', 'it was overdue by more than two years, and missed years are not charged')
          : t(locale, `il credito non bastava (mancavano ${money(d.missingCents, 'it')})`, `the credit was not enough (${money(d.missingCents, 'en')} short)`);
    blocks.push({
      p: t(
        locale,
        `La casella ${d.address} è scaduta il ${longDate(d.periodEndsOn, 'it')} e non è stata rinnovata: ${why}. Puoi ancora rinnovarla dal credito fino al ${longDate(d.graceEndsOn, 'it')}; dopo quella data sarà cessata.`,
        `Mailbox ${d.address} expired on ${longDate(d.periodEndsOn, 'en')} and was not renewed: ${why}. You can still renew it from your credit until ${longDate(d.graceEndsOn, 'en')}; after that date it will be terminated.`,
      ),
    });
  }
  if (d.addon.outcome === 'deactivated') {
    const why =
      d.addon.reason === 'mailbox_expired'
        ? t(locale, 'la casella è scaduta', 'the mailbox expired')
        : d.addon.reason === 'auto_renew_off'
          ? t(locale, 'il suo rinnovo automatico era disattivato', 'its automatic renewal was switched off')
          : t(locale, `il credito non bastava (mancavano ${money(d.missingCents, 'it')})`, `the credit was not enough (${money(d.missingCents, 'en')} short)`);
    blocks.push({
      p: t(
        locale,
        `Il servizio aggiuntivo Spazio Extra Inbox (${d.addon.quantityGb} GB) è stato disattivato: ${why}. Lo spazio della casella torna a quello di base.`,
        `The add-on Extra inbox space (${d.addon.quantityGb} GB) has been deactivated: ${why}. The mailbox's space falls back to its base.`,
      ),
    });
  }
  const rows: [string, string][] = [];
  rows.push([t(locale, 'Casella', 'Mailbox'), d.address]);
  if (d.mailbox.outcome === 'renewed') rows.push([t(locale, 'Rinnovo casella', 'Mailbox renewal'), net(d.mailbox.priceCents, locale)]);
  if (d.addon.outcome === 'renewed') {
    rows.push([t(locale, `Spazio Extra Inbox ${d.addon.quantityGb} GB`, `Extra inbox space ${d.addon.quantityGb} GB`), net(d.addon.priceCents, locale)]);
  }
  rows.push([t(locale, 'Addebitato sul credito', 'Charged to your credit'), net(d.chargedCents, locale)]);
  rows.push([t(locale, 'Credito residuo', 'Credit balance'), money(d.balanceCents, locale)]);
  if (d.newExpiresOn) rows.push([t(locale, 'Nuova scadenza', 'New expiry date'), longDate(d.newExpiresOn, locale)]);
  blocks.push({ rows });
  if (d.overQuota) {
    blocks.push({
      warning: t(
        locale,
        `La casella contiene ${gb(d.overQuota.usedBytes, 'it')} di posta, più del suo spazio di ${gb(d.overQuota.totalBytes, 'it')}. I nuovi messaggi PEC saranno rifiutati (il mittente riceve un avviso di mancata consegna e tu non ricevi nulla) finché non acquisti altro spazio o non elimini dei messaggi.`,
        `The mailbox holds ${gb(d.overQuota.usedBytes, 'en')} of mail, more than its space of ${gb(d.overQuota.totalBytes, 'en')}. New PEC messages will be refused (the sender gets a non-delivery notice and you get nothing) until you buy more space or remove mail.`,
      ),
    });
  }
  if (d.missingCents > 0) blocks.push({ link: t(locale, 'Ricarica il credito', 'Top up your credit'), href: d.creditUrl });
  blocks.push({ link: t(locale, 'Scheda della casella', 'Mailbox card'), href: d.mailboxUrl });
  return { subject, blocks };
}

/** R7.5: extra space ending before its mailbox, renewed from credit on its own end or deactivated. */
export function addonRenewalOutcome(
  locale: Locale,
  d: {
    address: string;
    quantityGb: number;
    periodEndsOn: CalendarDate;
    outcome: 'renewed' | 'deactivated';
    reason: 'auto_renew_off' | 'insufficient_credit' | null;
    newActiveUntil: CalendarDate | null;
    priceCents: Cents;
    chargedCents: Cents;
    balanceCents: Cents;
    missingCents: Cents;
    mailboxUrl: string;
    creditUrl: string;
  },
): EmailContent {
  const blocks: EmailContent['blocks'][number][] = [];
  if (d.outcome === 'renewed') {
    blocks.push({
      p: t(
        locale,
        `Il servizio aggiuntivo Spazio Extra Inbox (${d.quantityGb} GB) della casella ${d.address} è stato rinnovato fino al ${longDate(d.newActiveUntil!, 'it')}.`,
        `The add-on Extra inbox space (${d.quantityGb} GB) of mailbox ${d.address} has been renewed until ${longDate(d.newActiveUntil!, 'en')}.`,
      ),
    });
  } else {
    const why =
      d.reason === 'auto_renew_off'
        ? t(locale, 'il suo rinnovo automatico era disattivato', 'its automatic renewal was switched off')
        : t(locale, `il credito non bastava (mancavano ${money(d.missingCents, 'it')})`, `the credit was not enough (${money(d.missingCents, 'en')} short)`);
    blocks.push({
      p: t(
        locale,
        `Il servizio aggiuntivo Spazio Extra Inbox (${d.quantityGb} GB) della casella ${d.address} è scaduto il ${longDate(d.periodEndsOn, 'it')} ed è stato disattivato: ${why}. Lo spazio della casella torna a quello di base.`,
        `The add-on Extra inbox space (${d.quantityGb} GB) of mailbox ${d.address} ended on ${longDate(d.periodEndsOn, 'en')} and has been deactivated: ${why}. The mailbox's space falls back to its base.`,
      ),
    });
  }
  const rows: [string, string][] = [[t(locale, 'Casella', 'Mailbox'), d.address]];
  if (d.outcome === 'renewed') rows.push([t(locale, `Spazio Extra Inbox ${d.quantityGb} GB`, `Extra inbox space ${d.quantityGb} GB`), net(d.priceCents, locale)]);
  rows.push([t(locale, 'Addebitato sul credito', 'Charged to your credit'), net(d.chargedCents, locale)]);
  rows.push([t(locale, 'Credito residuo', 'Credit balance'), money(d.balanceCents, locale)]);
  blocks.push({ rows });
  if (d.missingCents > 0) blocks.push({ link: t(locale, 'Ricarica il credito', 'Top up your credit'), href: d.creditUrl });
  blocks.push({ link: t(locale, 'Scheda della casella', 'Mailbox card'), href: d.mailboxUrl });
  return {
    subject:
      d.outcome === 'renewed'
        ? t(locale, `Rinnovo effettuato: ${d.address}`, `Renewal completed: ${d.address}`)
        : t(locale, `Servizio aggiuntivo disattivato: ${d.address}`, `Add-on service deactivated: ${d.address}`),
    blocks,
  };
}

/** What the renewal on E would do with one service, by the same plan the daily job follows. */
export type AlertServiceOutcome = 'renews' | 'needs_credit' | 'switched_off';

/**
 * R10: an expiry alert at a milestone before E. It promises an automatic renewal only where the
 * credit pays it today, and names extra space that will not be renewed.
 */
export function expiryAlert(
  locale: Locale,
  d: {
    address: string;
    expiresOn: CalendarDate;
    daysLeft: number;
    services: readonly { label: 'mailbox' | 'extra_inbox_space'; quantityGb?: number; priceCents: Cents; outcome: AlertServiceOutcome }[];
    /** What the services the holder wants renewed cost together. */
    totalCents: Cents;
    balanceCents: Cents;
    shortfallCents: Cents;
    /** The top-up that pays the shortfall: at least the minimum top-up. */
    topupCents: Cents;
    autoRenew: boolean;
    creditUrl: string;
  },
): EmailContent {
  const rows: [string, string][] = [
    [t(locale, 'Casella', 'Mailbox'), d.address],
    [t(locale, 'Data di scadenza', 'Expiry date'), longDate(d.expiresOn, locale)],
  ];
  const extraLabel = (gbs: number | undefined) => t(locale, `Spazio Extra Inbox ${gbs} GB`, `Extra inbox space ${gbs} GB`);
  for (const s of d.services) {
    const label = s.label === 'mailbox' ? t(locale, 'Rinnovo casella', 'Mailbox renewal') : extraLabel(s.quantityGb);
    rows.push([label, s.outcome === 'switched_off' && s.label !== 'mailbox' ? t(locale, 'non sarà rinnovato', 'will not be renewed') : net(s.priceCents, locale)]);
  }
  rows.push([t(locale, 'Totale', 'Total'), net(d.totalCents, locale)]);
  rows.push([t(locale, 'Credito residuo', 'Credit balance'), money(d.balanceCents, locale)]);
  if (d.shortfallCents > 0) rows.push([t(locale, 'Credito mancante', 'Shortfall'), money(d.shortfallCents, locale)]);
  const mailbox = d.services.find((s) => s.label === 'mailbox');
  const extra = d.services.find((s) => s.label === 'extra_inbox_space');
  const blocks: EmailContent['blocks'][number][] = [
    {
      p: t(
        locale,
        `La casella ${d.address} scade il ${longDate(d.expiresOn, 'it')} (tra ${d.daysLeft} ${d.daysLeft === 1 ? 'giorno' : 'giorni'}).`,
        `Mailbox ${d.address} expires on ${longDate(d.expiresOn, 'en')} (in ${d.daysLeft} ${d.daysLeft === 1 ? 'day' : 'days'}).`,
      ),
    },
  ];
  const topup = money(d.topupCents, 'it');
  const topupEn = money(d.topupCents, 'en');
  if (!d.autoRenew) {
    blocks.push({
      p: t(
        locale,
        'Il rinnovo automatico è disattivato: per non perdere la casella rinnovala dalla sua scheda prima della scadenza.',
        'Automatic renewal is switched off: to keep the mailbox, renew it from its card before the expiry date.',
      ),
    });
    if (d.shortfallCents > 0) {
      blocks.push({
        warning: t(
          locale,
          `Il credito non basta per rinnovarla: ricarica ${topup}.`,
          `Your credit does not cover renewing it: top up ${topupEn}.`,
        ),
      });
    }
  } else if (mailbox?.outcome === 'needs_credit') {
    blocks.push({
      warning: t(
        locale,
        `Il credito non basta per il rinnovo automatico: ricarica ${topup} prima del ${longDate(d.expiresOn, 'it')}, altrimenti la casella scadrà${extra ? ' e lo Spazio Extra Inbox sarà disattivato' : ''}.`,
        `Your credit does not cover the automatic renewal: top up ${topupEn} before ${longDate(d.expiresOn, 'en')}, or the mailbox will expire${extra ? ' and its extra inbox space will be deactivated' : ''}.`,
      ),
    });
  } else if (extra?.outcome === 'needs_credit') {
    blocks.push({
      p: t(
        locale,
        'Alla scadenza la casella sarà rinnovata automaticamente addebitandone il prezzo sul credito.',
        "On the expiry date the mailbox will be renewed automatically, charging its price to your credit.",
      ),
    });
    blocks.push({
      warning: t(
        locale,
        `Lo Spazio Extra Inbox (${extra.quantityGb} GB) invece non sarà rinnovato: il credito non basta. Ricarica ${topup} prima del ${longDate(d.expiresOn, 'it')} per rinnovare anche quello; altrimenti lo spazio della casella tornerà a quello di base.`,
        `Its extra inbox space (${extra.quantityGb} GB) will not be renewed, though: your credit does not cover it. Top up ${topupEn} before ${longDate(d.expiresOn, 'en')} to renew it too; otherwise the mailbox's space falls back to its base.`,
      ),
    });
  } else {
    blocks.push({
      p: t(
        locale,
        'Alla scadenza i servizi sotto elencati saranno rinnovati automaticamente addebitandone il prezzo sul credito.',
        'On the expiry date the services below will be renewed automatically, charging their price to your credit.',
      ),
    });
  }
  if (extra?.outcome === 'switched_off') {
    blocks.push({
      p: t(
        locale,
        `Lo Spazio Extra Inbox (${extra.quantityGb} GB) non sarà rinnovato: il suo rinnovo automatico è disattivato. Alla scadenza lo spazio della casella tornerà a quello di base.`,
        `The extra inbox space (${extra.quantityGb} GB) will not be renewed: its automatic renewal is switched off. On the expiry date the mailbox's space falls back to its base.`,
      ),
    });
  }
  blocks.push({ rows });
  blocks.push({ link: t(locale, 'Ricarica il credito', 'Top up your credit'), href: d.creditUrl });
  return {
    subject: t(locale, `Avviso scadenza servizio: ${d.address}`, `Service expiry notice: ${d.address}`),
    blocks,
  };
}

/** R11: usage crossed a threshold of the mailbox's total space. */
export function usageWarning(
  locale: Locale,
  d: { address: string; thresholdPercent: number; usedBytes: number; totalBytes: number; buySpaceUrl: string },
): EmailContent {
  const pct = d.totalBytes > 0 ? Math.floor((d.usedBytes * 100) / d.totalBytes) : 100;
  return {
    subject: t(locale, `Spazio in esaurimento: ${d.address}`, `Inbox space running low: ${d.address}`),
    blocks: [
      {
        p: t(
          locale,
          `La casella ${d.address} ha superato il ${d.thresholdPercent}% del suo spazio.`,
          `Mailbox ${d.address} has gone over ${d.thresholdPercent}% of its space.`,
        ),
      },
      {
        rows: [
          [t(locale, 'Spazio usato', 'Space used'), `${gb(d.usedBytes, locale)} (${pct}%)`],
          [t(locale, 'Spazio Inbox', 'Inbox space'), gb(d.totalBytes, locale)],
        ],
      },
      {
        p: t(
          locale,
          'Quando lo spazio è esaurito i nuovi messaggi PEC vengono rifiutati e il mittente riceve un avviso di mancata consegna. Puoi acquistare Spazio Extra Inbox o eliminare dei messaggi.',
          'When the space is full new PEC messages are refused and the sender gets a non-delivery notice. You can buy extra inbox space or remove mail.',
        ),
      },
      { link: t(locale, 'Acquista spazio', 'Buy space'), href: d.buySpaceUrl },
    ],
  };
}

/**
 * R8: the grace is over and the mailbox is terminated. Its mail is kept (Casella deletes nothing), but
 * the mailbox no longer receives nor logs in, and it can no longer be renewed here.
 */
export function mailboxTerminated(
  locale: Locale,
  d: { address: string; expiredOn: CalendarDate; graceEndedOn: CalendarDate; mailboxUrl: string },
): EmailContent {
  return {
    subject: t(locale, `Casella cessata: ${d.address}`, `Mailbox terminated: ${d.address}`),
    blocks: [
      {
        p: t(
          locale,
          `La casella ${d.address} è scaduta il ${longDate(d.expiredOn, 'it')} e non è stata rinnovata entro il ${longDate(d.graceEndedOn, 'it')}, l'ultimo giorno utile: da oggi è cessata.`,
          `Mailbox ${d.address} expired on ${longDate(d.expiredOn, 'en')} and was not renewed by ${longDate(d.graceEndedOn, 'en')}, the last day it could be: it is now terminated.`,
        ),
      },
      {
        p: t(
          locale,
          'La casella non riceve più messaggi PEC (chi ti scrive riceve un avviso di mancata consegna), non si può più accedervi e non si può più rinnovare da qui.',
          'The mailbox no longer receives PEC messages (senders get a non-delivery notice), can no longer be logged in to, and can no longer be renewed here.',
        ),
      },
      {
        p: t(
          locale,
          'La posta e i dati della casella non sono stati cancellati: restano conservati dal gestore. Per riaverli, o per riattivare l’indirizzo, scrivi all’assistenza del gestore. Il credito residuo resta tuo e puoi usarlo per le altre caselle o per acquistarne una nuova.',
          "The mailbox's mail and data have not been deleted: the provider keeps them. To get them back, or to have the address reactivated, write to the provider's support. Your remaining credit stays yours, for your other mailboxes or a new one.",
        ),
      },
      { link: t(locale, 'Scheda della casella', 'Mailbox card'), href: d.mailboxUrl },
    ],
  };
}
