// Test helpers: build(t) gives each test its own registry database on the run's embedded PostgreSQL
// (started by test/run.ts, or by this file when a test is run on its own) and closes what it opens.
import { randomBytes } from 'node:crypto'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { buildApp, type BuildOptions } from '../src/app.js'
import { loadConfig, type Config } from '../src/config.js'
import { startEmbeddedPostgres } from '../src/db/embedded-postgres.js'
import { ensureDatabase, withClient, withDatabase } from '../src/db/pg-admin.js'

interface Teardown { teardown: (fn: () => unknown) => void }

let serverUrl: Promise<string> | undefined

/** Admin URL of the test PostgreSQL server (database `postgres`). */
export async function testServerUrl (): Promise<string> {
  serverUrl ??= (async () => {
    const given = process.env.TEST_DATABASE_URL
    if (given !== undefined && given !== '') return given
    // Run on its own (`npx tap test/x.test.ts`): this process starts and stops its own server.
    const dir = await mkdtemp(path.join(tmpdir(), 'church-sms-solo-'))
    const pg = await startEmbeddedPostgres({ dir, fast: true, maxConnections: 500 })
    // The embedded server's child process keeps the event loop alive, so stop it when tap finishes.
    const { default: tap } = await import('tap')
    tap.teardown(async () => { await pg.stop() })
    return pg.url
  })()
  return await serverUrl
}

/** A fresh, empty database on the test server. */
export async function createTestDatabase (prefix = 'test'): Promise<string> {
  const admin = await testServerUrl()
  const name = `${prefix}_${randomBytes(6).toString('hex')}`
  await withClient(admin, async (client) => { await ensureDatabase(client, name) })
  return withDatabase(admin, name)
}

export const TEST_SECRETS = {
  JWT_SECRET: 'test-jwt-secret-that-is-long-enough-0123456789',
  EMAIL_HASH_KEY: 'a'.repeat(64),
  ENCRYPTION_KEY: 'b'.repeat(64),
  PLATFORM_ADMIN_TOKEN: 'test-platform-admin-token-0123456789'
}

export async function testConfig (env: Record<string, string> = {}): Promise<Config> {
  const databaseUrl = await createTestDatabase('registry')
  const dataDir = await mkdtemp(path.join(tmpdir(), 'church-sms-data-'))
  return await loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: databaseUrl,
    TENANT_DATABASE_URL: await testServerUrl(),
    DATA_DIR: dataDir,
    WORKER_ENABLED: 'false',
    // Test runs share a few cores: an event loop that lags there must not shed the requests under test.
    PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
    ...TEST_SECRETS,
    ...env
  })
}

export async function build (t: Teardown, env: Record<string, string> = {}, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = await buildApp(await testConfig(env), { logger: false, ...options })
  t.teardown(async () => { await app.close() })
  return app
}

/** Signs up a fresh organization through the API; the 201 response (tenantId, tokens) or a thrown error. */
export async function registerOrganization (app: FastifyInstance, churchName = 'First Church'): Promise<Awaited<ReturnType<FastifyInstance['inject']>>> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/auth/register',
    payload: { email: `p${randomBytes(6).toString('hex')}@example.org`, password: 'correct horse battery staple', firstName: 'Grace', lastName: 'Hopper', churchName }
  })
  if (res.statusCode !== 201) throw new Error(`sign-up failed: ${res.statusCode} ${res.body}`)
  return res
}
