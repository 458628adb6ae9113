// One random data key per tenant seals all of its backups; the key itself is stored in the registry
// sealed under ENCRYPTION_KEY (its id recorded, for rotation). Destroying it makes every copy unreadable.
import { randomBytes } from 'node:crypto'
import type { RegistryClient } from '../../registry/registry-client.js'
import type { SecretBox } from '../../util/secret-box.js'

export class DataKeyMissing extends Error {
  constructor (tenantId: string) {
    super(`tenant ${tenantId} has no backup key (destroyed with the tenant, or never made): its backups cannot be opened`)
    this.name = 'DataKeyMissing'
  }
}

export function createDataKeys (deps: { registry: Pick<RegistryClient, 'tenantDataKey'>, secretBox: SecretBox }) {
  const { registry, secretBox } = deps

  async function get (tenantId: string): Promise<Buffer> {
    const row = await registry.tenantDataKey.findUnique({ where: { tenantId } })
    if (row === null) throw new DataKeyMissing(tenantId)
    return Buffer.from(secretBox.decrypt(row.keyEncrypted), 'base64')
  }

  /** The tenant's key, made on first use; two first uses at once agree on one key. */
  async function getOrCreate (tenantId: string): Promise<Buffer> {
    const existing = await registry.tenantDataKey.findUnique({ where: { tenantId } })
    if (existing !== null) return Buffer.from(secretBox.decrypt(existing.keyEncrypted), 'base64')
    const key = randomBytes(32)
    await registry.tenantDataKey.createMany({
      data: [{ tenantId, keyEncrypted: secretBox.encrypt(key.toString('base64')), encryptionKeyId: secretBox.keyId }],
      skipDuplicates: true
    })
    return await get(tenantId)
  }

  async function destroy (tenantId: string): Promise<boolean> {
    const { count } = await registry.tenantDataKey.deleteMany({ where: { tenantId } })
    return count > 0
  }

  return { get, getOrCreate, destroy }
}

export type DataKeys = ReturnType<typeof createDataKeys>
