// Finishes or undoes moves whose process stopped: before the switch a move is undone (writes
// unfrozen, replication removed, the new database dropped: the tenant never left), from the switch on
// it is finished (replication removed); after the grace period the old database is dropped. Held
// webhooks of tenants no longer frozen are applied. Every action is idempotent.
import type { FastifyBaseLogger } from 'fastify'
import type { TenantMove } from '../../generated/registry/client.js'
import { connect } from '../../db/pg-admin.js'
import type { AuditLog } from '../../registry/audit-log.js'
import type { RegistryClient } from '../../registry/registry-client.js'
import type { TenantLocation } from '../../registry/tenant-location.js'
import type { ServerDirectory } from '../../registry/servers.js'
import { dropTenantDatabaseOn, tenantDatabaseOn } from '../byod/byod-database.js'
import type { TenantDirectory } from '../../registry/tenant-directory.js'
import { dropPublication, dropSubscription } from './replication.js'

export interface MoveReconcileReport { undone: string[], finished: string[], oldDatabasesDropped: string[], heldReplayed: number }

const LIVE = ['REQUESTED', 'TARGET_CREATED', 'SYNCING', 'FROZEN'] as const

export function createMoveRecovery (deps: {
  registry: RegistryClient
  servers: Pick<ServerDirectory, 'adminUrl' | 'get'>
  directory: Pick<TenantDirectory, 'invalidate'>
  location: TenantLocation
  audit: Pick<AuditLog, 'record'>
  log: FastifyBaseLogger
  replayHeld: (tenantId: string) => Promise<number>
  retireByod: (serverId: string, actor: string) => Promise<void>
}) {
  const { registry, servers, location, audit, log } = deps

  /** Runs `fn` on the tenant's database on `serverId` as admin; a database that is gone is nothing to do. */
  async function inDatabase (serverId: string, tenantId: string, fn: (c: Awaited<ReturnType<typeof connect>>) => Promise<void>): Promise<void> {
    const server = await servers.get(serverId)
    if (server === null) return
    let client
    try {
      client = await connect(servers.adminUrl(server, tenantDatabaseOn(server, tenantId)), 'church-sms-move')
    } catch (error) {
      if (/does not exist/.test((error as Error).message)) return
      throw error
    }
    try {
      await fn(client)
    } finally {
      await client.end().catch(() => {})
    }
  }

  async function removeReplication (move: TenantMove): Promise<void> {
    if (move.method !== 'LOGICAL') return
    await inDatabase(move.toServerId, move.tenantId, async (c) => { await dropSubscription(c, move.tenantId) })
    await inDatabase(move.fromServerId, move.tenantId, async (c) => { await dropPublication(c, move.tenantId) })
  }

  async function undo (moveId: string, reason: string): Promise<void> {
    const move = await registry.tenantMove.findUnique({ where: { id: moveId } })
    if (move === null || !(LIVE as readonly string[]).includes(move.state)) return
    const tenant = await registry.tenant.findUnique({ where: { id: move.tenantId } })
    // Never drop the database the tenant lives in: before the switch that is the source.
    if (tenant !== null && tenant.serverId === move.toServerId) throw new Error(`move ${moveId} is not switched but its tenant is on the target`)
    await location.unfreezeWrites(move.tenantId)
    deps.directory.invalidate(move.tenantId)
    await removeReplication(move)
    const target = await servers.get(move.toServerId)
    if (target !== null) await dropTenantDatabaseOn(target, servers.adminUrl(target), move.tenantId)
    await registry.tenantMove.update({ where: { id: moveId }, data: { state: 'ROLLED_BACK', liveTenantId: null, lockedUntil: null, error: reason.slice(0, 2000) } })
    await audit.record({ actor: move.actor, action: 'tenant.move_rolled_back', tenantId: move.tenantId, serverId: move.toServerId, detail: { moveId, reason: reason.slice(0, 500) } })
    await deps.replayHeld(move.tenantId).catch(() => 0)
    log.warn({ tenantId: move.tenantId, moveId, reason }, 'move undone: the tenant stays on its server')
  }

  async function dropOld (move: TenantMove): Promise<void> {
    const tenant = await registry.tenant.findUnique({ where: { id: move.tenantId } })
    // A tenant that came back to its old server in the meantime lives in that database now.
    if (tenant === null || tenant.serverId !== move.fromServerId) {
      const old = await servers.get(move.fromServerId)
      if (old !== null) await dropTenantDatabaseOn(old, servers.adminUrl(old), move.tenantId)
      // An organization's own server held this tenant only: nothing goes there again.
      if (old?.kind === 'BYOD') await deps.retireByod(old.id, 'reconciler')
    }
    await registry.tenantMove.update({ where: { id: move.id }, data: { state: 'DONE' } })
    await audit.record({ actor: 'reconciler', action: 'tenant.old_database_dropped', tenantId: move.tenantId, serverId: move.fromServerId, detail: { moveId: move.id } })
  }

  async function reconcile (now = new Date()): Promise<MoveReconcileReport> {
    const report: MoveReconcileReport = { undone: [], finished: [], oldDatabasesDropped: [], heldReplayed: 0 }
    const abandoned = await registry.tenantMove.findMany({ where: { state: { in: [...LIVE] }, OR: [{ lockedUntil: null }, { lockedUntil: { lt: now } }] } })
    for (const move of abandoned) {
      await undo(move.id, 'abandoned: undone by the reconciler')
      report.undone.push(move.tenantId)
    }
    const switched = await registry.tenantMove.findMany({ where: { state: 'SWITCHED' } })
    for (const move of switched) {
      if (move.lockedUntil !== null && move.lockedUntil < now) {
        await removeReplication(move)
        await registry.tenantMove.update({ where: { id: move.id }, data: { lockedUntil: null } })
        report.finished.push(move.tenantId)
      } else if (move.lockedUntil === null && move.dropOldAfter !== null && move.dropOldAfter <= now) {
        await dropOld(move)
        report.oldDatabasesDropped.push(move.tenantId)
      }
    }
    const held = await registry.heldWebhook.findMany({ distinct: ['tenantId'], select: { tenantId: true } })
    for (const { tenantId } of held) report.heldReplayed += await deps.replayHeld(tenantId)
    return report
  }

  return { undo, reconcile, dropOld }
}

export type MoveRecovery = ReturnType<typeof createMoveRecovery>
