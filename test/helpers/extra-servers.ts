// More PostgreSQL servers for tests that spread tenants over several: each an embedded cluster with its
// own data dir and port, started together once per test file and stopped when the file ends.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.js'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface ExtraServer { url: string, port: number }

export async function startExtraServers (t: Teardown, count: number, options: { logicalReplication?: boolean } = {}): Promise<ExtraServer[]> {
  const root = await mkdtemp(path.join(tmpdir(), 'church-sms-servers-'))
  const started = await Promise.all(Array.from({ length: count }, async (_, i) =>
    await startEmbeddedPostgres({ dir: path.join(root, `s${i}`), fast: true, maxConnections: 100, logicalReplication: options.logicalReplication })))
  t.teardown(async () => {
    await Promise.all(started.map(async (s) => { await s.stop() }))
    await rm(root, { recursive: true, force: true })
  })
  return started.map((s) => ({ url: s.url, port: s.port }))
}
