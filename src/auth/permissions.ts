// The one permission table. Every route declares an operation (or 'public' / 'operator') in its
// config; the permissions plugin refuses to register a route without one and checks the caller's role
// on every request. README's "Roles and permissions" table is this table.
export const ROLES = ['STAFF', 'ADMIN', 'OWNER'] as const
export type Role = typeof ROLES[number]

/** Operation -> the least role that may perform it (each role includes the ones below it). */
export const PERMISSIONS = {
  /** One's own profile, password and two-factor. */
  'account.self': 'STAFF',
  'conversations.read': 'STAFF',
  'conversations.reply': 'STAFF',
  'members.read': 'STAFF',
  'members.manage': 'ADMIN',
  'branches.manage': 'ADMIN',
  'templates.manage': 'ADMIN',
  'broadcasts.manage': 'ADMIN',
  'numbers.manage': 'ADMIN',
  'invitations.manage': 'ADMIN',
  'admins.read': 'ADMIN',
  /** Removing a teammate; removing an owner takes an owner (owners.manage). */
  'admins.remove': 'ADMIN',
  'roles.manage': 'OWNER',
  'owners.manage': 'OWNER',
  'security.manage': 'OWNER',
  'billing.manage': 'OWNER',
  'account.export': 'OWNER',
  'account.delete': 'OWNER'
} as const satisfies Record<string, Role>

export type Permission = keyof typeof PERMISSIONS
/** What a route declares: an operation of the table, no authentication at all, or the operator token. */
export type RouteAccess = Permission | 'public' | 'operator'

export function isRole (value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value)
}

export function isRouteAccess (value: unknown): value is RouteAccess {
  return value === 'public' || value === 'operator' || (typeof value === 'string' && Object.hasOwn(PERMISSIONS, value))
}

const rank = (role: Role): number => ROLES.indexOf(role)

export function allows (role: unknown, permission: Permission): boolean {
  return isRole(role) && rank(role) >= rank(PERMISSIONS[permission])
}

/** Admins hand out staff and admin roles; only owners make owners. */
export function canGrant (actor: unknown, role: Role): boolean {
  return allows(actor, role === 'OWNER' ? 'owners.manage' : 'invitations.manage')
}
