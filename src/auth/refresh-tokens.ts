// Refresh tokens live hashed in the tenant's own database. They rotate on every use; presenting a token
// that was already rotated means it leaked, so its whole family is revoked.
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type { TenantPrismaClient } from '../tenancy/tenant-pool.js'
import { ERRORS } from '../errors.js'

const TOKEN = /^(t[a-z0-9]{20,31})\.([A-Za-z0-9_-]{43})$/

export interface ParsedRefreshToken { tenantId: string, secret: string }

/** The tenant id travels in the token so that refresh can find the right database. */
export function parseRefreshToken (token: string): ParsedRefreshToken {
  const match = TOKEN.exec(token)
  if (match === null) throw new ERRORS.InvalidRefreshToken()
  return { tenantId: match[1] as string, secret: match[2] as string }
}

const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex')

export async function createRefreshToken (db: TenantPrismaClient, tenantId: string, adminId: string, ttlDays: number, familyId: string = randomUUID()): Promise<{ token: string, id: string }> {
  const secret = randomBytes(32).toString('base64url')
  const row = await db.refreshToken.create({
    data: { adminId, familyId, tokenHash: hashSecret(secret), expiresAt: new Date(Date.now() + ttlDays * 86_400_000) }
  })
  return { token: `${tenantId}.${secret}`, id: row.id }
}

/** Consumes a token and returns a new one in the same family; any misuse revokes the family. */
export async function rotateRefreshToken (db: TenantPrismaClient, parsed: ParsedRefreshToken, ttlDays: number): Promise<{ token: string, adminId: string }> {
  const row = await db.refreshToken.findUnique({ where: { tokenHash: hashSecret(parsed.secret) } })
  if (row === null) throw new ERRORS.InvalidRefreshToken()
  if (row.revokedAt !== null || row.replacedById !== null) {
    await revokeFamily(db, row.familyId)
    throw new ERRORS.InvalidRefreshToken()
  }
  if (row.expiresAt.getTime() <= Date.now()) throw new ERRORS.InvalidRefreshToken()
  return await db.$transaction(async (tx) => {
    const next = await createRefreshToken(tx as unknown as TenantPrismaClient, parsed.tenantId, row.adminId, ttlDays, row.familyId)
    // Conditional update: of two concurrent refreshes with one token, exactly one wins.
    const claimed = await tx.refreshToken.updateMany({ where: { id: row.id, replacedById: null, revokedAt: null }, data: { replacedById: next.id } })
    if (claimed.count !== 1) throw new ERRORS.InvalidRefreshToken()
    return { token: next.token, adminId: row.adminId }
  })
}

export async function revokeFamily (db: TenantPrismaClient, familyId: string): Promise<void> {
  await db.refreshToken.updateMany({ where: { familyId, revokedAt: null }, data: { revokedAt: new Date() } })
}

export async function revokeToken (db: TenantPrismaClient, parsed: ParsedRefreshToken): Promise<void> {
  const row = await db.refreshToken.findUnique({ where: { tokenHash: hashSecret(parsed.secret) } })
  if (row !== null) await revokeFamily(db, row.familyId)
}
