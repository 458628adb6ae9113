// Sign-up as a recorded state machine: REQUESTED -> CUSTOMER_CREATED -> CHURCH_CREATED ->
// DATABASE_CREATED -> SCHEMA_VERIFIED -> ADMIN_CREATED -> ACTIVE. Each step's effect is recorded in
// ProvisioningRequest before the next begins, so that after a crash anywhere `rollback` (run here on
// error, or later by the reconciler) knows exactly what to undo. It calls billing, the registry
// (tenants.ts writes the Tenant row), tenancy (the database) and auth (the first token pair, issued
// inside the one lease the new tenant's database is used under).
import { createHash, randomBytes } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { RegistryClient } from '../registry/registry-client.js'
import type { SecretBox } from '../util/secret-box.js'
import type { Billing } from '../billing/billing-service.js'
import type { AuditLog } from '../registry/audit-log.js'
import { ERRORS } from '../errors.js'
import { hashEmail, normalizeEmail } from '../auth/email.js'
import { hashPassword } from '../auth/password.js'
import type { AuthService, TokenPair } from '../auth/auth-service.js'
import { createSlugs } from '../auth/slugs.js'
import type { ServerDirectory } from '../registry/servers.js'
import type { TenantStore } from '../registry/tenants.js'
import type { TenantPool } from '../tenancy/tenant-pool.js'
import { createTenantDatabase, dropTenantDatabase, generateDatabasePassword, tenantDatabaseName } from '../tenancy/tenant-database.js'

export type ProvisioningStep = 'CUSTOMER_CREATED' | 'CHURCH_CREATED' | 'DATABASE_CREATED' | 'SCHEMA_VERIFIED' | 'ADMIN_CREATED' | 'ACTIVE'

export interface RegistrationInput { email: string, password: string, firstName: string, lastName: string, churchName: string, slug?: string }
export interface RegistrationResult { tenantId: string, adminId: string, email: string }

/** Thrown by a test fault to stand for a process that died: nothing is undone in-process. */
export class SimulatedCrash extends Error {
  constructor (readonly step: ProvisioningStep) {
    super(`simulated crash after ${step}`)
    this.name = 'SimulatedCrash'
  }
}

export interface ProvisioningDeps {
  registry: RegistryClient
  servers: ServerDirectory
  tenants: Pick<TenantStore, 'transaction'>
  pool: TenantPool
  auth: Pick<AuthService, 'issueTokens' | 'tokensFor'>
  billing: Billing
  secretBox: SecretBox
  emailHashKey: Buffer
  expectedTenantVersion: string
  installationId: string
  log: FastifyBaseLogger
  audit?: Pick<AuditLog, 'record'>
  /** Test hook called after each recorded step; it may throw (SimulatedCrash or any error). */
  afterStep?: (step: ProvisioningStep, tenantId: string) => Promise<void> | void
  /** Told when a sign-up starts, reaches each step and fails (metrics). */
  observer?: { started: (tenantId: string) => void, step: (step: ProvisioningStep, tenantId: string) => void, failed: (tenantId: string) => void }
}

export const PROVISIONING_STEPS = ['REQUESTED', 'CUSTOMER_CREATED', 'CHURCH_CREATED', 'DATABASE_CREATED', 'SCHEMA_VERIFIED', 'ADMIN_CREATED', 'ACTIVE'] as const

// How long a provisioning request may run before the reconciler treats it as abandoned.
export const PROVISIONING_LEASE_MS = 2 * 60_000

/** Lowercase alphanumeric, so `tenant_<id>` is a valid unquoted identifier. */
export function newTenantId (): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
  const bytes = randomBytes(24)
  let id = 't'
  for (const b of bytes) id += alphabet[b % alphabet.length]
  return id
}

export function createProvisioningService (deps: ProvisioningDeps) {
  const { registry, servers, tenants, pool, billing, secretBox, log } = deps
  const step = async (name: ProvisioningStep, tenantId: string): Promise<void> => {
    deps.observer?.step(name, tenantId)
    await deps.afterStep?.(name, tenantId)
  }
  const slugs = createSlugs(registry)

  async function replayOrClaim (idempotencyKey: string, requestHash: string): Promise<RegistrationResult | undefined> {
    const existing = await registry.provisioningRequest.findUnique({ where: { idempotencyKey } })
    if (existing === null) return undefined
    if (existing.requestHash !== requestHash) throw new ERRORS.IdempotencyConflict()
    if (existing.state === 'ACTIVE') return existing.result as unknown as RegistrationResult
    if (existing.state === 'ROLLED_BACK' || existing.state === 'FAILED') {
      // The earlier attempt was fully undone: this retry starts over under the same key.
      await registry.provisioningRequest.delete({ where: { id: existing.id } })
      return undefined
    }
    throw new ERRORS.RequestInProgress()
  }

  /** Signs up: the organization, its database and its owner, and the owner's first token pair. `server` pins the new tenant to the server of that name (operators only); placement picks otherwise. */
  async function register (input: RegistrationInput, options: { idempotencyKey?: string, server?: string, actor?: string } = {}): Promise<TokenPair> {
    const email = normalizeEmail(input.email)
    const emailHash = hashEmail(deps.emailHashKey, email)
    const requestHash = createHash('sha256').update(JSON.stringify([email, input.firstName, input.lastName, input.churchName, input.slug ?? null])).digest('hex')
    const idempotencyKey = options.idempotencyKey
    if (idempotencyKey !== undefined) {
      const replay = await replayOrClaim(idempotencyKey, requestHash)
      // The retry of a finished sign-up gets a token pair of its own (its admin is read back for it).
      if (replay !== undefined) return await deps.auth.tokensFor(replay.tenantId, replay.adminId)
    }
    // A chosen slug that is taken or malformed is refused before anything is created.
    const slug = await slugs.pick(input.churchName, input.slug)
    const passwordHash = await hashPassword(input.password)
    const server = await servers.pickForNewTenant(options.server)
    const tenantId = newTenantId()
    let requestId: string
    try {
      const request = await registry.provisioningRequest.create({
        data: { idempotencyKey, emailHash, requestHash, tenantId, serverId: server.id, state: 'REQUESTED', attempts: 1, lockedUntil: new Date(Date.now() + PROVISIONING_LEASE_MS) }
      })
      requestId = request.id
      deps.observer?.started(tenantId)
    } catch (error) {
      if ((error as { code?: string }).code === 'P2002') throw new ERRORS.RequestInProgress()
      throw error
    }

    try {
      const placement = { actor: options.actor ?? 'sign-up', server: server.name, pinned: options.server !== undefined }
      return await runSteps(requestId, tenantId, server.id, { ...input, email, slug }, passwordHash, input.slug !== undefined, placement)
    } catch (error) {
      if (error instanceof SimulatedCrash) throw error
      deps.observer?.failed(tenantId)
      log.error({ err: error, tenantId }, 'provisioning failed, rolling back')
      await rollback(requestId, (error as Error).message).catch((undoError: unknown) => {
        log.error({ err: undoError, tenantId }, 'rollback failed; the reconciler will finish it')
      })
      // Client errors, and "busy, retry shortly", reach the caller as they are; anything else is ours.
      const status = (error as { statusCode?: number }).statusCode
      if (typeof status === 'number' && (status < 500 || status === 503)) throw error
      throw new ERRORS.ProvisioningFailed()
    }
  }

  async function runSteps (requestId: string, tenantId: string, serverId: string, input: RegistrationInput & { slug: string }, passwordHash: string, slugChosen: boolean, placement: { actor: string, server: string, pinned: boolean }): Promise<TokenPair> {
    const setState = (data: Record<string, unknown>) => registry.provisioningRequest.update({ where: { id: requestId }, data })

    const customer = await billing.createCustomer({ email: input.email, name: input.churchName, tenantId, idempotencyKey: `customer-${tenantId}` })
    await setState({ state: 'CUSTOMER_CREATED', stripeCustomerId: customer.customerId })
    const trial = await billing.createTrialSubscription({ customerId: customer.customerId, tenantId, idempotencyKey: `subscription-${tenantId}` })
    await setState({ stripeSubscriptionId: trial.subscriptionId, trialEndsAt: trial.trialEndsAt })
    await step('CUSTOMER_CREATED', tenantId)

    const church = await registry.$transaction(async (tx) => {
      const created = await tx.church.create({ data: { name: input.churchName, email: input.email, stripeCustomerId: customer.customerId } })
      await tx.provisioningRequest.update({ where: { id: requestId }, data: { state: 'CHURCH_CREATED', churchId: created.id } })
      return created
    })
    await step('CHURCH_CREATED', tenantId)

    const server = await servers.get(serverId)
    if (server === null) throw new Error(`database server ${serverId} disappeared`)
    const password = generateDatabasePassword()
    const databaseName = tenantDatabaseName(tenantId)
    await createTenantDatabase(servers.adminUrl(server), tenantId, password, deps.installationId)
    const createTenant = async (slug: string): Promise<void> => {
      await tenants.transaction(async (t, tx) => {
        await t.create({
          id: tenantId,
          slug,
          churchId: church.id,
          name: input.churchName,
          email: input.email,
          serverId,
          databaseName,
          databaseHost: server.host,
          databasePort: server.port,
          databaseUser: databaseName,
          databasePasswordEncrypted: secretBox.encrypt(password),
          encryptionKeyId: secretBox.keyId,
          schemaVersion: deps.expectedTenantVersion,
          stripeSubscriptionId: trial.subscriptionId,
          trialEndsAt: trial.trialEndsAt
        })
        await tx.provisioningRequest.update({ where: { id: requestId }, data: { state: 'DATABASE_CREATED' } })
      })
    }
    // Sign-ups wanting the same slug at once: a chosen one is taken, a derived one moves on to the next
    // free suffix (several may collide in a row when many sign up with one name at the same moment).
    for (let attempt = 0, slug = input.slug; ; attempt++) {
      try {
        await createTenant(slug)
        break
      } catch (error) {
        const failed = error as { code?: string, meta?: unknown }
        if (failed.code !== 'P2002' || !JSON.stringify(failed.meta ?? {}).includes('slug')) throw error
        if (slugChosen) throw new ERRORS.SlugTaken()
        if (attempt >= 20) throw error
        slug = await slugs.pick(input.churchName)
      }
    }
    await step('DATABASE_CREATED', tenantId)

    // One lease on the new database for the rest of the sign-up, the first token pair included.
    return await pool.withTenant(tenantId, async (db) => {
      // Connecting as the tenant's own role proves the role, the grants and the cloned schema together.
      const rows = await db.$queryRaw<Array<{ version: string }>>`SELECT version FROM migrator.applied ORDER BY version DESC LIMIT 1`
      const version = rows[0]?.version
      if (version !== deps.expectedTenantVersion) throw new Error(`tenant database is at schema ${version ?? 'none'}, expected ${deps.expectedTenantVersion}`)
      await setState({ state: 'SCHEMA_VERIFIED' })
      await step('SCHEMA_VERIFIED', tenantId)

      const admin = await db.admin.create({
        data: { email: input.email, passwordHash, firstName: input.firstName, lastName: input.lastName, role: 'OWNER' }
      })
      await registry.$transaction([
        registry.adminEmailIndex.create({ data: { emailHash: hashEmail(deps.emailHashKey, input.email), tenantId, adminId: admin.id } }),
        registry.provisioningRequest.update({ where: { id: requestId }, data: { state: 'ADMIN_CREATED' } })
      ])
      await step('ADMIN_CREATED', tenantId)

      const result: RegistrationResult = { tenantId, adminId: admin.id, email: input.email }
      await tenants.transaction(async (t, tx) => {
        await t.activate(tenantId)
        await tx.provisioningRequest.update({ where: { id: requestId }, data: { state: 'ACTIVE', result: { ...result }, lockedUntil: null } })
        // Audited with the activation: a sign-up that is rolled back placed nothing.
        await deps.audit?.record({ actor: placement.actor, action: 'tenant.placed', tenantId, serverId, after: { server: placement.server, pinned: placement.pinned } }, tx)
      })
      await step('ACTIVE', tenantId)
      return await deps.auth.issueTokens(db, tenantId, admin)
    })
  }

  /**
   * Removes a tenant that never became active, wherever it got to: its client, database and role,
   * its registry rows (the server's tenant count with them) and its cached record. Idempotent.
   */
  async function removeTenant ({ tenantId, serverId, churchId }: { tenantId: string, serverId: string | null, churchId: string | null }): Promise<void> {
    await pool.evict(tenantId)
    const server = serverId === null ? null : await servers.get(serverId)
    if (server !== null) await dropTenantDatabase(servers.adminUrl(server), tenantId)
    await tenants.transaction(async (t, tx) => {
      await tx.adminEmailIndex.deleteMany({ where: { tenantId } })
      await t.remove(tenantId, server?.id ?? null)
      if (churchId !== null) await tx.church.deleteMany({ where: { id: churchId } })
    })
  }

  /** Undoes whatever a non-active request created. Idempotent: safe to run again after a crash. */
  async function rollback (requestId: string, reason: string): Promise<void> {
    const request = await registry.provisioningRequest.findUnique({ where: { id: requestId } })
    if (request === null || request.state === 'ACTIVE' || request.state === 'ROLLED_BACK') return
    const { tenantId } = request
    await removeTenant({ tenantId, serverId: request.serverId, churchId: request.churchId })
    // A crash between Stripe's answer and our record leaves the customer findable by its metadata.
    const customerId = request.stripeCustomerId ?? await billing.findCustomerByTenant(tenantId)
    if (customerId !== null) await billing.deleteCustomer(customerId)
    await registry.provisioningRequest.update({ where: { id: requestId }, data: { state: 'ROLLED_BACK', error: reason.slice(0, 2000), lockedUntil: null } })
    log.warn({ tenantId, reason }, 'provisioning rolled back')
  }

  return { register, rollback, removeTenant }
}

export type ProvisioningService = ReturnType<typeof createProvisioningService>
