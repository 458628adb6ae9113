// Invitations to an organization's team. The token is mailed, stored hashed, bound to the invited
// email, single-use and valid for 7 days; resending rotates it and revoking kills it. Reading an
// invitation (what a mail scanner's GET does) changes nothing; only accepting it (POST) does.
import type { FastifyBaseLogger } from 'fastify'
import type { RegistryClient } from '../registry/registry-client.js'
import type { TenantDirectory } from '../registry/tenant-directory.js'
import type { TenantPool, TenantPrismaClient } from '../tenancy/tenant-pool.js'
import type { Mailer } from '../mail/mailer.js'
import { invitationMail } from '../mail/messages.js'
import { ERRORS } from '../errors.js'
import { hashEmail, normalizeEmail } from './email.js'
import { hashPassword, verifyPassword } from './password.js'
import { canGrant, type Role } from './permissions.js'
import { hashToken, newOneTimeToken } from './one-time-tokens.js'
import type { Actor } from './team-service.js'

export const INVITATION_TTL_MS = 7 * 86_400_000

export interface InvitationDeps {
  registry: Pick<RegistryClient, 'invitation' | 'adminEmailIndex' | '$transaction'>
  directory: Pick<TenantDirectory, 'get'>
  pool: Pick<TenantPool, 'withTenant'>
  mailer: Pick<Mailer, 'send'>
  emailHashKey: Buffer
  appUrl: string
  log: FastifyBaseLogger
}

interface InvitationRow { id: string, tenantId: string, email: string, role: string, expiresAt: Date, acceptedAt: Date | null, revokedAt: Date | null, createdAt: Date }

export function invitationStatus (row: InvitationRow, now = Date.now()): 'accepted' | 'revoked' | 'expired' | 'pending' {
  if (row.acceptedAt !== null) return 'accepted'
  if (row.revokedAt !== null) return 'revoked'
  return row.expiresAt.getTime() <= now ? 'expired' : 'pending'
}

const view = (row: InvitationRow) => ({
  id: row.id, email: row.email, role: row.role, status: invitationStatus(row), expiresAt: row.expiresAt, acceptedAt: row.acceptedAt, createdAt: row.createdAt
})

export interface AcceptInput { password: string, firstName?: string, lastName?: string }

export function createInvitations (deps: InvitationDeps) {
  const { registry, directory, pool, mailer } = deps
  const pendingWhere = () => ({ acceptedAt: null, revokedAt: null, expiresAt: { gt: new Date() } })

  async function mail (row: InvitationRow, token: string, organization: string): Promise<void> {
    await mailer.send(invitationMail({ to: row.email, organization, role: row.role, token, appUrl: deps.appUrl, expiresAt: row.expiresAt }))
      .catch((error: unknown) => {
        deps.log.error({ err: error, invitationId: row.id }, 'invitation mail failed')
        throw new ERRORS.MailSendFailed()
      })
  }

  async function create (db: TenantPrismaClient, tenant: { id: string, name: string }, actor: Actor, input: { email: string, role: Role }) {
    if (!canGrant(actor.role, input.role)) throw new ERRORS.RoleNotGrantable(input.role)
    const email = normalizeEmail(input.email)
    const emailHash = hashEmail(deps.emailHashKey, email)
    if (await db.admin.findUnique({ where: { email } }) !== null) throw new ERRORS.AlreadyMember()
    if (await registry.invitation.findFirst({ where: { tenantId: tenant.id, emailHash, ...pendingWhere() } }) !== null) throw new ERRORS.InvitationPending()
    const { token, tokenHash } = newOneTimeToken()
    const row = await registry.invitation.create({
      data: { tenantId: tenant.id, email, emailHash, role: input.role, tokenHash, invitedBy: actor.adminId, expiresAt: new Date(Date.now() + INVITATION_TTL_MS) }
    })
    await mail(row, token, tenant.name)
    return view(row)
  }

  async function list (tenantId: string) {
    return (await registry.invitation.findMany({ where: { tenantId }, orderBy: { createdAt: 'desc' }, take: 500 })).map(view)
  }

  /** An invitation of this tenant that the actor may manage; another tenant's is simply not found. */
  async function manageable (tenantId: string, actor: Actor, id: string) {
    const row = await registry.invitation.findFirst({ where: { id, tenantId } })
    if (row === null) throw new ERRORS.NotFound('Invitation')
    if (!canGrant(actor.role, row.role as Role)) throw new ERRORS.RoleNotGrantable(row.role)
    const status = invitationStatus(row)
    if (status === 'accepted' || status === 'revoked') throw new ERRORS.InvitationNotPending()
    return row
  }

  async function resend (tenant: { id: string, name: string }, actor: Actor, id: string) {
    await manageable(tenant.id, actor, id)
    const { token, tokenHash } = newOneTimeToken()
    // The old token's hash is overwritten: it stops working the moment the new one exists.
    const row = await registry.invitation.update({ where: { id }, data: { tokenHash, expiresAt: new Date(Date.now() + INVITATION_TTL_MS) } })
    await mail(row, token, tenant.name)
    return view(row)
  }

  async function revoke (tenantId: string, actor: Actor, id: string): Promise<void> {
    await manageable(tenantId, actor, id)
    await registry.invitation.updateMany({ where: { id, acceptedAt: null, revokedAt: null }, data: { revokedAt: new Date() } })
  }

  /** The pending invitation behind a token, or the one answer for every kind of bad token. */
  async function pending (token: string) {
    const row = await registry.invitation.findFirst({ where: { tokenHash: hashToken(token), ...pendingWhere() } })
    if (row === null) throw new ERRORS.InvitationInvalid()
    const tenant = await directory.get(row.tenantId).catch(() => null)
    if (tenant === null || tenant.status !== 'ACTIVE') throw new ERRORS.InvitationInvalid()
    return { row, tenant }
  }

  async function preview (token: string) {
    const { row, tenant } = await pending(token)
    const existingAccount = (await registry.adminEmailIndex.count({ where: { emailHash: row.emailHash } })) > 0
    return { organization: tenant.name, email: row.email, role: row.role, expiresAt: row.expiresAt, existingAccount }
  }

  /** Someone who already administers another organization proves it with that password; it stays theirs. */
  async function existingAccount (emailHash: string, password: string) {
    const entries = await registry.adminEmailIndex.findMany({ where: { emailHash }, take: 20 })
    for (const entry of entries) {
      const admin = await pool.withTenant(entry.tenantId, async (db) => await db.admin.findUnique({ where: { id: entry.adminId } })).catch(() => null)
      if (admin !== null && await verifyPassword(admin.passwordHash, password)) return admin
    }
    if (entries.length > 0) throw new ERRORS.InvalidCredentials()
    return null
  }

  async function accept (token: string, input: AcceptInput): Promise<{ tenantId: string, adminId: string }> {
    const { row } = await pending(token)
    if (await registry.adminEmailIndex.count({ where: { emailHash: row.emailHash, tenantId: row.tenantId } }) > 0) throw new ERRORS.AlreadyMember()
    const existing = await existingAccount(row.emailHash, input.password)
    if (existing === null && input.password.length < 12) throw new ERRORS.BadRequest('A password has at least 12 characters')
    const firstName = input.firstName ?? existing?.firstName
    const lastName = input.lastName ?? existing?.lastName
    if (firstName === undefined || lastName === undefined) throw new ERRORS.BadRequest('firstName and lastName are required for a new account')
    const passwordHash = existing?.passwordHash ?? await hashPassword(input.password)

    // Claimed atomically: of two concurrent accepts of one token exactly one goes on.
    const claimed = await registry.invitation.updateMany({ where: { id: row.id, tokenHash: hashToken(token), ...pendingWhere() }, data: { acceptedAt: new Date() } })
    if (claimed.count !== 1) throw new ERRORS.InvitationInvalid()
    let adminId: string | undefined
    try {
      const admin = await pool.withTenant(row.tenantId, async (db) => await db.admin.create({ data: { email: row.email, passwordHash, firstName, lastName, role: row.role as Role } }))
      adminId = admin.id
      await registry.$transaction([
        registry.adminEmailIndex.create({ data: { emailHash: row.emailHash, tenantId: row.tenantId, adminId: admin.id } }),
        registry.invitation.update({ where: { id: row.id }, data: { adminId: admin.id } })
      ])
      return { tenantId: row.tenantId, adminId: admin.id }
    } catch (error) {
      // Nothing half-done stays: the admin row goes and the invitation is pending again.
      if (adminId !== undefined) await pool.withTenant(row.tenantId, async (db) => await db.admin.deleteMany({ where: { id: adminId } })).catch(() => undefined)
      await registry.invitation.update({ where: { id: row.id }, data: { acceptedAt: null } }).catch(() => undefined)
      if ((error as { code?: string }).code === 'P2002') throw new ERRORS.AlreadyMember()
      throw error
    }
  }

  return { create, list, resend, revoke, preview, accept }
}

export type Invitations = ReturnType<typeof createInvitations>
