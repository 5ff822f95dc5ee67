// Schemas of the staff's API (R19): the console's sessions, staff accounts, search, the holder's
// record, the audit trail and the overview. Validation and the OpenAPI document, as in schemas.ts.
import { Type, type TSchema } from 'typebox';
import { CreditTransaction, DailySummary, Invoice, Order, Topup } from './schemas.ts';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const strict = { additionalProperties: false } as const;
const Id = Type.String({ minLength: 1, maxLength: 100 });
const DateString = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD, Europe/Rome calendar date' });
const Role = Type.Union([Type.Literal('support'), Type.Literal('billing'), Type.Literal('admin')]);
/** A reason for the audit trail: required by the service (422 reason_required when missing or blank). */
export const Reason = Type.Optional(Type.String({ maxLength: 500 }));

export const Staff = Type.Object({ id: Type.String(), email: Type.String(), name: Type.String(), role: Role });
export const StaffMember = Type.Object({ ...Staff.properties, enrolled: Type.Boolean(), disabled: Type.Boolean(), createdAt: Type.String() });

export const StaffLoginBody = Type.Object(
  { email: Type.String({ maxLength: 254 }), password: Type.String({ maxLength: 200 }), totpCode: Type.String({ maxLength: 64 }) },
  strict,
);
export const NewStaffBody = Type.Object({ email: Type.String({ maxLength: 254 }), name: Type.String({ maxLength: 200 }), role: Type.String({ maxLength: 20 }), reason: Reason }, strict);
export const StaffUpdateBody = Type.Object({ role: Type.Optional(Type.String({ maxLength: 20 })), disabled: Type.Optional(Type.Boolean()), reason: Reason }, strict);
export const ReasonBody = Type.Object({ reason: Reason }, strict);
export const ExtendBody = Type.Object({ expiresOn: Type.String({ maxLength: 10 }), reason: Reason }, strict);
export const PasswordResetLinkBody = Type.Object({ mailboxId: Id, reason: Reason }, strict);
export const ReferenceEmailBody = Type.Object({ referenceEmail: Type.String({ maxLength: 254 }), reason: Reason }, strict);

export const SearchQuery = Type.Object({ q: Type.String({ maxLength: 200 }) }, strict);
export const SearchResult = Type.Object({
  customerId: Type.String(),
  name: Type.String(),
  taxCode: Nullable(Type.String()),
  vatNumber: Nullable(Type.String()),
  referenceEmail: Type.String(),
  mailboxes: Type.Array(Type.String()),
  matched: Type.Union([Type.Literal('address'), Type.Literal('name'), Type.Literal('taxCode'), Type.Literal('vatNumber'), Type.Literal('referenceEmail'), Type.Literal('invoice')]),
});

export const StatementQuery = Type.Object(
  { before: Type.Optional(Type.String({ pattern: '^\\d{1,15}$', description: 'the nextBefore of the previous page' })), limit: Type.Optional(Type.String({ pattern: '^\\d{1,3}$' })) },
  strict,
);
export const StatementPage = Type.Object({ transactions: Type.Array(CreditTransaction), nextBefore: Nullable(Type.String()) });

export const EmailSent = Type.Object({
  id: Type.String(),
  at: Type.String(),
  to: Type.String(),
  subject: Type.String(),
  status: Type.Union([Type.Literal('queued'), Type.Literal('sent'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  lastError: Nullable(Type.String()),
  sentAt: Nullable(Type.String()),
});

export const Access = Type.Object({
  twoStep: Type.Object({ enabled: Type.Boolean(), enabledAt: Nullable(Type.String()), recoveryCodesLeft: Type.Integer() }),
  sessions: Type.Array(Type.Object({ createdAt: Type.String(), lastSeenAt: Type.String(), mailboxId: Nullable(Type.String()) })),
});

export const AuditEntry = Type.Object({
  id: Type.String(),
  at: Type.String(),
  actor: Type.Object({
    kind: Type.Union([Type.Literal('staff'), Type.Literal('token'), Type.Literal('holder'), Type.Literal('system')]),
    id: Nullable(Type.String()),
    name: Nullable(Type.String()),
  }),
  action: Type.String(),
  customerId: Nullable(Type.String()),
  mailboxId: Nullable(Type.String()),
  reason: Nullable(Type.String()),
  before: Type.Unknown(),
  after: Type.Unknown(),
});
export const AuditQuery = Type.Object(
  {
    customerId: Type.Optional(Id),
    staffId: Type.Optional(Id),
    tokenId: Type.Optional(Id),
    from: Type.Optional(DateString),
    to: Type.Optional(DateString),
    before: Type.Optional(Type.String({ pattern: '^\\d{1,15}$' })),
  },
  strict,
);

export const Overview = Type.Object({
  today: DateString,
  dailyJob: Type.Object({ lastRunAt: Nullable(Type.String()), summary: Nullable(DailySummary) }),
  outboxPending: Type.Integer(),
  outboxFailed: Type.Integer(),
  invoicesRejected: Type.Integer(),
  creditLiabilityCents: Type.Integer(),
  renewalsNext30Days: Type.Object({ count: Type.Integer(), amountCents: Type.Integer(), shortfallCents: Type.Integer() }),
  vatThisMonthCents: Type.Integer(),
});

export { Order, Topup, Invoice };
