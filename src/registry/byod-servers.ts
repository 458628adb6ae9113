// DatabaseServer rows for organizations' own PostgreSQL (kind BYOD, one tenant each): recorded once
// the URL has been validated, removed again when the tenant never got there, retired (disabled) once
// the tenant has left it. The tenant's own credentials are the server's admin credentials, both
// sealed under the current key (so `keys rotate` re-seals them with the rest).
import { randomBytes } from 'node:crypto'
import type { DatabaseServer } from '../generated/registry/client.js'
import { parseDatabaseUrl } from '../db/pg-admin.js'
import type { SecretBox } from '../util/secret-box.js'
import type { AuditLog } from './audit-log.js'
import type { RegistryClient } from './registry-client.js'

export interface NewByodServer {
  tenantId: string
  /** The validated URL: its database is where the admin connects (and the tenant lives, with `ownDatabase`). */
  url: string
  ownDatabase: boolean
  connectionBudget: number
  sizeBytes: number
}

export function createByodServers (deps: { registry: RegistryClient, secretBox: SecretBox, audit: Pick<AuditLog, 'record'> }) {
  const { registry, secretBox, audit } = deps

  async function record (input: NewByodServer): Promise<DatabaseServer> {
    const parts = parseDatabaseUrl(input.url)
    return await registry.databaseServer.create({
      data: {
        // Unique per registration: a tenant may be given another database later.
        name: `byod-${input.tenantId.slice(0, 25)}-${randomBytes(2).toString('hex')}`,
        kind: 'BYOD',
        host: parts.host,
        port: parts.port,
        adminUser: parts.user,
        adminPasswordEncrypted: secretBox.encrypt(parts.password),
        encryptionKeyId: secretBox.keyId,
        adminDatabase: parts.database,
        tenantDatabase: input.ownDatabase ? parts.database : null,
        connectionBudget: input.connectionBudget,
        maxTenants: 1,
        sizeBytes: BigInt(input.sizeBytes),
        checkedAt: new Date()
      }
    })
  }

  /** The tenant never arrived (the move was refused or failed): the row goes, as if never recorded. */
  async function remove (serverId: string): Promise<void> {
    await registry.databaseServer.deleteMany({ where: { id: serverId, kind: 'BYOD', tenantCount: 0 } })
  }

  /** The tenant left this BYOD server and its old database is gone: nothing may be placed there again. */
  async function retire (serverId: string, actor: string): Promise<void> {
    await registry.$transaction(async (tx) => {
      const server = await tx.databaseServer.findUnique({ where: { id: serverId } })
      if (server === null || server.kind !== 'BYOD' || server.tenantCount > 0 || server.status === 'DISABLED') return
      await tx.databaseServer.update({ where: { id: serverId }, data: { status: 'DISABLED' } })
      await audit.record({ actor, action: 'server.disabled', serverId, before: { status: server.status }, after: { status: 'DISABLED' }, detail: { reason: 'its tenant moved away' } }, tx)
    })
  }

  return { record, remove, retire }
}

export type ByodServers = ReturnType<typeof createByodServers>
