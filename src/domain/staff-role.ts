// R19: the staff's roles, each including the one before it: support < billing < admin.
export const STAFF_ROLES = ['support', 'billing', 'admin'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

export const isStaffRole = (v: unknown): v is StaffRole => typeof v === 'string' && (STAFF_ROLES as readonly string[]).includes(v);

/** Whether a caller with role `has` may do what needs role `needs`. */
export const roleCovers = (has: StaffRole, needs: StaffRole): boolean => STAFF_ROLES.indexOf(has) >= STAFF_ROLES.indexOf(needs);
