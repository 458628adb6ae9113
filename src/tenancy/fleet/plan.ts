// The plan of a fleet run, made from the registry alone plus one read of each template's ledger:
// templates first, then a deterministic canary group, then the rest. Tenants whose registry row
// already says the target version are left out without a connection.
import { createHash } from 'node:crypto'
import type { RegistryClient } from '../../registry/registry-client.js'
import type { Migration } from '../../db/migrator.js'
import { withClient, withDatabase } from '../../db/pg-admin.js'
import { ERRORS } from '../../errors.js'
import type { ServerDirectory, ServerRow } from '../../registry/servers.js'
import { TEMPLATE_DATABASE } from '../template.js'
import { pendingFiles, versionOf, type Direction } from './apply.js'
import { failureAllowance, resolveOptions, type FleetOptions, type FleetRequest } from './options.js'

export interface PlanTenant { id: string, serverId: string, databaseName: string, schemaVersion: string, pending: string[] }
export interface PlanServer { id: string, name: string, templateVersion: string, pending: string[] }

export interface FleetPlan {
  options: FleetOptions
  servers: PlanServer[]
  canary: PlanTenant[]
  rest: PlanTenant[]
  /** Tenants already at the target (by their registry row). */
  upToDate: number
  concurrency: number
  allowedFailures: number
}

/** Tenant states whose database exists and follows the fleet's schema. */
export const MIGRATED_STATES = ['ACTIVE', 'SUSPENDED', 'DELETION_SCHEDULED'] as const

/** Versions between `from` and `target`, in the order a run applies them. */
export function versionsBetween (migrations: Migration[], direction: Direction, from: string, target: string): string[] {
  const low = from === 'none' ? '' : from
  if (direction === 'up') return migrations.filter((m) => m.version > low && m.version <= target).map((m) => m.version)
  return migrations.filter((m) => m.version <= from && m.version > (target === 'none' ? '' : target)).map((m) => m.version).reverse()
}

const canaryOrder = (id: string): string => createHash('sha256').update(id).digest('hex')

export interface PlanDeps {
  registry: Pick<RegistryClient, 'tenant'>
  servers: Pick<ServerDirectory, 'list' | 'adminUrl'>
  /** Budget slots one server offers (the tenant pool's): the default concurrency takes half. */
  slots: (serverId: string) => number
}

async function templateVersion (servers: PlanDeps['servers'], server: ServerRow, migrations: Migration[]): Promise<string> {
  return await withClient(withDatabase(servers.adminUrl(server), TEMPLATE_DATABASE), async (client) => {
    const exists = await client.query("SELECT to_regclass('migrator.applied') IS NOT NULL AS present")
    if (exists.rows[0]?.present !== true) return 'none'
    const applied = (await client.query('SELECT version, checksum FROM migrator.applied ORDER BY version')).rows
    try {
      // A changed or unknown file refuses the run here, before any tenant is touched.
      pendingFiles(applied, migrations, 'up', migrations.at(-1)?.version ?? 'none')
    } catch (error) {
      throw new ERRORS.BadRequest(`server ${server.name}'s template: ${(error as Error).message}`)
    }
    return versionOf(applied)
  })
}

export async function planFleetRun (deps: PlanDeps, migrations: Migration[], request: FleetRequest): Promise<FleetPlan> {
  const options = resolveOptions(request, migrations)
  // BYOD servers keep no template: their one tenant is migrated like any other, in its group.
  const active = (await deps.servers.list()).filter((s) => s.status === 'ACTIVE' && s.kind !== 'BYOD')
  const servers: PlanServer[] = []
  for (const server of active) {
    const version = await templateVersion(deps.servers, server, migrations)
    servers.push({ id: server.id, name: server.name, templateVersion: version, pending: [] })
  }
  if (options.direction === 'down' && !options.explicitTarget) {
    // One step back from the newest version the fleet's templates have.
    const newest = servers.map((s) => s.templateVersion).sort().at(-1) ?? migrations.at(-1)?.version ?? 'none'
    options.target = [...migrations].reverse().find((m) => m.version < newest)?.version ?? 'none'
  }
  for (const s of servers) s.pending = versionsBetween(migrations, options.direction, s.templateVersion, options.target)

  const rows = await deps.registry.tenant.findMany({
    where: { status: { in: [...MIGRATED_STATES] } },
    select: { id: true, serverId: true, databaseName: true, schemaVersion: true }
  })
  const rank = (v: string): string => v === 'none' ? '' : v
  const behind = (v: string): boolean => options.direction === 'up' ? rank(v) < rank(options.target) : rank(v) > rank(options.target)
  const pending = rows.filter((r) => behind(r.schemaVersion))
    .map((r) => ({ ...r, pending: versionsBetween(migrations, options.direction, r.schemaVersion, options.target) }))
    .sort((a, b) => canaryOrder(a.id) < canaryOrder(b.id) ? -1 : 1)
  const canarySize = Math.min(pending.length, options.canary ?? Math.max(10, Math.ceil(pending.length / 100)))
  const serverIds = new Set(pending.map((t) => t.serverId))
  const byBudget = [...serverIds].reduce((sum, id) => sum + Math.max(1, Math.floor(deps.slots(id) / 2)), 0)
  return {
    options,
    servers,
    canary: pending.slice(0, canarySize),
    rest: pending.slice(canarySize),
    upToDate: rows.length - pending.length,
    concurrency: Math.max(1, options.concurrency ?? byBudget),
    allowedFailures: failureAllowance(options.maxFailures, pending.length)
  }
}
