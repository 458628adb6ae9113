// Embedded PostgreSQL for a benchmark: a throw-away cluster in a fresh temporary folder.
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.js'
import { log } from './stats.js'

export interface BenchPostgres { url: string, port: number, dir: string, fast: boolean, stop: () => Promise<void> }

export async function startBenchPostgres (options: { fast?: boolean, maxConnections?: number, keep?: boolean, logicalReplication?: boolean } = {}): Promise<BenchPostgres> {
  const dir = await mkdtemp(path.join(tmpdir(), 'church-sms-bench-'))
  // As root the server runs as `postgres`, which must be able to reach the folder.
  await chmod(dir, 0o755)
  const fast = options.fast === true
  const started = performance.now()
  const pg = await startEmbeddedPostgres({ dir, fast, maxConnections: options.maxConnections ?? 300, logicalReplication: options.logicalReplication })
  log(`embedded PostgreSQL on 127.0.0.1:${pg.port} (${fast ? 'fast: fsync=off' : 'durable: fsync=on'}, max_connections=${options.maxConnections ?? 300}) in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  let stopped = false
  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    await pg.stop().catch(() => {})
    if (options.keep !== true) await rm(dir, { recursive: true, force: true }).catch(() => {})
  }
  return { url: pg.url, port: pg.port, dir, fast, stop }
}
