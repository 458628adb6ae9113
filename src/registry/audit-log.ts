// The audit trail of where data lives: servers added, drained, disabled or enabled; tenants placed,
// moved, their database set or tested; keys rotated. Each row names its actor and carries before and
// after snapshots; whatever looks like a secret is stripped before it is written.
import type { RegistryClient } from './registry-client.js'

export type AuditAction =
  | 'server.added' | 'server.drained' | 'server.disabled' | 'server.enabled' | 'server.address_changed'
  | 'tenant.placed' | 'tenant.move_started' | 'tenant.moved' | 'tenant.move_rolled_back'
  | 'tenant.old_database_dropped' | 'tenant.database_set' | 'tenant.database_tested'
  | 'keys.rotated'

export interface AuditEntry {
  actor: string
  action: AuditAction
  tenantId?: string
  serverId?: string
  before?: Record<string, unknown>
  after?: Record<string, unknown>
  detail?: Record<string, unknown>
}

type Writer = Pick<RegistryClient, 'auditLog'>

// Keys never written, at any depth: credentials and whatever could carry them (URLs).
const SECRET_KEY = /password|secret|token|url|encrypted|key$/i

/** A copy of `value` without secret-looking keys; Dates become ISO strings, BigInts numbers. */
export function withoutSecrets (value: unknown): unknown {
  if (value instanceof Date) return value.toISOString()
  if (typeof value === 'bigint') return Number(value)
  if (Array.isArray(value)) return value.map(withoutSecrets)
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(Object.entries(value).filter(([key]) => !SECRET_KEY.test(key)).map(([key, v]) => [key, withoutSecrets(v)]))
}

const json = (value: Record<string, unknown> | undefined): object | undefined => value === undefined ? undefined : withoutSecrets(value) as object

export interface AuditQuery {
  tenantId?: string
  serverId?: string
  action?: string
  actor?: string
  since?: Date
  until?: Date
  limit: number
  cursor?: string
}

/** `server.drained` matches that action; `server.*` every server action. */
function actionFilter (action: string | undefined): string | { startsWith: string } | undefined {
  if (action?.endsWith('.*') === true) return { startsWith: action.slice(0, -1) }
  return action
}

export function createAuditLog (deps: { registry: RegistryClient }) {
  const { registry } = deps

  /** Writes one row, inside the caller's transaction when `tx` is given (so it commits with the change). */
  async function record (entry: AuditEntry, tx: Writer = registry): Promise<void> {
    await tx.auditLog.create({
      data: {
        actor: entry.actor,
        action: entry.action,
        tenantId: entry.tenantId,
        serverId: entry.serverId,
        before: json(entry.before),
        after: json(entry.after),
        detail: json(entry.detail)
      }
    })
  }

  /** Newest first; the cursor is the last row's id of the previous page. */
  async function page (query: AuditQuery) {
    const createdAt = query.since === undefined && query.until === undefined ? undefined : { gte: query.since, lt: query.until }
    const rows = await registry.auditLog.findMany({
      where: { tenantId: query.tenantId, serverId: query.serverId, action: actionFilter(query.action), actor: query.actor, createdAt },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: query.limit + 1,
      ...(query.cursor === undefined ? {} : { cursor: { id: query.cursor }, skip: 1 })
    })
    const entries = rows.slice(0, query.limit)
    return { entries, nextCursor: rows.length > query.limit ? entries.at(-1)?.id ?? null : null }
  }

  return { record, page }
}

export type AuditLog = ReturnType<typeof createAuditLog>
