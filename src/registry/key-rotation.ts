// Key rotation: every stored credential (tenant database passwords, server admin passwords) sealed
// anew under the current key. Every process must already accept both keys (ENCRYPTION_KEYS lists the
// old ones), so nothing stops while it runs; each row is swapped only if nobody changed it meanwhile.
import type { FastifyBaseLogger } from 'fastify'
import type { SecretBox } from '../util/secret-box.js'
import type { AuditLog } from './audit-log.js'
import type { RegistryClient } from './registry-client.js'
import type { TenantLocation } from './tenant-location.js'

export interface RotationReport { keyId: string, tenants: number, servers: number, skipped: number, failed: Array<{ id: string, error: string }> }

const BATCH = 200

export function createKeyRotation (deps: { registry: RegistryClient, secretBox: SecretBox, location: Pick<TenantLocation, 'resealTenant' | 'resealServer'>, audit: Pick<AuditLog, 'record'>, log: FastifyBaseLogger }) {
  const { registry, secretBox, location, audit, log } = deps

  async function rotate (actor: string): Promise<RotationReport> {
    const keyId = secretBox.keyId
    const report: RotationReport = { keyId, tenants: 0, servers: 0, skipped: 0, failed: [] }
    const fromKeys = new Set<string>()
    const reseal = async (id: string, sealed: string, write: (fresh: string) => Promise<boolean>): Promise<boolean | undefined> => {
      try {
        const fresh = secretBox.encrypt(secretBox.decrypt(sealed))
        return await write(fresh)
      } catch (error) {
        report.failed.push({ id, error: (error as Error).message })
        return undefined
      }
    }
    for (let cursor: string | undefined; ;) {
      const rows = await registry.tenant.findMany({
        where: { encryptionKeyId: { not: keyId } },
        select: { id: true, databasePasswordEncrypted: true, encryptionKeyId: true },
        orderBy: { id: 'asc' },
        take: BATCH,
        ...(cursor === undefined ? {} : { cursor: { id: cursor }, skip: 1 })
      })
      for (const row of rows) {
        fromKeys.add(row.encryptionKeyId)
        const done = await reseal(row.id, row.databasePasswordEncrypted, async (fresh) => await location.resealTenant(row.id, fresh, row.databasePasswordEncrypted, keyId))
        if (done === true) report.tenants++
        else if (done === false) report.skipped++
      }
      if (rows.length < BATCH) break
      cursor = rows.at(-1)?.id
    }
    const servers = await registry.databaseServer.findMany({ where: { encryptionKeyId: { not: keyId } }, select: { id: true, adminPasswordEncrypted: true, encryptionKeyId: true } })
    for (const row of servers) {
      fromKeys.add(row.encryptionKeyId)
      const done = await reseal(row.id, row.adminPasswordEncrypted, async (fresh) => await location.resealServer(row.id, fresh, row.adminPasswordEncrypted, keyId))
      if (done === true) report.servers++
      else if (done === false) report.skipped++
    }
    await audit.record({ actor, action: 'keys.rotated', before: { keyIds: [...fromKeys].sort() }, after: { keyId }, detail: { tenants: report.tenants, servers: report.servers, skipped: report.skipped, failed: report.failed.length } })
    log.info({ ...report, failed: report.failed.length }, 'credentials re-encrypted')
    return report
  }

  /** How many credentials are still sealed under another key than the current one. */
  async function pending (): Promise<number> {
    const keyId = secretBox.keyId
    return await registry.tenant.count({ where: { encryptionKeyId: { not: keyId } } }) + await registry.databaseServer.count({ where: { encryptionKeyId: { not: keyId } } })
  }

  return { rotate, pending }
}

export type KeyRotation = ReturnType<typeof createKeyRotation>
