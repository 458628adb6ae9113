// Where a tenant's database is, changed in one registry transaction: a restore (and a move) builds the
// new database beside the old one and then calls this. The Tenant row's update is announced on the
// change feed (registry migration 0002), so every process drops its cached record and client at once.
import type { RegistryClient } from './registry-client.js'
import type { Prisma } from '../generated/registry/client.js'
import { tenantWritesIn, type DatabasePlacement } from './tenants.js'

export type { DatabasePlacement }

export class PlacementChanged extends Error {
  constructor (tenantId: string) {
    super(`tenant ${tenantId} changed database while this switch was prepared: nothing was switched`)
    this.name = 'PlacementChanged'
  }
}

/**
 * Points the tenant at `to` if it is still on `fromDatabase`; `alsoInTransaction` records the caller's
 * own state in the same commit, so that a crash leaves either both or neither.
 */
export async function switchTenantDatabase (
  registry: Pick<RegistryClient, '$transaction'>,
  tenantId: string,
  fromDatabase: string,
  to: DatabasePlacement,
  alsoInTransaction?: (tx: Prisma.TransactionClient) => Promise<unknown>
): Promise<void> {
  await registry.$transaction(async (tx) => {
    if (!await tenantWritesIn(tx).switchDatabase(tenantId, fromDatabase, to)) throw new PlacementChanged(tenantId)
    await alsoInTransaction?.(tx)
  })
}
