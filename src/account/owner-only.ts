// Account-wide actions (export, deletion) are the owner's. Read from the tenant database rather than
// the token, so a role changed since sign-in counts at once. Issue 13's permission table may take
// this over; until then every organization has exactly one admin, its OWNER.
import { ERRORS } from '../errors.js'
import type { TenantPrismaClient } from '../tenancy/tenant-pool.js'

export async function requireOwner (db: Pick<TenantPrismaClient, 'admin'>, adminId: string): Promise<{ id: string, passwordHash: string }> {
  const admin = await db.admin.findUnique({ where: { id: adminId }, select: { id: true, role: true, passwordHash: true } })
  if (admin === null) throw new ERRORS.Unauthorized('This admin no longer exists')
  if (admin.role !== 'OWNER') throw new ERRORS.OwnerOnly()
  return admin
}
