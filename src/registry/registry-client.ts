// The registry's Prisma client: metadata about organizations, servers and routing. No business data.
import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from '../generated/registry/client.js'
import { CONNECT_TIMEOUT_MS, UTC_SESSION_OPTIONS } from '../db/pg-admin.js'

export type RegistryClient = PrismaClient
export * as RegistryModels from '../generated/registry/client.js'

export function createRegistryClient (url: string, maxConnections = 10): RegistryClient {
  const adapter = new PrismaPg({
    connectionString: url,
    max: maxConnections,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'church-sms-registry',
    options: UTC_SESSION_OPTIONS
  })
  return new PrismaClient({ adapter })
}
