// Resolves the registry database: DATABASE_URL when set, otherwise embedded PostgreSQL under DATA_DIR.
import path from 'node:path'
import type { Config } from '../config.js'
import type { RunningPostgres } from './embedded-postgres.js'
import { ensureDatabase, withClient, withDatabase } from './pg-admin.js'

export const EMBEDDED_REGISTRY_DATABASE = 'registry'

export interface ResolvedDatabase {
  databaseUrl: string
  embedded: RunningPostgres | undefined
}

export async function resolveDatabase (config: Config, log: (msg: string) => void): Promise<ResolvedDatabase> {
  if (config.databaseUrl !== undefined) return { databaseUrl: config.databaseUrl, embedded: undefined }
  // Loaded only when needed: importing embedded-postgres installs an exit hook that answers SIGTERM
  // with process.exit(143) at once, cutting short the graceful shutdown of a process on DATABASE_URL.
  const { startEmbeddedPostgres } = await import('./embedded-postgres.js')
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
