// The request and response schemas of API.md. Each is used for validation (unknown fields refused)
// and becomes the OpenAPI document at /api/openapi.json, so the contract and the check are one thing.
import { Type, type TSchema } from 'typebox';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
/** The patterns below, exported so that the error mapper (errors.ts) says in words what each asks for. */
export const DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}$';
export const MONTH_PATTERN = '^\\d{4}-(0[1-9]|1[0-2])$';
const DateString = Type.String({ pattern: DATE_PATTERN, description: 'YYYY-MM-DD, Europe/Rome calendar date' });
const Instant = Type.String({ description: 'ISO 8601 instant' });
const Id = Type.String({ minLength: 1, maxLength: 100 });
const strict = { additionalProperties: false } as const;

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      fields: Type.Optional(Type.Record(Type.String(), Type.String())),
    }),
  },
  { $id: 'Error' },
);

export const Customer = Type.Object({
  id: Type.String(),
  name: Type.String(),
  taxCode: Nullable(Type.String()),
  referenceEmail: Type.String(),
  locale: Type.Union([Type.Literal('it'), Type.Literal('en')]),
});

export const Mailbox = Type.Object({
  id: Type.String(),
  address: Type.String(),
  type: Type.Union([Type.Literal('standard'), Type.Literal('pro')]),
  status: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('suspended'), Type.Literal('terminated')]),
  expiresOn: DateString,
  autoRenew: Type.Boolean(),
  extraSpaceAutoRenew: Type.Boolean(),
  space: Type.Object({
    baseGb: Type.Number(),
    extraGb: Type.Integer(),
    totalGb: Type.Number(),
    usedBytes: Type.Integer(),
    totalBytes: Type.Integer(),
  }),
  addons: Type.Array(
    Type.Object({
      kind: Type.Literal('extra_inbox_space'),
      quantityGb: Type.Integer(),
      status: Type.Union([Type.Literal('active'), Type.Literal('deactivated')]),
      activeUntil: DateString,
      renewalPriceCents: Nullable(Type.Integer()),
    }),
  ),
  renewal: Nullable(
    Type.Object({
      dueOn: DateString,
      mailboxPriceCents: Type.Integer(),
      addonsPriceCents: Type.Integer(),
      totalCents: Type.Integer(),
    }),
  ),
  nextType: Nullable(Type.Union([Type.Literal('standard'), Type.Literal('pro')], { description: 'the type from the next renewal on, set by staff (R19); null: the same type' })),
  cardRenewal: Nullable(Type.Object({ paymentMethodId: Type.String(), last4: Type.String() }, { description: 'R18: renewal by this saved card; null when off' })),
});

const Rule = Type.Union([Type.Literal('full_year'), Type.Literal('free_until_expiry'), Type.Literal('remaining_months')]);

export const Quote = Type.Object({
  quantityGb: Type.Integer(),
  unitPriceCents: Type.Integer(),
  rule: Rule,
  amountCents: Type.Integer(),
  activeFrom: DateString,
  activeUntil: DateString,
  renewalOn: DateString,
  renewalAmountCents: Type.Integer(),
  renewalGb: Type.Integer(),
  balanceCents: Type.Integer(),
  shortfallCents: Type.Integer(),
});

export const Order = Type.Object({
  id: Type.String(),
  mailboxId: Type.String(),
  kind: Type.Union([Type.Literal('extra_inbox_space'), Type.Literal('renewal')]),
  quantityGb: Type.Integer(),
  rule: Nullable(Rule),
  amountCents: Type.Integer(),
  status: Type.Union([Type.Literal('completed'), Type.Literal('awaiting_topup'), Type.Literal('cancelled'), Type.Literal('expired')]),
  shortfallCents: Type.Integer(),
  topupRequiredCents: Type.Integer(),
  createdAt: Instant,
  completedAt: Nullable(Instant),
  activeUntil: Nullable(DateString),
  expiresAt: Instant,
  cancelReason: Nullable(
    Type.String({
      description:
        'Why a waiting order was cancelled, nothing charged, when its top-up came: mailbox_not_active, period_over, extra_space_changed, limit_exceeded, period_already_renewed, not_renewable; null otherwise',
    }),
  ),
});

export const CreditTransaction = Type.Object({
  id: Type.String(),
  at: Instant,
  kind: Type.Union([Type.Literal('topup'), Type.Literal('purchase'), Type.Literal('renewal'), Type.Literal('adjustment'), Type.Literal('refund')]),
  amountCents: Type.Integer(),
  balanceAfterCents: Type.Integer(),
  description: Type.String(),
  orderId: Nullable(Type.String()),
  mailboxId: Nullable(Type.String()),
});

const PaymentMethodKind = Type.Union([Type.Literal('card'), Type.Literal('saved_card'), Type.Literal('bank_transfer')]);
/** R16: standard (the catalogue's rate), or no Italian VAT for a business abroad (art. 7-ter DPR 633/72). */
const VatTreatment = Type.Union([Type.Literal('standard'), Type.Literal('reverse_charge'), Type.Literal('not_subject')]);
export const Topup = Type.Object({
  id: Type.String(),
  amountCents: Type.Integer(),
  vatCents: Type.Integer(),
  chargeCents: Type.Integer(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('expired')]),
  failureCode: Nullable(Type.String()),
  checkoutUrl: Nullable(Type.String()),
  orderId: Nullable(Type.String()),
  settledOrderIds: Type.Array(Type.String()),
  createdAt: Instant,
  invoiceId: Nullable(Type.String({ description: 'R15: the invoice of a succeeded top-up' })),
  method: PaymentMethodKind,
  vatTreatment: VatTreatment,
  paidAt: Nullable(Instant),
  bankTransfer: Nullable(
    Type.Object({
      iban: Nullable(Type.String()),
      beneficiary: Nullable(Type.String()),
      reference: Type.String({ description: 'R17: the reference to write in the causale, e.g. CAS-7KMQ-RX4A' }),
      causale: Type.String({ description: 'the whole causale, the reference first' }),
      expiresOn: Nullable(DateString),
    }),
  ),
  refundedCents: Type.Integer({ description: 'R17: net refunded (pending or done)' }),
  dispute: Nullable(Type.Union([Type.Literal('opened'), Type.Literal('won'), Type.Literal('lost')], { description: 'R17: its charge-back, if any' })),
});

/** R18: a card saved at the gateway (never its number). */
export const PaymentMethod = Type.Object({
  id: Type.String(),
  brand: Type.String(),
  last4: Type.String(),
  expMonth: Type.Integer(),
  expYear: Type.Integer(),
  createdAt: Instant,
  mailboxIds: Type.Array(Type.String(), { description: 'The mailboxes that renew with this card' }),
});

/** R17: money given back to the card. */
export const Refund = Type.Object({
  id: Type.String(),
  topupId: Type.String(),
  amountCents: Type.Integer({ description: 'net credit refunded' }),
  vatCents: Type.Integer(),
  chargeCents: Type.Integer({ description: 'back to the card' }),
  kind: Type.Union([Type.Literal('refund'), Type.Literal('withdrawal'), Type.Literal('closing')]),
  status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
  reason: Type.String(),
  creditNoteId: Nullable(Type.String({ description: 'the credit note (TD04) once succeeded' })),
  createdAt: Instant,
});
/** R17: an operator records a bank transfer received. */
export const BankTransferBody = Type.Object(
  {
    reference: Type.String({ minLength: 1, maxLength: 40 }),
    chargeCents: Type.Integer({ minimum: 1 }),
    receivedOn: DateString,
    reason: Type.String({ maxLength: 1000 }),
  },
  strict,
);

export const DailySummary = Type.Object({
  alertsQueued: Type.Integer(),
  usageWarningsQueued: Type.Integer(),
  mailboxesRenewed: Type.Integer(),
  addonsRenewed: Type.Integer(),
  addonsDeactivated: Type.Integer(),
  mailboxesExpired: Type.Integer(),
  mailboxesTerminated: Type.Integer(),
  ordersExpired: Type.Integer(),
  cardChargesAttempted: Type.Integer({ description: 'R18: saved-card charges sent to the gateway in this run (first charges, retries, and those a killed run left)' }),
  cardChargesSucceeded: Type.Integer(),
  cardChargesFailed: Type.Integer({ description: 'declined, insufficient funds, expired card: retried at E−3 and E−1 while a retry is left' }),
  cardChargesAuthenticationRequired: Type.Integer({ description: 'the bank wants the holder (SCA): e-mailed a link, not retried off-session' }),
});

/** What `casella forecast --on` prints (--json), reachable while `casella serve` holds the embedded database. */
export const RenewalForecast = Type.Object({
  onDate: DateString,
  mailboxes: Type.Integer(),
  renewed: Type.Integer(),
  expired: Type.Integer(),
  addonsRenewed: Type.Integer(),
  deactivated: Type.Integer(),
  chargedCents: Type.Integer(),
  missingCents: Type.Integer(),
  items: Type.Array(
    Type.Object({
      mailboxId: Type.String(),
      address: Type.String(),
      expiresOn: DateString,
      mailbox: Nullable(Type.Union([Type.Literal('renewed'), Type.Literal('expired')], { description: 'null for extra space renewed or ended on its own end (R7.5) while its mailbox is not due' })),
      addon: Type.Union([Type.Literal('renewed'), Type.Literal('deactivated'), Type.Literal('none')]),
      chargedCents: Type.Integer(),
      missingCents: Type.Integer(),
      cardChargeCents: Type.Integer({ description: "R18: what this mailbox's saved card will add to the credit before its renewal (charge to come or in flight); 0 when none" }),
    }),
  ),
  cardChargesCents: Type.Integer({ description: 'R18: what saved cards will add to the credit before these renewals, counted in renewed and missingCents' }),
  itemsTruncated: Type.Boolean(),
});

// Requests. Numbers are not coerced from strings, and nothing unknown passes (API.md "Conventions").
export const IdParams = Type.Object({ id: Id }, strict);
export const LoginBody = Type.Object(
  {
    address: Type.String({ maxLength: 254 }),
    password: Type.String({ maxLength: 200 }),
    totpCode: Type.Optional(Type.String({ maxLength: 64, description: 'the six-digit code of the authenticator app, or a recovery code, when two-step verification is on' })),
  },
  strict,
);
export const PasswordChangeBody = Type.Object(
  {
    currentPassword: Type.String({ maxLength: 200 }),
    newPassword: Type.String({
      maxLength: 1024,
      description: 'At least 10 and at most 128 printable ASCII characters, of at least two kinds (lower case, upper case, digits, symbols), without the mailbox address, unlike the current password; a weak one gets 422 validation_failed naming newPassword',
    }),
  },
  strict,
);
export const QuantityBody = Type.Object({ quantityGb: Type.Integer({ minimum: 1 }) }, strict);
export const ExtraSpaceOrderBody = Type.Object(
  {
    quantityGb: Type.Integer({ minimum: 1 }),
    expectedAmountCents: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'The amount the buyer was shown (the quote\'s amountCents): if today\'s price differs, 409 quote_changed and nothing is bought',
      }),
    ),
  },
  strict,
);
export const MailboxSettingsBody = Type.Object(
  {
    autoRenew: Type.Optional(Type.Boolean()),
    extraSpaceAutoRenew: Type.Optional(Type.Boolean()),
    cardRenewal: Type.Optional(Nullable(Type.Object({ paymentMethodId: Id }, strict))),
  },
  strict,
);
export const TopupBody = Type.Object(
  { amountCents: Type.Integer(), orderId: Type.Optional(Nullable(Id)), method: Type.Optional(Type.Union([Type.Literal('card'), Type.Literal('bank_transfer')])) },
  strict,
);
export const EmptyBody = Type.Union([Type.Object({}, strict), Type.Null()]);
// A missing or empty reason is 422 reason_required (the service checks it), not a schema error.
export const RefundBody = Type.Object({ amountCents: Type.Integer(), reason: Type.Optional(Type.String({ maxLength: 500 })) }, strict);
export const ClosingRefundBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, strict);
const MAILBOX_PASSWORD_RULE =
  'The rule a holder\'s own password follows: 10 to 128 printable ASCII characters, of at least two kinds (lower case, upper case, digits, symbols), without the mailbox address; otherwise 422 naming password';
/** One mailbox of a holder provisioned with its mailboxes (POST /api/admin/customers `mailboxes`). */
const NewHolderMailbox = Type.Object(
  {
    address: Type.String({ maxLength: 254 }),
    password: Type.String({ maxLength: 200, description: MAILBOX_PASSWORD_RULE }),
    type: Type.Union([Type.Literal('standard'), Type.Literal('pro')]),
    expiresOn: DateString,
  },
  strict,
);
export const NewCustomerBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    taxCode: Type.Optional(Nullable(Type.String({ maxLength: 32, description: 'codice fiscale: 16 characters with the right check character, or 11 digits with the right check digit; checked as on the holder\'s billing form' }))),
    referenceEmail: Type.String({ maxLength: 254 }),
    locale: Type.Optional(Type.Union([Type.Literal('it'), Type.Literal('en')])),
    reason: Type.Optional(Type.String({ maxLength: 500, description: 'why, for the audit trail (R19)' })),
    mailboxes: Type.Optional(
      Type.Array(NewHolderMailbox, {
        maxItems: 20,
        description: 'mailboxes created with the holder in the same transaction (R19): all or none; a wrong field is named mailboxes.N.field',
      }),
    ),
  },
  strict,
);
export const NewMailboxBody = Type.Object(
  {
    customerId: Id,
    address: Type.String({ maxLength: 254 }),
    password: Type.String({ maxLength: 200, description: MAILBOX_PASSWORD_RULE }),
    type: Type.Union([Type.Literal('standard'), Type.Literal('pro')]),
    expiresOn: DateString,
    usedBytes: Type.Optional(Type.Integer({ minimum: 0 })),
    reason: Type.Optional(Type.String({ maxLength: 500, description: 'why, for the audit trail (R19)' })),
  },
  strict,
);
export const MailboxUpdateBody = Type.Object(
  {
    usedBytes: Type.Optional(Type.Integer({ minimum: 0 })),
    password: Type.Optional(Type.String({ maxLength: 200, description: MAILBOX_PASSWORD_RULE })),
    type: Type.Optional(Type.String({ maxLength: 20, description: 'standard or pro: the type from the next renewal on (R19); needs a reason' })),
    reason: Type.Optional(Type.String({ maxLength: 500 })),
  },
  strict,
);
export const AdjustmentBody = Type.Object(
  { amountCents: Type.Integer(), reason: Type.Optional(Type.String({ maxLength: 500 })) },
  strict,
);
export const ForecastQuery = Type.Object({ on: DateString }, strict);
export const ClockBody = Type.Object({ now: Type.String({ maxLength: 64 }) }, strict);

export const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, ErrorSchema]));

// R15: billing data and invoices.
const OptionalText = (maxLength: number) => Type.Optional(Nullable(Type.String({ maxLength })));
export const BillingAddressBody = Type.Object(
  {
    street: OptionalText(200),
    streetNumber: OptionalText(50),
    postalCode: OptionalText(50),
    city: OptionalText(200),
    province: OptionalText(50),
    country: OptionalText(10),
  },
  strict,
);
/** Every field optional here: the domain check names each missing or wrong one (API.md: 422 naming each field). */
export const BillingProfileBody = Type.Object(
  {
    kind: Type.Optional(Type.String({ maxLength: 20, description: '"person" or "business"' })),
    givenName: OptionalText(200),
    familyName: OptionalText(200),
    companyName: OptionalText(200),
    taxCode: OptionalText(50),
    vatNumber: OptionalText(50),
    address: Type.Optional(BillingAddressBody),
    sdiCode: OptionalText(20),
    sdiPec: OptionalText(300),
  },
  strict,
);
export const BillingProfile = Type.Object({
  kind: Type.Union([Type.Literal('person'), Type.Literal('business')]),
  givenName: Nullable(Type.String()),
  familyName: Nullable(Type.String()),
  companyName: Nullable(Type.String()),
  taxCode: Nullable(Type.String()),
  vatNumber: Nullable(Type.String()),
  address: Type.Object({
    street: Type.String(),
    streetNumber: Nullable(Type.String()),
    postalCode: Type.String(),
    city: Type.String(),
    province: Nullable(Type.String()),
    country: Type.String(),
  }),
  sdiCode: Type.String(),
  sdiPec: Nullable(Type.String()),
  updatedAt: Nullable(Instant),
});
const SdiStatus = Type.Union([Type.Literal('issued'), Type.Literal('sent'), Type.Literal('delivered'), Type.Literal('rejected'), Type.Literal('not_delivered')]);
export const Invoice = Type.Object({
  id: Type.String(),
  number: Type.String({ description: 'year/sequence, e.g. 2026/000042' }),
  year: Type.Integer(),
  sequence: Type.Integer({ description: 'the number within its year: 1, 2, 3 … with no gap' }),
  issuedOn: DateString,
  documentType: Type.String(),
  netCents: Type.Integer(),
  vatCents: Type.Integer(),
  totalCents: Type.Integer(),
  vatRatePercent: Type.Number(),
  vatTreatment: VatTreatment,
  natura: Nullable(Type.String({ description: 'R16: N2.1 for a business abroad (art. 7-ter DPR 633/72), else null' })),
  paymentDate: DateString,
  paymentMethod: PaymentMethodKind,
  topupId: Type.String(),
  relatedInvoiceId: Nullable(Type.String({ description: "R17: a credit note's invoice" })),
  fileName: Type.String(),
  sdiStatus: SdiStatus,
  sdiMessage: Nullable(Type.String()),
});
export const AdminInvoice = Type.Object({
  ...Invoice.properties,
  customerId: Type.String(),
  buyerName: Type.String(),
  buyerFiscalId: Type.String(),
  attempts: Type.Integer(),
  lastError: Nullable(Type.String()),
  sentAt: Nullable(Instant),
  outcomeAt: Nullable(Instant),
});
export const InvoiceEvent = Type.Object({ at: Instant, fileName: Type.String(), status: Type.String(), message: Nullable(Type.String()) });
export const InvoicePeriodQuery = Type.Object(
  { from: DateString, to: DateString, status: Type.Optional(SdiStatus) },
  strict,
);
export const MonthQuery = Type.Object({ month: Type.String({ pattern: MONTH_PATTERN, description: 'YYYY-MM, years 2000 to 2999' }) }, strict);
/** R19: why, for the audit trail; a staff action without one is 422 reason_required. */
const StaffReason = Type.Optional(Type.String({ maxLength: 500, description: 'why, for the audit trail (R19): required, 422 reason_required when missing or blank' }));
export const ResendInvoiceBody = Type.Object({ buyer: Type.Optional(BillingProfileBody), reason: StaffReason }, strict);
export const InvoiceOutcomeBody = Type.Object(
  {
    status: Type.Union([Type.Literal('delivered'), Type.Literal('rejected'), Type.Literal('not_delivered')]),
    message: Type.Optional(Nullable(Type.String({ maxLength: 1000 }))),
    reason: StaffReason,
  },
  strict,
);
/** A file download (zip, CSV, XML, PDF): documented as binary, sent as a stream or buffer. */
export const FileResponse = Type.Unsafe<unknown>({ type: 'string', format: 'binary' });
