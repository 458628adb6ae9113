// The organization's team: list its admins, change a role, remove someone. An organization always
// keeps an owner: the owner rows are locked while a change that could remove the last one commits.
import type { RegistryClient } from '../registry/registry-client.js'
import type { TenantPrismaClient } from '../tenancy/tenant-pool.js'
import { ERRORS } from '../errors.js'
import { canGrant, type Role } from './permissions.js'

export interface Actor { adminId: string, role: string }
type Tx = Parameters<Parameters<TenantPrismaClient['$transaction']>[0]>[0]

/** Runs fn with every owner row locked; fn gets how many owners there are. */
async function withOwnersLocked<T> (db: TenantPrismaClient, fn: (tx: Tx, owners: number) => Promise<T>): Promise<T> {
  return await db.$transaction(async (tx) => {
    const owners = await tx.$queryRaw<Array<{ id: string }>>`SELECT id FROM "Admin" WHERE role = 'OWNER' FOR UPDATE`
    return await fn(tx, owners.length)
  })
}

export function createTeamService (deps: { registry: Pick<RegistryClient, 'adminEmailIndex'> }) {
  const { registry } = deps

  async function list (db: TenantPrismaClient) {
    const admins = await db.admin.findMany({ orderBy: { createdAt: 'asc' }, include: { mfa: { select: { enabledAt: true } } } })
    return admins.map((a) => ({
      id: a.id,
      email: a.email,
      firstName: a.firstName,
      lastName: a.lastName,
      role: a.role,
      twoFactorEnabled: a.mfa?.enabledAt != null,
      lastLoginAt: a.lastLoginAt,
      createdAt: a.createdAt
    }))
  }

  async function changeRole (db: TenantPrismaClient, actor: Actor, adminId: string, role: Role) {
    if (!canGrant(actor.role, role)) throw new ERRORS.RoleNotGrantable(role)
    await withOwnersLocked(db, async (tx, owners) => {
      const target = await tx.admin.findUnique({ where: { id: adminId } })
      if (target === null) throw new ERRORS.NotFound('Admin')
      if (target.role === 'OWNER' && !canGrant(actor.role, 'OWNER')) throw new ERRORS.RoleNotGrantable('OWNER')
      if (target.role === 'OWNER' && role !== 'OWNER' && owners <= 1) throw new ERRORS.LastOwner()
      await tx.admin.update({ where: { id: adminId }, data: { role } })
    })
    // The new role reaches the admin's access token at its next refresh (the refresh reads the row).
    return (await list(db)).find((a) => a.id === adminId)
  }

  async function remove (db: TenantPrismaClient, tenantId: string, actor: Actor, adminId: string): Promise<void> {
    await withOwnersLocked(db, async (tx, owners) => {
      const target = await tx.admin.findUnique({ where: { id: adminId } })
      if (target === null) throw new ERRORS.NotFound('Admin')
      if (target.role === 'OWNER' && !canGrant(actor.role, 'OWNER')) throw new ERRORS.RoleNotGrantable('OWNER')
      if (target.role === 'OWNER' && owners <= 1) throw new ERRORS.LastOwner()
      // Refresh tokens, two-factor and recovery codes go with the row (cascade).
      await tx.admin.delete({ where: { id: adminId } })
    })
    await registry.adminEmailIndex.deleteMany({ where: { tenantId, adminId } })
  }

  return { list, changeRole, remove }
}

export type TeamService = ReturnType<typeof createTeamService>
