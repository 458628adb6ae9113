// Fleet migration tests: a tenant server of their own (templates change), a migrations folder made of
// the real set plus extra migrations, and tenants signed up before those extras exist.
import { readdirSync } from 'node:fs'
import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { buildApp, type BuildOptions } from '../../src/app.js'
import type { Config } from '../../src/config.js'
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.js'
import { MIGRATION_SETS } from '../../src/db/migrator.js'
import { withClient, withDatabase } from '../../src/db/pg-admin.js'
import { registerOrganization, testConfig } from '../helper.js'

interface Teardown { teardown: (fn: () => unknown) => void }

export async function tenantServer (t: Teardown): Promise<string> {
  const server = await startEmbeddedPostgres({ dir: await mkdtemp(path.join(tmpdir(), 'fleet-')), fast: true, maxConnections: 200 })
  t.teardown(async () => { await server.stop() })
  return server.url
}

/** The newest version of the real tenant migrations: where tenants signed up by these tests start. */
export const RELEASED = readdirSync(MIGRATION_SETS.tenant).filter((name) => /^\d{4}_/.test(name)).sort().at(-1) ?? ''

export interface ExtraMigration { version: string, up: string, down: string }

/** The real tenant migrations plus `extra`, in a folder of their own. */
export async function migrationsWith (extra: ExtraMigration[]): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fleet-migrations-'))
  await cp(MIGRATION_SETS.tenant, dir, { recursive: true })
  for (const m of extra) {
    await mkdir(path.join(dir, m.version))
    await writeFile(path.join(dir, m.version, 'up.sql'), m.up)
    await writeFile(path.join(dir, m.version, 'down.sql'), m.down)
  }
  return dir
}

/** An additive migration on a table every tenant has: a column and an index. */
export const ADD_COLUMN: ExtraMigration = {
  version: '9001_member_nickname',
  up: 'ALTER TABLE "Member" ADD COLUMN "nickname" TEXT;\nCREATE INDEX "Member_nickname_idx" ON "Member"("nickname");\n',
  down: 'DROP INDEX "Member_nickname_idx";\nALTER TABLE "Member" DROP COLUMN "nickname";\n'
}

export interface Fleet { config: Config, serverUrl: string, tenants: string[], tokens: string[] }

/** A registry and `count` tenants signed up on the real migrations (an app that is closed again). */
export async function fleetOf (t: Teardown, count: number, env: Record<string, string> = {}): Promise<Fleet> {
  const serverUrl = await tenantServer(t)
  const config = await testConfig({ TENANT_DATABASE_URL: serverUrl, ...env })
  const app = await buildApp(config, { logger: false })
  const tenants: string[] = []
  const tokens: string[] = []
  try {
    for (let i = 0; i < count; i++) {
      const body = (await registerOrganization(app, `Fleet ${i}`)).json() as { tenantId: string, accessToken: string }
      tenants.push(body.tenantId)
      tokens.push(body.accessToken)
    }
  } finally {
    await app.close()
  }
  return { config, serverUrl, tenants, tokens }
}

/** The app that runs fleet commands over `fleet`, with another migrations folder. */
export async function fleetApp (t: Teardown, fleet: Fleet, options: BuildOptions = {}, env: Partial<Config> = {}): Promise<FastifyInstance> {
  const app = await buildApp({ ...fleet.config, ...env }, { logger: false, migrateTemplates: false, ...options })
  t.teardown(async () => { await app.close() })
  return app
}

export async function inTenant<T> (fleet: Fleet, tenantId: string, sql: string): Promise<T[]> {
  return await withClient(withDatabase(fleet.serverUrl, `tenant_${tenantId}`), async (c) => (await c.query(sql)).rows as T[])
}

export async function tenantVersion (fleet: Fleet, database: string): Promise<string> {
  return await withClient(withDatabase(fleet.serverUrl, database), async (c) =>
    (await c.query<{ v: string }>('SELECT max(version) AS v FROM migrator.applied')).rows[0]?.v ?? 'none')
}
