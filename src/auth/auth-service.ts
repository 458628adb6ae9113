// Login, token issue, refresh rotation and logout. The registry only says which organizations an email
// hash may belong to; the password is checked in each organization's own database.
import type { FastifyBaseLogger } from 'fastify'
import type { RegistryClient } from '../registry/registry-client.js'
import type { TenantDirectory } from '../registry/tenant-directory.js'
import type { TenantPool, TenantPrismaClient } from '../tenancy/tenant-pool.js'
import { ERRORS } from '../errors.js'
import { assertWritable } from '../tenancy/moves/write-freeze.js'
import type { Config } from '../config.js'
import type { RateLimitCounters } from '../registry/rate-limit-counters.js'
import { createAttemptLimiter } from './attempt-limiter.js'
import { hashEmail, normalizeEmail } from './email.js'
import { burnVerify, verifyPassword } from './password.js'
import { createChallenge, mustEnroll, twoFactorEnabled } from './mfa-challenges.js'
import { createRefreshToken, parseRefreshToken, revokeToken, rotateRefreshToken } from './refresh-tokens.js'

/** mfaEnrollment: the organization requires two-factor and this admin has not enrolled, so only their own account opens. */
export interface AccessClaims { tenantId: string, adminId: string, role: string, mfaEnrollment?: boolean }
export interface TokenPair { tenantId: string, email: string, accessToken: string, refreshToken: string }
export interface Organization { tenantId: string, name: string }

export interface AuthDeps {
  registry: Pick<RegistryClient, 'adminEmailIndex' | 'tenant' | '$queryRaw' | '$executeRaw'>
  counters: RateLimitCounters
  directory: TenantDirectory
  pool: TenantPool
  signAccessToken: (claims: AccessClaims) => string
  emailHashKey: Buffer
  settings: Config['auth']
  log: FastifyBaseLogger
}

export class TenantSelectionRequired extends ERRORS.TenantSelectionRequired {
  readonly details: { organizations: Organization[] }
  constructor (organizations: Organization[]) {
    super()
    this.details = { organizations }
  }
}

/** A token for a tenant that does not exist is invalid; a registry that cannot answer is a 5xx. */
function unknownTenantIsInvalidToken (error: unknown): never {
  throw (error as { code?: string }).code === 'TENANT_NOT_FOUND' ? new ERRORS.InvalidRefreshToken() : error
}

export function createAuthService (deps: AuthDeps) {
  const { registry, directory, pool, settings } = deps
  const limiter = createAttemptLimiter({ counters: deps.counters, max: settings.loginMaxAttempts, windowMs: settings.loginWindowMs })

  /** Every access token is made here: the role and the two-factor state are read fresh from the database. */
  async function accessToken (db: TenantPrismaClient, tenantId: string, admin: { id: string, role: string }): Promise<string> {
    const enroll = await mustEnroll(db, admin.id)
    return deps.signAccessToken({ tenantId, adminId: admin.id, role: admin.role, ...(enroll ? { mfaEnrollment: true } : {}) })
  }

  async function issueTokens (db: TenantPrismaClient, tenantId: string, admin: { id: string, email: string, role: string }): Promise<TokenPair> {
    const refresh = await createRefreshToken(db, tenantId, admin.id, settings.refreshTokenTtlDays)
    return { tenantId, email: admin.email, accessToken: await accessToken(db, tenantId, admin), refreshToken: refresh.token }
  }

  /** An organization named by its slug stands for its tenant id; an unknown slug matches nothing. */
  async function chosenTenant (input: { tenantId?: string, organization?: string }): Promise<string | undefined> {
    if (input.organization === undefined) return input.tenantId
    const tenant = await registry.tenant.findUnique({ where: { slug: input.organization }, select: { id: true } })
    return tenant?.id ?? 'none'
  }

  /** Checks the password in every organization this email administers (optionally just one). */
  async function matchingOrganizations (emailHash: string, password: string, tenantId?: string) {
    const entries = await registry.adminEmailIndex.findMany({ where: { emailHash, ...(tenantId === undefined ? {} : { tenantId }) }, take: 20 })
    const matches: Array<{ tenantId: string, name: string, status: string, admin: { id: string, email: string, role: string } }> = []
    for (const entry of entries) {
      const tenant = await directory.get(entry.tenantId).catch(() => null)
      if (tenant === null || !['ACTIVE', 'SUSPENDED', 'DELETION_SCHEDULED'].includes(tenant.status)) continue
      const admin = await pool.withTenant(entry.tenantId, async (db) => await db.admin.findUnique({ where: { id: entry.adminId } }))
      if (admin === null) continue
      if (await verifyPassword(admin.passwordHash, password)) matches.push({ tenantId: tenant.id, name: tenant.name, status: tenant.status, admin })
    }
    if (entries.length === 0) await burnVerify(password)
    return matches
  }

  async function login (input: { email: string, password: string, tenantId?: string, organization?: string }, ip: string): Promise<TokenPair> {
    const emailHash = hashEmail(deps.emailHashKey, normalizeEmail(input.email))
    const keys = [`email:${emailHash}`, `ip:${ip}`]
    if (!await limiter.attempt(keys)) throw new ERRORS.TooManyAttempts()
    const matches = await matchingOrganizations(emailHash, input.password, await chosenTenant(input))
    if (matches.length === 0) throw new ERRORS.InvalidCredentials()
    await limiter.succeeded(keys)
    if (matches.length > 1) throw new TenantSelectionRequired(matches.map((m) => ({ tenantId: m.tenantId, name: m.name })))
    const match = matches[0] as typeof matches[number]
    if (match.status === 'SUSPENDED') throw new ERRORS.TenantSuspended()
    assertWritable(await directory.get(match.tenantId))
    return await pool.withTenant(match.tenantId, async (db) => {
      // The password was right; an enrolled admin still owes the second factor (POST /api/auth/mfa).
      if (await twoFactorEnabled(db, match.admin.id)) throw await createChallenge(db, match.tenantId, match.admin.id)
      await db.admin.update({ where: { id: match.admin.id }, data: { lastLoginAt: new Date() } })
      return await issueTokens(db, match.tenantId, match.admin)
    })
  }

  async function refresh (refreshToken: string): Promise<TokenPair> {
    const parsed = parseRefreshToken(refreshToken)
    const tenant = await directory.get(parsed.tenantId).catch(unknownTenantIsInvalidToken)
    if (tenant.status !== 'ACTIVE' && tenant.status !== 'DELETION_SCHEDULED') throw new ERRORS.InvalidRefreshToken()
    assertWritable(tenant)
    return await pool.withTenant(parsed.tenantId, async (db) => {
      const rotated = await rotateRefreshToken(db, parsed, settings.refreshTokenTtlDays)
      const admin = await db.admin.findUnique({ where: { id: rotated.adminId } })
      if (admin === null) throw new ERRORS.InvalidRefreshToken()
      return {
        tenantId: parsed.tenantId,
        email: admin.email,
        accessToken: await accessToken(db, parsed.tenantId, admin),
        refreshToken: rotated.token
      }
    })
  }

  async function logout (refreshToken: string): Promise<void> {
    const parsed = parseRefreshToken(refreshToken)
    assertWritable(await directory.get(parsed.tenantId).catch(unknownTenantIsInvalidToken))
    await pool.withTenant(parsed.tenantId, async (db) => { await revokeToken(db, parsed) })
  }

  /** Token pair for an admin read back by id: a replayed sign-up, an accepted invitation, a passed two-factor step. */
  async function tokensFor (tenantId: string, adminId: string, options: { signedIn?: boolean } = {}): Promise<TokenPair> {
    return await pool.withTenant(tenantId, async (db) => {
      const admin = await db.admin.findUniqueOrThrow({ where: { id: adminId } })
      if (options.signedIn === true) await db.admin.update({ where: { id: adminId }, data: { lastLoginAt: new Date() } })
      return await issueTokens(db, tenantId, admin)
    })
  }

  return { login, refresh, logout, tokensFor, issueTokens }
}

export type AuthService = ReturnType<typeof createAuthService>
