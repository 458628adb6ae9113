// Bring your own database: an operator gives one tenant an organization's own PostgreSQL. The URL is
// validated like a server's (reachable, 14+, a role that creates a database or owns an empty one)
// before anything is recorded; then it is recorded as a BYOD server and the tenant is moved there by
// copy, its schema built by the migrator. Testing checks a tenant's stored connection, or a candidate
// URL without recording it. No URL or password reaches a response, a log line or the audit trail.
import type { FastifyBaseLogger } from 'fastify'
import { connect, describeServer, parseDatabaseUrl } from '../../db/pg-admin.js'
import { ERRORS } from '../../errors.js'
import type { AuditLog } from '../../registry/audit-log.js'
import type { ByodServers } from '../../registry/byod-servers.js'
import type { RegistryClient } from '../../registry/registry-client.js'
import { assertUsableServer, probeServer, refusal } from '../../registry/server-health.js'
import type { TenantDirectory } from '../../registry/tenant-directory.js'
import { MAINTENANCE_DATABASE } from '../../registry/servers.js'
import type { MoveReport, MoveService } from '../moves/move-service.js'

export interface DatabaseSetResult {
  tenantId: string
  server: string
  kind: 'BYOD'
  host: string
  port: number
  database: string
  user: string
  /** true: the organization's own (empty) database; false: tenant_<id>, created by its role. */
  ownDatabase: boolean
  move: MoveReport
}

export interface DatabaseTestResult {
  tenantId: string
  /** `tenant`: the tenant's stored connection; `candidate`: a URL given to the test, not recorded. */
  target: 'tenant' | 'candidate'
  at: string
  ok: boolean
  reachable: boolean
  reason: string | null
  rttMs: number | null
  version: string | null
  server: string | null
  schemaVersion: string | null
}

export function createByodService (deps: {
  registry: RegistryClient
  byodServers: ByodServers
  moves: Pick<MoveService, 'move'>
  directory: Pick<TenantDirectory, 'connectionInfo'>
  audit: Pick<AuditLog, 'record'>
  defaultConnectionBudget: number
  log: FastifyBaseLogger
}) {
  const { registry, byodServers, audit, log } = deps

  async function tenantOrThrow (tenantId: string) {
    const tenant = await registry.tenant.findUnique({ where: { id: tenantId }, include: { server: true } })
    if (tenant === null) throw new ERRORS.TenantNotFound(tenantId)
    return tenant
  }

  async function setDatabase (tenantId: string, url: string, options: { actor: string, connectionBudget?: number }): Promise<DatabaseSetResult> {
    const tenant = await tenantOrThrow(tenantId)
    if (tenant.status !== 'ACTIVE' && tenant.status !== 'SUSPENDED') throw new ERRORS.MoveRefused(`the organization is ${tenant.status.toLowerCase()}`)
    const health = await assertUsableServer(url, 'byod')
    const parts = parseDatabaseUrl(url)
    // The URL's own database when the role owns it and it is empty (`postgres` only when the role
    // cannot create one): otherwise the role creates tenant_<id> beside it.
    const ownDatabase = health.ownsEmptyDatabase === true && (health.createDb !== true || parts.database !== MAINTENANCE_DATABASE)
    const server = await byodServers.record({ tenantId, url, ownDatabase, connectionBudget: options.connectionBudget ?? deps.defaultConnectionBudget, sizeBytes: health.sizeBytes ?? 0 })
    let move: MoveReport
    try {
      move = await deps.moves.move(tenantId, server.name, { actor: options.actor, method: 'COPY' })
    } catch (error) {
      await byodServers.remove(server.id).catch((removeError: unknown) => { log.error({ err: removeError, tenantId }, 'BYOD server row not removed') })
      throw error
    }
    const database = ownDatabase ? parts.database : (await registry.tenant.findUniqueOrThrow({ where: { id: tenantId } })).databaseName
    const after = { server: server.name, kind: 'BYOD' as const, host: server.host, port: server.port, database, user: server.adminUser, ownDatabase }
    await audit.record({
      actor: options.actor,
      action: 'tenant.database_set',
      tenantId,
      serverId: server.id,
      before: { server: tenant.server.name, kind: tenant.server.kind, host: tenant.databaseHost, port: tenant.databasePort, database: tenant.databaseName },
      after,
      detail: { moveId: move.moveId, freezeMs: move.freezeMs, rows: move.rows, postgres: health.version }
    })
    log.info({ tenantId, server: server.name, at: `${server.host}:${server.port}` }, 'tenant database set to its own server')
    return { tenantId, ...after, move }
  }

  /** Never throws for a bad connection: the answer says what is wrong. */
  async function testDatabase (tenantId: string, options: { actor: string, url?: string }): Promise<DatabaseTestResult> {
    const tenant = await tenantOrThrow(tenantId)
    let result: DatabaseTestResult
    if (options.url !== undefined) {
      let at: string
      try {
        at = describeServer(options.url)
      } catch {
        throw new ERRORS.BadRequest('url is not a postgres:// URL')
      }
      const health = await probeServer(options.url)
      const reason = refusal(health, 'byod')
      result = { tenantId, target: 'candidate', at, ok: reason === null, reachable: health.reachable, reason, rttMs: health.rttMs ?? null, version: health.version ?? null, server: null, schemaVersion: null }
    } else {
      result = await testStored(tenantId, tenant.server.name, tenant.schemaVersion)
    }
    await audit.record({ actor: options.actor, action: 'tenant.database_tested', tenantId, serverId: options.url === undefined ? tenant.serverId : undefined, after: { ...result } })
    return result
  }

  // As the tenant's own role, through the credentials the pool uses: reachable, its schema version.
  async function testStored (tenantId: string, serverName: string, expected: string): Promise<DatabaseTestResult> {
    const { url } = await deps.directory.connectionInfo(tenantId)
    const at = describeServer(url)
    const base = { tenantId, target: 'tenant' as const, at, server: serverName }
    let client
    try {
      client = await connect(url, 'church-sms-db-test')
    } catch (error) {
      return { ...base, ok: false, reachable: false, reason: (error as Error).message, rttMs: null, version: null, schemaVersion: null }
    }
    try {
      const started = performance.now()
      await client.query('SELECT 1')
      const rttMs = Math.round((performance.now() - started) * 100) / 100
      const { rows: [row] } = await client.query<{ version: string, schema: string | null }>(
        "SELECT current_setting('server_version') AS version, (SELECT max(version) FROM migrator.applied) AS schema")
      const schemaVersion = row?.schema ?? null
      const reason = schemaVersion === expected ? null : `its schema is at ${schemaVersion ?? 'none'}, the registry says ${expected}`
      return { ...base, ok: reason === null, reachable: true, reason, rttMs, version: row?.version ?? null, schemaVersion }
    } catch (error) {
      return { ...base, ok: false, reachable: true, reason: (error as Error).message, rttMs: null, version: null, schemaVersion: null }
    } finally {
      await client.end().catch(() => {})
    }
  }

  return { setDatabase, testDatabase }
}

export type ByodService = ReturnType<typeof createByodService>
