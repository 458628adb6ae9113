// What sign-in needs to know about two-factor, kept apart from the TOTP machinery: whether an admin
// must pass a second factor, whether the organization still waits for them to enroll, and the
// short-lived challenge a password sign-in gets instead of tokens.
import { randomBytes } from 'node:crypto'
import type { TenantPrismaClient } from '../tenancy/tenant-pool.js'
import { ERRORS } from '../errors.js'
import { hashToken } from './one-time-tokens.js'

export const CHALLENGE_TTL_MS = 5 * 60_000
const CHALLENGE = /^(t[a-z0-9]{20,31})\.([A-Za-z0-9_-]{43})$/

export class MfaRequired extends ERRORS.MfaRequired {
  readonly details: { challenge: string, expiresAt: string }
  constructor (challenge: string, expiresAt: Date) {
    super()
    this.details = { challenge, expiresAt: expiresAt.toISOString() }
  }
}

export async function twoFactorEnabled (db: TenantPrismaClient, adminId: string): Promise<boolean> {
  const mfa = await db.adminMFA.findUnique({ where: { adminId }, select: { enabledAt: true } })
  return mfa?.enabledAt != null
}

export async function requiresTwoFactor (db: TenantPrismaClient): Promise<boolean> {
  const settings = await db.organizationSettings.findUnique({ where: { id: 1 } })
  return settings?.requireTwoFactor === true
}

export async function setRequiresTwoFactor (db: TenantPrismaClient, required: boolean): Promise<boolean> {
  return (await db.organizationSettings.update({ where: { id: 1 }, data: { requireTwoFactor: required } })).requireTwoFactor
}

/** True when the organization requires two-factor and this admin has not enrolled yet. */
export async function mustEnroll (db: TenantPrismaClient, adminId: string): Promise<boolean> {
  return await requiresTwoFactor(db) && !await twoFactorEnabled(db, adminId)
}

/** The tenant id travels in the challenge, like in refresh tokens, so the second step finds its database. */
export async function createChallenge (db: TenantPrismaClient, tenantId: string, adminId: string): Promise<MfaRequired> {
  const secret = randomBytes(32).toString('base64url')
  const expiresAt = new Date(Date.now() + CHALLENGE_TTL_MS)
  await db.mFAChallenge.create({ data: { adminId, tokenHash: hashToken(secret), expiresAt } })
  return new MfaRequired(`${tenantId}.${secret}`, expiresAt)
}

export function parseChallenge (challenge: string): { tenantId: string, secretHash: string } {
  const match = CHALLENGE.exec(challenge)
  if (match === null) throw new ERRORS.MfaChallengeInvalid()
  return { tenantId: match[1] as string, secretHash: hashToken(match[2] as string) }
}
