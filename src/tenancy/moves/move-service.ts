// Live move of a tenant to another server. With logical replication (source wal_level=logical, a
// superuser on the target) the new database is filled and kept current while the tenant works, and
// writes are frozen only for the final catch-up; otherwise the rows are copied while writes are
// frozen. Either way the freeze ends with a verification (row counts and checksums per table) and a
// switch in one registry transaction; any failure before the switch undoes everything and leaves the
// tenant where it was. Each step is recorded in TenantMove before the next begins (see move-recovery.ts).
import type pg from 'pg'
import type { FastifyBaseLogger } from 'fastify'
import type { DatabaseServer, TenantMove } from '../../generated/registry/client.js'
import type { Migration } from '../../db/migrator.js'
import { connect } from '../../db/pg-admin.js'
import { ERRORS } from '../../errors.js'
import type { AuditLog } from '../../registry/audit-log.js'
import type { RegistryClient } from '../../registry/registry-client.js'
import { probeServer } from '../../registry/server-health.js'
import type { TenantLocation } from '../../registry/tenant-location.js'
import type { SecretBox } from '../../util/secret-box.js'
import type { ServerDirectory } from '../../registry/servers.js'
import { generateDatabasePassword } from '../tenant-database.js'
import { createByodDatabase, tenantDatabaseOn } from '../byod/byod-database.js'
import type { TenantDirectory } from '../../registry/tenant-directory.js'
import type { TenantPool } from '../tenant-pool.js'
import { createMoveTarget, schemaVersionOf } from './move-target.js'
import { createPublication, createSubscription, dropPublication, dropSubscription, syncState } from './replication.js'
import { copyTables, differences, DIGEST_SESSION, digestTables, emptyTables, tenantTables, type TenantTable } from './tenant-tables.js'
import { revokeWrites } from './old-database.js'

export type MoveMethod = 'LOGICAL' | 'COPY'
/** Points a test may crash the move at (after the named step is recorded). */
export type MoveStep = 'REQUESTED' | 'TARGET_CREATED' | 'SYNCED' | 'FROZEN' | 'VERIFIED' | 'SWITCHED' | 'CLEANED'

export class SimulatedMoveCrash extends Error {
  constructor (readonly step: MoveStep) {
    super(`simulated crash after ${step}`)
    this.name = 'SimulatedMoveCrash'
  }
}

export interface MoveSettings {
  /** The old database is kept this long after the switch, then dropped by the reconciler (0: at once). */
  graceMs: number
  /** Between announcing the freeze and locking: every process hears of it and stops starting writes. */
  settleMs: number
  /** How long the move may wait for in-flight writes to end, then for the copies to agree. */
  freezeTimeoutMs: number
  syncTimeoutMs: number
  leaseMs: number
}

export const DEFAULT_MOVE_SETTINGS: MoveSettings = { graceMs: 24 * 3600_000, settleMs: 150, freezeTimeoutMs: 10_000, syncTimeoutMs: 10 * 60_000, leaseMs: 60_000 }

export interface MoveDeps {
  registry: RegistryClient
  servers: Pick<ServerDirectory, 'adminUrl' | 'get'>
  directory: Pick<TenantDirectory, 'invalidate'>
  pool: Pick<TenantPool, 'evict'>
  location: TenantLocation
  audit: Pick<AuditLog, 'record'>
  secretBox: SecretBox
  migrations: Migration[]
  installationId: string
  settings: MoveSettings
  log: FastifyBaseLogger
  /** Applies the webhooks held during the freeze. */
  replayHeld: (tenantId: string) => Promise<unknown>
  /** Undoes a move that did not switch (move-recovery.ts). */
  undo: (moveId: string, reason: string) => Promise<void>
  /** Drops the old database at once when there is no grace period. */
  dropOld: (move: TenantMove) => Promise<void>
  afterStep?: (step: MoveStep, tenantId: string) => Promise<void> | void
}

export interface MoveReport { moveId: string, tenantId: string, from: string, to: string, method: MoveMethod, freezeMs: number, totalMs: number, rows: number }

const LIVE_STATES = ['REQUESTED', 'TARGET_CREATED', 'SYNCING', 'FROZEN'] as const
export { LIVE_STATES }

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
const lockList = (tables: TenantTable[]): string => tables.map((t) => `public.${t.quoted}`).join(', ')

/** Logical replication needs wal_level=logical and a replication-capable admin on the source, a superuser on the target. */
export async function chooseMethod (sourceAdminUrl: string, targetAdminUrl: string): Promise<MoveMethod> {
  const [source, target] = await Promise.all([probeServer(sourceAdminUrl), probeServer(targetAdminUrl)])
  return source.walLevel === 'logical' && source.replication === true && target.superuser === true ? 'LOGICAL' : 'COPY'
}

export function createMoveService (deps: MoveDeps) {
  const { registry, servers, location, audit, secretBox, settings, log } = deps

  async function refuseIfInvalid (tenantId: string, toName: string) {
    const tenant = await registry.tenant.findUnique({ where: { id: tenantId } })
    if (tenant === null) throw new ERRORS.TenantNotFound(tenantId)
    if (tenant.status !== 'ACTIVE' && tenant.status !== 'SUSPENDED') throw new ERRORS.MoveRefused(`the organization is ${tenant.status.toLowerCase()}`)
    const to = await registry.databaseServer.findUnique({ where: { name: toName } })
    if (to === null) throw new ERRORS.ServerNotFound(toName)
    if (to.id === tenant.serverId) throw new ERRORS.MoveRefused(`the organization is already on server ${toName}`)
    if (to.status !== 'ACTIVE') throw new ERRORS.MoveRefused(`server ${toName} is ${to.status.toLowerCase()}`)
    if (to.tenantCount >= to.maxTenants) throw new ERRORS.MoveRefused(`server ${toName} is full (${to.tenantCount}/${to.maxTenants})`)
    const live = await registry.tenantMove.findUnique({ where: { liveTenantId: tenantId } })
    if (live !== null) throw new ERRORS.MoveRefused('the organization is already moving')
    const kept = await registry.tenantMove.findFirst({ where: { tenantId, state: 'SWITCHED', fromServerId: to.id } })
    if (kept !== null) throw new ERRORS.MoveRefused(`its previous database on ${toName} is kept until ${kept.dropOldAfter?.toISOString() ?? 'its grace period ends'}`)
    const from = await servers.get(tenant.serverId) as DatabaseServer | null
    if (from === null) throw new Error(`server ${tenant.serverId} not found`)
    return { tenant, from, to }
  }

  async function move (tenantId: string, toName: string, options: { actor: string, method?: MoveMethod }): Promise<MoveReport> {
    const started = Date.now()
    const { tenant, from, to } = await refuseIfInvalid(tenantId, toName)
    const sourceUrl = servers.adminUrl(from, tenant.databaseName)
    const byod = to.kind === 'BYOD'
    const databaseName = tenantDatabaseOn(to, tenantId)
    const targetUrl = servers.adminUrl(to, databaseName)
    // Into an organization's own server always by copy: a subscription there would keep our source
    // server's admin credentials in their catalog.
    const method = byod ? 'COPY' : options.method ?? await chooseMethod(servers.adminUrl(from), servers.adminUrl(to))
    let record: TenantMove
    try {
      record = await registry.tenantMove.create({
        data: { tenantId, liveTenantId: tenantId, fromServerId: from.id, toServerId: to.id, method, actor: options.actor, lockedUntil: new Date(Date.now() + settings.leaseMs) }
      })
    } catch (error) {
      if ((error as { code?: string }).code === 'P2002') throw new ERRORS.MoveRefused('the organization is already moving')
      throw error
    }
    await audit.record({ actor: options.actor, action: 'tenant.move_started', tenantId, serverId: to.id, before: { server: from.name }, after: { server: to.name, method, moveId: record.id } })
    const lease = setInterval(() => {
      registry.tenantMove.updateMany({ where: { id: record.id, lockedUntil: { not: null } }, data: { lockedUntil: new Date(Date.now() + settings.leaseMs) } }).catch(() => {})
    }, settings.leaseMs / 3)
    lease.unref()
    const opened: pg.Client[] = []
    const open = async (url: string): Promise<pg.Client> => {
      const c = await connect(url, 'church-sms-move')
      opened.push(c)
      return c
    }
    const step = async (name: MoveStep): Promise<void> => { await deps.afterStep?.(name, tenantId) }
    const setState = async (state: TenantMove['state'], extra: Partial<TenantMove> = {}): Promise<void> => {
      await registry.tenantMove.update({ where: { id: record.id }, data: { state, ...extra } })
    }
    let switched = false
    try {
      await step('REQUESTED')
      // On a BYOD server the tenant connects as the organization's role (it may not create roles).
      const password = byod ? secretBox.decrypt(to.adminPasswordEncrypted) : generateDatabasePassword()
      const databaseUser = byod ? to.adminUser : databaseName
      if (byod) await createByodDatabase({ adminUrl: servers.adminUrl(to), server: to, tenantId, installationId: deps.installationId, schemaVersion: tenant.schemaVersion, migrations: deps.migrations })
      else await createMoveTarget({ adminUrl: servers.adminUrl(to), tenantId, password, installationId: deps.installationId, schemaVersion: tenant.schemaVersion, migrations: deps.migrations })
      await setState('TARGET_CREATED')
      await step('TARGET_CREATED')

      const source = await open(sourceUrl)
      const target = await open(targetUrl)
      await source.query(DIGEST_SESSION)
      await target.query(DIGEST_SESSION)
      const tables = await tenantTables(source)
      await emptyTables(target, tables)
      if (method === 'LOGICAL') {
        await setState('SYNCING')
        await createPublication(source, tenantId, tables)
        await createSubscription(target, tenantId, sourceUrl)
        await waitForSync(target, tenantId, tables.length)
      }
      await step('SYNCED')

      // The freeze: announced first, so that every process answers writes with 503 instead of
      // blocking on the locks below, then enforced by the locks (reads still pass: EXCLUSIVE mode).
      const frozenAt = Date.now()
      await location.freezeWrites(tenantId, new Date(frozenAt))
      deps.directory.invalidate(tenantId)
      await setState('FROZEN')
      await sleep(settings.settleMs)
      await waitForSendsToSettle(source)
      const locker = await open(sourceUrl)
      await locker.query(DIGEST_SESSION)
      await locker.query('BEGIN')
      await locker.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(settings.freezeTimeoutMs / 2))}`)
      await locker.query(`LOCK TABLE ${lockList(tables)} IN EXCLUSIVE MODE`)
      await step('FROZEN')

      let rows = 0
      if (method === 'COPY') {
        await target.query('BEGIN')
        rows = await copyTables(locker, target, tables)
        await target.query('COMMIT')
      }
      rows = await verify(locker, target, tables, frozenAt)
      await step('VERIFIED')

      const freezeMs = Date.now() - frozenAt
      await location.switchTo(tenantId, from.id, {
        serverId: to.id,
        databaseName,
        databaseHost: to.host,
        databasePort: to.port,
        databaseUser,
        databasePasswordEncrypted: secretBox.encrypt(password),
        encryptionKeyId: secretBox.keyId
      }, async (tx) => await tx.tenantMove.update({
        where: { id: record.id },
        data: { state: 'SWITCHED', liveTenantId: null, freezeMs, dropOldAfter: new Date(Date.now() + settings.graceMs) }
      }), { actor: options.actor, action: 'tenant.moved', tenantId, serverId: to.id, before: { server: from.name, host: from.host, port: from.port }, after: { server: to.name, host: to.host, port: to.port, method, freezeMs, rows } })
      switched = true
      deps.directory.invalidate(tenantId)
      void deps.pool.evict(tenantId)
      // A writer that slipped past the announcement is still queued on the locks: it must fail, not
      // land in the old database once they are released.
      await revokeWrites(locker, tenant.databaseUser)
      await locker.query('COMMIT')
      await step('SWITCHED')

      if (method === 'LOGICAL') {
        await dropSubscription(target, tenantId)
        await dropPublication(source, tenantId)
      }
      const done = await registry.tenantMove.update({ where: { id: record.id }, data: { lockedUntil: null } })
      if (settings.graceMs === 0) await deps.dropOld(done)
      await deps.replayHeld(tenantId).catch((error: unknown) => { log.warn({ err: error, tenantId }, 'held webhooks not replayed yet; the reconciler will') })
      await step('CLEANED')
      log.info({ tenantId, from: from.name, to: to.name, method, freezeMs, rows }, 'tenant moved')
      return { moveId: record.id, tenantId, from: from.name, to: to.name, method, freezeMs, totalMs: Date.now() - started, rows }
    } catch (error) {
      clearInterval(lease)
      // A dead process's connections close, its locks go with them: the same here.
      await Promise.all(opened.splice(0).map(async (c) => { await c.end().catch(() => {}) }))
      if (error instanceof SimulatedMoveCrash) throw error
      if (!switched) {
        log.error({ err: error, tenantId }, 'move failed; undoing it')
        await deps.undo(record.id, (error as Error).message).catch((undoError: unknown) => { log.error({ err: undoError, tenantId }, 'undo failed; the reconciler will finish it') })
        throw new ERRORS.MoveFailed((error as Error).message)
      }
      log.error({ err: error, tenantId }, 'moved, but cleaning up failed; the reconciler will finish it')
      return { moveId: record.id, tenantId, from: from.name, to: to.name, method, freezeMs: -1, totalMs: Date.now() - started, rows: -1 }
    } finally {
      clearInterval(lease)
      await Promise.all(opened.map(async (c) => { await c.end().catch(() => {}) }))
    }
  }

  async function waitForSync (target: pg.Client, tenantId: string, tables: number): Promise<void> {
    const end = Date.now() + settings.syncTimeoutMs
    for (;;) {
      const state = await syncState(target, tenantId)
      if (state.errors > 0) throw new Error(`replication reported ${state.errors} errors during the initial copy`)
      if (state.tables === tables && state.ready === tables) return
      if (Date.now() > end) throw new Error(`initial copy not done after ${settings.syncTimeoutMs} ms (${state.ready}/${tables} tables)`)
      await sleep(100)
    }
  }

  // Outbound sends claim recipients, call the carrier, then record the outcome: a batch claimed
  // before the freeze was heard must record before the copies are compared, or its outcome is lost.
  async function waitForSendsToSettle (source: pg.Client): Promise<void> {
    const end = Date.now() + settings.freezeTimeoutMs / 2
    while (Date.now() < end) {
      const { rows: [row] } = await source.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM "MessageRecipient" WHERE status = \'SENDING\' AND "updatedAt" > (now() AT TIME ZONE \'UTC\') - interval \'1 minute\'')
      if ((row?.n ?? 0) === 0) return
      await sleep(25)
    }
  }

  /** Both copies agree table by table (streaming may still be applying the last changes: retried). */
  async function verify (source: pg.Client, target: pg.Client, tables: TenantTable[], frozenAt: number): Promise<number> {
    const [sourceVersion, targetVersion] = await Promise.all([schemaVersionOf(source), schemaVersionOf(target)])
    if (sourceVersion !== targetVersion) throw new Error(`schema versions differ: source ${sourceVersion}, target ${targetVersion}`)
    for (;;) {
      const [a, b] = await Promise.all([digestTables(source, tables), digestTables(target, tables)])
      const diff = differences(a, b)
      if (diff.length === 0) return a.reduce((sum, d) => sum + d.rows, 0)
      if (Date.now() - frozenAt > settings.freezeTimeoutMs) throw new Error(`copies differ after ${settings.freezeTimeoutMs} ms: ${JSON.stringify(diff.slice(0, 5))}`)
      await sleep(20)
    }
  }

  return { move }
}

export type MoveService = ReturnType<typeof createMoveService>
