// What every chaos scenario starts from: a killable PostgreSQL of its own, a registry on it, the app
// built the way server.ts builds it, and SQL straight into any database to count what is really there.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import type { FastifyInstance } from 'fastify'
import { buildApp, type BuildOptions } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { withDatabase } from '../../src/db/pg-admin.js'
import { startKillablePostgres, type KillablePostgres } from './killable-postgres.js'

export const SECRETS = {
  JWT_SECRET: 'chaos-jwt-secret-that-is-long-enough-0123456789',
  EMAIL_HASH_KEY: 'c'.repeat(64),
  ENCRYPTION_KEY: 'd'.repeat(64),
  PLATFORM_ADMIN_TOKEN: 'chaos-platform-admin-token-0123456789'
}

export type Sql = <R = Record<string, unknown>>(database: string, text: string, params?: unknown[]) => Promise<R[]>

export interface Ground {
  pg: KillablePostgres
  /** The environment server.ts and worker.ts read, pointing at this PostgreSQL. */
  env: Record<string, string>
  sql: Sql
  dir: string
  close: () => Promise<void>
}

export interface World extends Ground {
  app: FastifyInstance
  /** Another app on the same PostgreSQL (closed with the world), e.g. with another migrations folder. */
  appWith: (env?: Record<string, string>, options?: BuildOptions) => Promise<FastifyInstance>
}

/** A killable PostgreSQL with an empty registry database and the environment to run the service on it. */
export async function startGround (env: Record<string, string> = {}): Promise<Ground> {
  const dir = await mkdtemp(path.join(tmpdir(), 'church-sms-chaos-'))
  const pgServer = await startKillablePostgres(path.join(dir, 'postgres'))
  const admin = new pg.Client({ connectionString: pgServer.url })
  await admin.connect()
  await admin.query('CREATE DATABASE registry')
  await admin.end()
  const fullEnv: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: withDatabase(pgServer.url, 'registry'),
    TENANT_DATABASE_URL: pgServer.url,
    DATA_DIR: path.join(dir, 'data'),
    WORKER_ENABLED: 'false',
    PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
    RATE_LIMIT_PER_MINUTE: '100000',
    ...SECRETS,
    ...env
  }
  const sql = async <R>(database: string, text: string, params: unknown[] = []): Promise<R[]> => {
    const client = new pg.Client({ connectionString: withDatabase(pgServer.url, database) })
    client.on('error', () => {})
    await client.connect()
    try { return (await client.query(text, params)).rows as R[] } finally { await client.end() }
  }
  return {
    pg: pgServer,
    env: fullEnv,
    sql,
    dir,
    async close () {
      await pgServer.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

export async function startWorld (env: Record<string, string> = {}): Promise<World> {
  const ground = await startGround(env)
  const apps: FastifyInstance[] = []
  const appWith = async (more: Record<string, string> = {}, options: BuildOptions = {}): Promise<FastifyInstance> => {
    const app = await buildApp(await loadConfig({ ...ground.env, ...more }), { logger: false, ...options })
    apps.push(app)
    return app
  }
  const app = await appWith()
  return {
    ...ground,
    app,
    appWith,
    async close () {
      // Bounded: a close that never ends (something holding a connection to the killed server) is a
      // defect to report, not a reason for the whole run to hang.
      let hung = false
      for (const a of apps.reverse()) {
        const closed = a.close().then(() => true, () => true)
        hung ||= !await Promise.race([closed, sleep(30_000).then(() => false)])
      }
      await ground.close()
      if (hung) throw new Error('app.close() did not finish within 30 s after the scenario')
    }
  }
}

export const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

export async function until (check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!await check().catch(() => false)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(200)
  }
}

/** Asserts for scenarios: each failure is collected, the scenario goes on to report them all. */
export function checks () {
  const failures: string[] = []
  return {
    failures,
    ok (condition: boolean, what: string) { if (!condition) failures.push(what) },
    equal (actual: unknown, expected: unknown, what: string) {
      if (actual !== expected) failures.push(`${what}: expected ${String(expected)}, got ${String(actual)}`)
    }
  }
}
