// Resolves the registry database: DATABASE_URL when set, otherwise embedded PostgreSQL under DATA_DIR.
import path from 'node:path'
import type { Config } from '../config.js'
import { startEmbeddedPostgres, type RunningPostgres } from './embedded-postgres.js'
import { ensureDatabase, withClient, withDatabase } from './pg-admin.js'

export const EMBEDDED_REGISTRY_DATABASE = 'registry'

export interface ResolvedDatabase {
  databaseUrl: string
  embedded: RunningPostgres | undefined
}

export async function resolveDatabase (config: Config, log: (msg: string) => void): Promise<ResolvedDatabase> {
  if (config.databaseUrl !== undefined) return { databaseUrl: config.databaseUrl, embedded: undefined }
  const embedded = await startEmbeddedPostgres({ dir: path.join(config.dataDir, 'postgres') })
  log(`embedded PostgreSQL listening on 127.0.0.1:${embedded.port} (data in ${path.join(config.dataDir, 'postgres')})`)
  try {
    await withClient(embedded.url, async (client) => { await ensureDatabase(client, EMBEDDED_REGISTRY_DATABASE) })
  } catch (error) {
    await embedded.stop()
    throw error
  }
  return { databaseUrl: withDatabase(embedded.url, EMBEDDED_REGISTRY_DATABASE), embedded }
}
