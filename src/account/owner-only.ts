// Account-wide actions (export, deletion) are the owner's. The routes' permission table
// (account.export, account.delete) already checks the token's role; this reads the tenant database,
// because a role change reaches the token only at its next refresh and these actions cannot be undone.
import { ERRORS } from '../errors.js'
import type { TenantPrismaClient } from '../tenancy/tenant-pool.js'

export async function requireOwner (db: Pick<TenantPrismaClient, 'admin'>, adminId: string): Promise<{ id: string, passwordHash: string }> {
  const admin = await db.admin.findUnique({ where: { id: adminId }, select: { id: true, role: true, passwordHash: true } })
  if (admin === null) throw new ERRORS.Unauthorized('This admin no longer exists')
  if (admin.role !== 'OWNER') throw new ERRORS.OwnerOnly()
  return admin
}
