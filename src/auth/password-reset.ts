// Password reset by email, and changing the password while signed in. A reset request answers at
// once and the same way whether or not the email is known: the lookups and the mail happen after the
// answer. It is limited per email and per client address in the registry (every process counts).
// Each organization of the email gets its own single-use token, valid for an hour; using one sets
// that organization's password and revokes every refresh token of that admin.
import type { FastifyBaseLogger } from 'fastify'
import type { RegistryClient } from '../registry/registry-client.js'
import type { TenantDirectory } from '../registry/tenant-directory.js'
import type { TenantPool, TenantPrismaClient } from '../tenancy/tenant-pool.js'
import type { Mailer } from '../mail/mailer.js'
import { passwordResetMail } from '../mail/messages.js'
import { ERRORS } from '../errors.js'
import { createAttemptLimiter } from './attempt-limiter.js'
import type { RateLimitCounters } from '../registry/rate-limit-counters.js'
import { hashEmail, normalizeEmail } from './email.js'
import { hashPassword, verifyPassword } from './password.js'
import { hashToken, newOneTimeToken } from './one-time-tokens.js'

export const RESET_TTL_MS = 60 * 60_000
const USABLE = ['ACTIVE', 'SUSPENDED']

export interface PasswordResetDeps {
  registry: Pick<RegistryClient, 'adminEmailIndex' | 'passwordResetToken' | 'tenant' | '$queryRaw' | '$executeRaw'>
  directory: Pick<TenantDirectory, 'get'>
  pool: Pick<TenantPool, 'withTenant'>
  mailer: Pick<Mailer, 'send'>
  emailHashKey: Buffer
  appUrl: string
  limits: { perEmail: number, perIp: number, windowMs: number }
  counters: RateLimitCounters
  log: FastifyBaseLogger
}

async function revokeSessions (db: TenantPrismaClient, adminId: string): Promise<void> {
  await db.refreshToken.updateMany({ where: { adminId, revokedAt: null }, data: { revokedAt: new Date() } })
}

export function createPasswordReset (deps: PasswordResetDeps) {
  const { registry, directory, pool, log } = deps
  const perEmail = createAttemptLimiter({ counters: deps.counters, scope: 'reset', max: deps.limits.perEmail, windowMs: deps.limits.windowMs })
  const perIp = createAttemptLimiter({ counters: deps.counters, scope: 'reset', max: deps.limits.perIp, windowMs: deps.limits.windowMs })
  const inFlight = new Set<Promise<void>>()

  /** Mints one token per organization of the email (or just the chosen one) and mails them together. */
  async function deliver (email: string, emailHash: string, organization: string | undefined): Promise<void> {
    const tenantId = organization === undefined ? undefined : (await registry.tenant.findUnique({ where: { slug: organization }, select: { id: true } }))?.id ?? ''
    const entries = await registry.adminEmailIndex.findMany({ where: { emailHash, ...(tenantId === undefined ? {} : { tenantId }) }, take: 20 })
    const resets: Array<{ organization: string, token: string }> = []
    for (const entry of entries) {
      const tenant = await directory.get(entry.tenantId).catch(() => null)
      if (tenant === null || !USABLE.includes(tenant.status)) continue
      const { token, tokenHash } = newOneTimeToken()
      await registry.passwordResetToken.create({ data: { tokenHash, tenantId: entry.tenantId, adminId: entry.adminId, emailHash, expiresAt: new Date(Date.now() + RESET_TTL_MS) } })
      resets.push({ organization: tenant.name, token })
    }
    if (resets.length > 0) await deps.mailer.send(passwordResetMail({ to: email, appUrl: deps.appUrl, resets }))
  }

  async function request (input: { email: string, organization?: string }, ip: string): Promise<void> {
    const email = normalizeEmail(input.email)
    const emailHash = hashEmail(deps.emailHashKey, email)
    const emailKey = `email:${emailHash}`
    const ipKey = `ip:${ip}`
    // Counted before anything is looked up, atomically in the shared store: a burst cannot slip through.
    const allowed = await perEmail.attempt([emailKey]) && await perIp.attempt([ipKey])
    if (!allowed) throw new ERRORS.TooManyAttempts()
    const work = deliver(email, emailHash, input.organization)
      .catch((error: unknown) => { log.error({ err: error }, 'password reset delivery failed') })
      .finally(() => { inFlight.delete(work) })
    inFlight.add(work)
  }

  async function confirm (token: string, password: string): Promise<void> {
    // Hashed before the token is claimed, so a claimed token is never left unused by a slow hash.
    const passwordHash = await hashPassword(password)
    const [claimed] = await registry.$queryRaw<Array<{ tenantId: string, adminId: string, emailHash: string }>>`
      UPDATE "PasswordResetToken" SET "usedAt" = now()
      WHERE "tokenHash" = ${hashToken(token)} AND "usedAt" IS NULL AND "expiresAt" > now()
      RETURNING "tenantId", "adminId", "emailHash"`
    if (claimed === undefined) throw new ERRORS.ResetTokenInvalid()
    const tenant = await directory.get(claimed.tenantId).catch(() => null)
    if (tenant === null || !USABLE.includes(tenant.status)) throw new ERRORS.ResetTokenInvalid()
    await pool.withTenant(claimed.tenantId, async (db) => {
      const admin = await db.admin.findUnique({ where: { id: claimed.adminId } })
      // Bound to the address it was sent to: an admin whose email changed since cannot use it.
      if (admin === null || hashEmail(deps.emailHashKey, admin.email) !== claimed.emailHash) throw new ERRORS.ResetTokenInvalid()
      await db.admin.update({ where: { id: admin.id }, data: { passwordHash } })
      await revokeSessions(db, admin.id)
    })
    await registry.passwordResetToken.updateMany({ where: { tenantId: claimed.tenantId, adminId: claimed.adminId, usedAt: null }, data: { usedAt: new Date() } })
  }

  /** Signed in: the current password is required, and every other session ends. */
  async function change (db: TenantPrismaClient, adminId: string, currentPassword: string, newPassword: string): Promise<void> {
    const admin = await db.admin.findUnique({ where: { id: adminId } })
    if (admin === null || !await verifyPassword(admin.passwordHash, currentPassword)) throw new ERRORS.InvalidCurrentPassword()
    await db.admin.update({ where: { id: adminId }, data: { passwordHash: await hashPassword(newPassword) } })
    await revokeSessions(db, adminId)
  }

  /** Waits for deliveries still running (shutdown, tests). */
  async function drain (): Promise<void> {
    await Promise.all([...inFlight])
  }

  return { request, confirm, change, drain }
}

export type PasswordReset = ReturnType<typeof createPasswordReset>
