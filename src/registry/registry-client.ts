// The registry's Prisma client: metadata about organizations, servers and routing. No business data.
import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from '../generated/registry/client.js'
import { ClosablePool } from '../db/closable-pool.js'
import { CONNECT_TIMEOUT_MS, UTC_SESSION_OPTIONS } from '../db/pg-admin.js'

export type RegistryClient = PrismaClient
export * as RegistryModels from '../generated/registry/client.js'

export function createRegistryClient (url: string, maxConnections = 10): RegistryClient {
  // A pool of ours rather than the adapter's own (see closable-pool.ts: a transaction whose COMMIT
  // failed would otherwise keep its connection for good); $disconnect still ends it.
  const pool = new ClosablePool({
    connectionString: url,
    max: maxConnections,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'church-sms-registry',
    options: UTC_SESSION_OPTIONS
  })
  return new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) })
}
