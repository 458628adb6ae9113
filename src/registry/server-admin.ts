// Operating the database servers: add (validated, template created, then recorded), list with live
// health, drain, disable and enable. The only writer of DatabaseServer rows besides the default
// server's refresh at start-up (servers.ts); every change is audited in the same transaction.
import type { FastifyBaseLogger } from 'fastify'
import type { DatabaseServer, ServerKind } from '../generated/registry/client.js'
import { parseDatabaseUrl, withDatabase } from '../db/pg-admin.js'
import type { Migration } from '../db/migrator.js'
import { ERRORS } from '../errors.js'
import { ensureTemplate } from '../tenancy/template.js'
import type { ServerDirectory } from './servers.js'
import { MAINTENANCE_DATABASE } from './servers.js'
import type { SecretBox } from '../util/secret-box.js'
import type { AuditLog } from './audit-log.js'
import type { RegistryClient } from './registry-client.js'
import { assertUsableServer, probeServer, type ServerHealth } from './server-health.js'

export const SERVER_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/

export interface AddServerInput {
  name: string
  url: string
  kind: Exclude<ServerKind, 'BYOD'>
  connectionBudget: number
  maxTenants: number
  actor: string
}

/** A server as operators see it: never its credentials. */
export function serverView (s: DatabaseServer) {
  return {
    id: s.id,
    name: s.name,
    host: s.host,
    port: s.port,
    kind: s.kind,
    status: s.status,
    connectionBudget: s.connectionBudget,
    maxTenants: s.maxTenants,
    tenantCount: s.tenantCount,
    sizeBytes: Number(s.sizeBytes),
    encryptionKeyId: s.encryptionKeyId
  }
}
export type ServerView = ReturnType<typeof serverView>

type Transition = 'drain' | 'disable' | 'enable'
const TARGET = { drain: 'DRAINING', disable: 'DISABLED', enable: 'ACTIVE' } as const
const ACTION = { drain: 'server.drained', disable: 'server.disabled', enable: 'server.enabled' } as const

export function createServerAdmin (deps: {
  registry: RegistryClient
  servers: Pick<ServerDirectory, 'adminUrl'>
  secretBox: SecretBox
  audit: AuditLog
  tenantMigrations: Migration[]
  log: FastifyBaseLogger
}) {
  const { registry, servers, secretBox, audit, tenantMigrations, log } = deps

  async function byName (name: string): Promise<DatabaseServer> {
    const server = await registry.databaseServer.findUnique({ where: { name } })
    if (server === null) throw new ERRORS.ServerNotFound(name)
    return server
  }

  /** Validates before anything is recorded: a refused server leaves no row behind. */
  async function add (input: AddServerInput): Promise<ServerView & { health: ServerHealth }> {
    if (!SERVER_NAME.test(input.name)) throw new ERRORS.BadRequest('A server name is 1-40 lowercase letters, digits and dashes')
    if (await registry.databaseServer.findUnique({ where: { name: input.name } }) !== null) throw new ERRORS.Conflict(`A server named ${input.name} already exists`)
    const adminUrl = withDatabase(input.url, MAINTENANCE_DATABASE)
    const health = await assertUsableServer(adminUrl, 'shared')
    const template = await ensureTemplate(adminUrl, tenantMigrations)
    const parts = parseDatabaseUrl(adminUrl)
    const created = await registry.$transaction(async (tx) => {
      const server = await tx.databaseServer.create({
        data: {
          name: input.name,
          host: parts.host,
          port: parts.port,
          adminUser: parts.user,
          adminPasswordEncrypted: secretBox.encrypt(parts.password),
          encryptionKeyId: secretBox.keyId,
          kind: input.kind,
          connectionBudget: input.connectionBudget,
          maxTenants: input.maxTenants,
          sizeBytes: BigInt(health.sizeBytes ?? 0),
          checkedAt: new Date()
        }
      })
      await audit.record({ actor: input.actor, action: 'server.added', serverId: server.id, after: { ...serverView(server), version: health.version, template: template.version } }, tx)
      return server
    })
    log.info({ server: created.name, at: `${created.host}:${created.port}`, template: template.version }, 'database server added')
    return { ...serverView(created), health }
  }

  /** Every server with a health check made now (in parallel); the measured size feeds placement. */
  async function list (): Promise<Array<ServerView & { health: ServerHealth }>> {
    const rows = await registry.databaseServer.findMany({ orderBy: { createdAt: 'asc' } })
    return await Promise.all(rows.map(async (server) => {
      const health = await probeServer(servers.adminUrl(server))
      if (health.sizeBytes !== undefined) {
        await registry.databaseServer.update({ where: { id: server.id }, data: { sizeBytes: BigInt(health.sizeBytes), checkedAt: new Date() } })
        server.sizeBytes = BigInt(health.sizeBytes)
      }
      return { ...serverView(server), health }
    }))
  }

  /**
   * drain: keeps its tenants, takes no new ones; disable: out of service, only once it holds no
   * tenant; enable: back in placement, its template brought up to date first (fleet migrations skip
   * servers that are not active).
   */
  async function transition (name: string, to: Transition, actor: string): Promise<ServerView> {
    const server = await byName(name)
    if (to === 'disable' && server.tenantCount > 0) throw new ERRORS.Conflict(`Server ${name} still holds ${server.tenantCount} tenants: drain it and move them first`)
    if (to === 'enable' && server.kind !== 'BYOD') await ensureTemplate(servers.adminUrl(server), tenantMigrations)
    const updated = await registry.$transaction(async (tx) => {
      const row = await tx.databaseServer.update({ where: { id: server.id }, data: { status: TARGET[to] } })
      await audit.record({ actor, action: ACTION[to], serverId: server.id, before: { status: server.status }, after: { status: row.status } }, tx)
      return row
    })
    return serverView(updated)
  }

  return { add, list, transition, byName }
}

export type ServerAdmin = ReturnType<typeof createServerAdmin>
