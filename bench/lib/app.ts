// Builds the real application against a benchmark PostgreSQL, configured the way test/helper.ts does.
import { randomBytes } from 'node:crypto'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'
import { ensureDatabase, withClient, withDatabase } from '../../src/db/pg-admin.js'
import { mapLimit } from './stats.js'

export const BENCH_SECRETS = {
  JWT_SECRET: 'bench-jwt-secret-that-is-long-enough-0123456789',
  EMAIL_HASH_KEY: 'c'.repeat(64),
  ENCRYPTION_KEY: 'd'.repeat(64),
  PLATFORM_ADMIN_TOKEN: 'bench-platform-admin-token-0123456789'
}

/** A fresh registry database on `serverUrl` (the admin URL, database `postgres`) and a config around it. */
export async function benchConfig (serverUrl: string, env: Record<string, string> = {}): Promise<Config> {
  const name = `registry_${randomBytes(5).toString('hex')}`
  await withClient(serverUrl, async (client) => { await ensureDatabase(client, name) })
  const dataDir = await mkdtemp(path.join(tmpdir(), 'church-sms-bench-data-'))
  return await loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: withDatabase(serverUrl, name),
    TENANT_DATABASE_URL: serverUrl,
    DATA_DIR: dataDir,
    WORKER_ENABLED: 'false',
    ACCESS_TOKEN_TTL_SECONDS: '86400',
    // The benchmarks sign in far more often than a person would.
    LOGIN_MAX_ATTEMPTS: '1000',
    ...BENCH_SECRETS,
    ...env
  })
}

export async function buildBenchApp (serverUrl: string, env: Record<string, string> = {}): Promise<FastifyInstance> {
  return await buildApp(await benchConfig(serverUrl, env), { logger: false })
}

/** Listens on loopback, port 0; returns the base URL. */
export async function listenLoopback (app: FastifyInstance): Promise<string> {
  return await app.listen({ host: '127.0.0.1', port: 0 })
}

export function signupBody (i: number | string): Record<string, string> {
  return {
    email: `bench.${i}.${randomBytes(4).toString('hex')}@example.org`,
    password: 'correct horse battery staple',
    firstName: 'Bench',
    lastName: `Admin ${i}`,
    churchName: `Bench Church ${i}`
  }
}

export interface BenchTenant { tenantId: string, adminId: string, accessToken: string }

/**
 * Creates `count` tenants through the provisioning service (the same code path as POST
 * /api/auth/register minus HTTP), `concurrency` at a time, and keeps the access token each sign-up issued.
 */
export async function createTenants (app: FastifyInstance, count: number, concurrency = 4, onProgress?: (done: number) => void): Promise<BenchTenant[]> {
  let done = 0
  return await mapLimit(count, concurrency, async (i) => {
    const result = await app.provisioning.register(signupBody(i) as never)
    done++
    onProgress?.(done)
    return { tenantId: result.tenantId, adminId: app.jwt.decode<{ adminId: string }>(result.accessToken)?.adminId ?? '', accessToken: result.accessToken }
  })
}
