// R3: the catalogue and its defaults. A JSON file (CASELLA_CONFIG) may override any part; it is
// validated strictly so a typo fails at start instead of silently keeping a default.
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { cents, type Cents, type VatRateBasisPoints } from './money.ts';

export const MAILBOX_TYPES = ['standard', 'pro'] as const;
export type MailboxType = (typeof MAILBOX_TYPES)[number];
export type ExtraSpacePricing = 'full_year' | 'remaining_months';

export const BYTES_PER_GB = 1024 ** 3;

export interface Catalogue {
  mailboxTypes: Record<MailboxType, { renewalPriceCents: Cents; baseInboxGb: number }>;
  extraSpace: { pricePerGbYearCents: Cents; maxGbPerMailbox: number; pricing: ExtraSpacePricing };
  /** Days before expiry, largest first. */
  alertMilestonesDays: readonly number[];
  graceDays: number;
  /** R18: days before E a mailbox renewing by card has its card charged. */
  cardRenewalDaysBefore: number;
  orderAwaitingTopupHours: number;
  topupMinCents: Cents;
  topupMaxCents: Cents;
  /** Ascending. */
  usageWarningThresholdsPercent: readonly number[];
  vatRateBasisPoints: VatRateBasisPoints;
}

export const DEFAULT_CATALOGUE: Catalogue = Object.freeze<Catalogue>({
  mailboxTypes: {
    standard: { renewalPriceCents: cents(500), baseInboxGb: 1 },
    pro: { renewalPriceCents: cents(2500), baseInboxGb: 1 },
  },
  extraSpace: { pricePerGbYearCents: cents(300), maxGbPerMailbox: 50, pricing: 'full_year' },
  alertMilestonesDays: [90, 60, 30, 15, 7, 1],
  graceDays: 90,
  cardRenewalDaysBefore: 7,
  orderAwaitingTopupHours: 24,
  topupMinCents: cents(100),
  topupMaxCents: cents(500_000),
  usageWarningThresholdsPercent: [80, 95],
  vatRateBasisPoints: 2200 as VatRateBasisPoints,
});

const PositiveInt = (max: number) => Type.Integer({ minimum: 1, maximum: max });
const MailboxTypeOverride = Type.Object(
  {
    renewalPriceCents: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000_000 })),
    baseInboxGb: Type.Optional(PositiveInt(10_000)),
    // Overrides baseInboxGb: small quotas for tests against a real mail server.
    baseInboxMb: Type.Optional(PositiveInt(10_000 * 1024)),
  },
  { additionalProperties: false },
);

/** The shape of the CASELLA_CONFIG file; every key optional. */
export const CatalogueOverrideSchema = Type.Object(
  {
    mailboxTypes: Type.Optional(
      Type.Object(
        { standard: Type.Optional(MailboxTypeOverride), pro: Type.Optional(MailboxTypeOverride) },
        { additionalProperties: false },
      ),
    ),
    extraSpace: Type.Optional(
      Type.Object(
        {
          pricePerGbYearCents: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000_000 })),
          maxGbPerMailbox: Type.Optional(PositiveInt(10_000)),
          pricing: Type.Optional(Type.Union([Type.Literal('full_year'), Type.Literal('remaining_months')])),
        },
        { additionalProperties: false },
      ),
    ),
    alertMilestonesDays: Type.Optional(Type.Array(PositiveInt(366), { minItems: 1, maxItems: 30, uniqueItems: true })),
    graceDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 366 })),
    cardRenewalDaysBefore: Type.Optional(Type.Integer({ minimum: 2, maximum: 60 })),
    orderAwaitingTopupHours: Type.Optional(PositiveInt(24 * 30)),
    topupMinCents: Type.Optional(PositiveInt(100_000_000)),
    topupMaxCents: Type.Optional(PositiveInt(100_000_000)),
    usageWarningThresholdsPercent: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1, maximum: 100 }), { minItems: 1, maxItems: 10, uniqueItems: true }),
    ),
    vatRatePercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100, multipleOf: 0.01 })),
  },
  { additionalProperties: false },
);
export type CatalogueOverride = Static<typeof CatalogueOverrideSchema>;

export class CatalogueError extends Error {}

/** A type's base inbox in GB, fractional when given in MB. */
function baseInboxGbOf(o: { baseInboxGb?: number; baseInboxMb?: number } | undefined): number | undefined {
  if (o?.baseInboxMb !== undefined && o.baseInboxGb !== undefined) {
    throw new CatalogueError('invalid catalogue configuration: give a mailbox type baseInboxGb or baseInboxMb, not both');
  }
  return o?.baseInboxMb !== undefined ? o.baseInboxMb / 1024 : o?.baseInboxGb;
}

/** Applies an override to the defaults; throws CatalogueError naming each bad key. */
export function buildCatalogue(override: unknown, base: Catalogue = DEFAULT_CATALOGUE): Catalogue {
  if (!Value.Check(CatalogueOverrideSchema, override)) {
    const problems = [...Value.Errors(CatalogueOverrideSchema, override)]
      .filter((e) => e.keyword !== 'boolean')
      .map((e) => `${e.instancePath || '/'}: ${e.message}`);
    throw new CatalogueError(`invalid catalogue configuration: ${problems.join('; ')}`);
  }
  const o = override as CatalogueOverride;
  const type = (t: MailboxType) => ({
    renewalPriceCents: cents(o.mailboxTypes?.[t]?.renewalPriceCents ?? base.mailboxTypes[t].renewalPriceCents),
    baseInboxGb: baseInboxGbOf(o.mailboxTypes?.[t]) ?? base.mailboxTypes[t].baseInboxGb,
  });
  const catalogue: Catalogue = {
    mailboxTypes: { standard: type('standard'), pro: type('pro') },
    extraSpace: {
      pricePerGbYearCents: cents(o.extraSpace?.pricePerGbYearCents ?? base.extraSpace.pricePerGbYearCents),
      maxGbPerMailbox: o.extraSpace?.maxGbPerMailbox ?? base.extraSpace.maxGbPerMailbox,
      pricing: o.extraSpace?.pricing ?? base.extraSpace.pricing,
    },
    alertMilestonesDays: [...(o.alertMilestonesDays ?? base.alertMilestonesDays)].sort((a, b) => b - a),
    graceDays: o.graceDays ?? base.graceDays,
    cardRenewalDaysBefore: o.cardRenewalDaysBefore ?? base.cardRenewalDaysBefore,
    orderAwaitingTopupHours: o.orderAwaitingTopupHours ?? base.orderAwaitingTopupHours,
    topupMinCents: cents(o.topupMinCents ?? base.topupMinCents),
    topupMaxCents: cents(o.topupMaxCents ?? base.topupMaxCents),
    usageWarningThresholdsPercent: [...(o.usageWarningThresholdsPercent ?? base.usageWarningThresholdsPercent)].sort(
      (a, b) => a - b,
    ),
    vatRateBasisPoints:
      o.vatRatePercent === undefined
        ? base.vatRateBasisPoints
        : (Math.round(o.vatRatePercent * 100) as VatRateBasisPoints),
  };
  if (catalogue.topupMinCents > catalogue.topupMaxCents) {
    throw new CatalogueError('invalid catalogue configuration: topupMinCents is above topupMaxCents');
  }
  return Object.freeze(catalogue);
}

export const baseBytes = (c: Catalogue, t: MailboxType): number => Math.round(c.mailboxTypes[t].baseInboxGb * BYTES_PER_GB);
