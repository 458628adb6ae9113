// The PostgreSQL servers that hold tenant databases: admin credentials (encrypted in the registry),
// the default server taken from the configuration, and placement of new tenants.
import type { Prisma } from '../generated/registry/client.js'
import type { RegistryClient } from './registry-client.js'
import type { SecretBox } from '../util/secret-box.js'
import { buildDatabaseUrl, parseDatabaseUrl } from '../db/pg-admin.js'
import { ERRORS } from '../errors.js'

export interface ServerRow {
  id: string
  name: string
  host: string
  port: number
  adminUser: string
  adminPasswordEncrypted: string
  connectionBudget: number
  status: string
  kind: string
  /** Where the admin connects for DDL (MAINTENANCE_DATABASE unless a BYOD URL named its own). */
  adminDatabase: string
  /** BYOD: the organization's own database that holds the tenant (see tenantDatabaseOn). */
  tenantDatabase: string | null
}

/** Databases the admin connects to for CREATE/DROP DATABASE and the template lock. */
export const MAINTENANCE_DATABASE = 'postgres'

/** Moves a server's tenant count with its tenant rows (called by tenants.ts, in the same transaction). */
export async function adjustTenantCount (tx: Prisma.TransactionClient, serverId: string, delta: 1 | -1): Promise<void> {
  await tx.databaseServer.update({ where: { id: serverId }, data: { tenantCount: delta > 0 ? { increment: 1 } : { decrement: 1 } } })
}

export function createServerDirectory (deps: { registry: RegistryClient, secretBox: SecretBox }) {
  const { registry, secretBox } = deps

  function adminUrl (server: ServerRow, database = server.adminDatabase): string {
    return buildDatabaseUrl({
      host: server.host,
      port: server.port,
      user: server.adminUser,
      password: secretBox.decrypt(server.adminPasswordEncrypted),
      database,
      params: ''
    })
  }

  /** Records (or refreshes) the server named `name` from an admin URL, e.g. the configured default. */
  async function upsertFromUrl (name: string, url: string, connectionBudget: number): Promise<ServerRow> {
    const parts = parseDatabaseUrl(url)
    const data = {
      host: parts.host,
      port: parts.port,
      adminUser: parts.user,
      adminPasswordEncrypted: secretBox.encrypt(parts.password),
      encryptionKeyId: secretBox.keyId,
      connectionBudget
    }
    return await registry.databaseServer.upsert({ where: { name }, create: { name, ...data }, update: data })
  }

  async function list (): Promise<ServerRow[]> {
    return await registry.databaseServer.findMany({ orderBy: { createdAt: 'asc' } })
  }

  async function get (id: string): Promise<ServerRow | null> {
    return await registry.databaseServer.findUnique({ where: { id } })
  }

  /**
   * Where a new tenant goes: the active shared server with the most room (share of its tenant limit
   * used, then bytes held), or the server `pin` names when it is active and has room. Draining,
   * disabled and BYOD servers take no new tenants.
   */
  async function pickForNewTenant (pin?: string): Promise<ServerRow> {
    if (pin !== undefined) {
      const pinned = await registry.databaseServer.findUnique({ where: { name: pin } })
      if (pinned === null) throw new ERRORS.ServerNotFound(pin)
      if (pinned.status !== 'ACTIVE' || pinned.kind === 'BYOD' || pinned.tenantCount >= pinned.maxTenants) throw new ERRORS.Conflict(`Server ${pin} takes no new tenants (${pinned.status.toLowerCase()}, ${pinned.kind.toLowerCase()}, ${pinned.tenantCount}/${pinned.maxTenants})`)
      return pinned
    }
    const servers = await registry.databaseServer.findMany({ where: { status: 'ACTIVE', kind: 'SHARED' } })
    const open = servers.filter((s) => s.tenantCount < s.maxTenants)
    open.sort((a, b) => a.tenantCount / a.maxTenants - b.tenantCount / b.maxTenants || Number(a.sizeBytes - b.sizeBytes))
    const best = open[0]
    if (best === undefined) throw new ERRORS.ServiceUnavailable('No active shared database server has room for a new organization')
    return best
  }

  return { adminUrl, upsertFromUrl, list, get, pickForNewTenant }
}

export type ServerDirectory = ReturnType<typeof createServerDirectory>
