import { mkdtemp, readFile, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.js'

const tempDir = async (): Promise<string> => await mkdtemp(path.join(tmpdir(), 'cfg-'))

t.test('every wrong value is listed in one error', async (t) => {
  const error = await loadConfig({ PORT: 'abc', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x', TENANT_POOL_MAX_CLIENTS: '0', DATA_DIR: await tempDir() }).catch((e: unknown) => e)
  t.ok(error instanceof ConfigError)
  const problems = (error as ConfigError).problems
  t.equal(problems.length, 4, problems.join('\n'))
  t.match((error as Error).message, /PORT.*\n.*LOG_LEVEL|LOG_LEVEL[\s\S]*PORT/)
  t.match(problems.join('\n'), /DATABASE_URL must be a postgres: or postgresql: URL/)
  t.match(problems.join('\n'), /TENANT_POOL_MAX_CLIENTS/)
})

t.test('production refuses to start without its secrets', async (t) => {
  const error = await loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://u:p@db/x', DATA_DIR: await tempDir() }).catch((e: unknown) => e)
  t.ok(error instanceof ConfigError)
  t.match((error as Error).message, /JWT_SECRET, EMAIL_HASH_KEY, ENCRYPTION_KEY required when NODE_ENV=production/)
})

t.test('local mode generates secrets once and keeps them under DATA_DIR', async (t) => {
  const dir = await tempDir()
  const first = await loadConfig({ DATA_DIR: dir })
  const second = await loadConfig({ DATA_DIR: dir })
  t.equal(first.secrets.jwtSecret, second.secrets.jwtSecret)
  t.same(first.secrets.encryptionKey, second.secrets.encryptionKey)
  t.equal(first.secrets.encryptionKey.length, 32)
  const file = path.join(dir, 'secrets.json')
  t.equal((await stat(file)).mode & 0o777, 0o600)
  t.match(JSON.parse(await readFile(file, 'utf8')), { JWT_SECRET: String, EMAIL_HASH_KEY: /^[0-9a-f]{64}$/ })
  t.equal(first.databaseUrl, undefined, 'no DATABASE_URL means embedded')
  t.equal(first.port, 3000)
  t.equal(first.telnyx.apiKey, undefined, 'local mode for Telnyx')
})

t.test('cross-field rules', async (t) => {
  const error = await loadConfig({ DATA_DIR: await tempDir(), TELNYX_API_KEY: 'KEY123', STRIPE_SECRET_KEY: 'sk_test_1', TENANT_CLIENT_CONNECTIONS: '9', TENANT_CONNECTION_BUDGET: '4' }).catch((e: unknown) => e)
  t.ok(error instanceof ConfigError)
  t.match((error as ConfigError).problems, [/TELNYX_PUBLIC_KEY/, /STRIPE_WEBHOOK_SECRET/, /TENANT_CLIENT_CONNECTIONS/])
})

t.test('TRUST_PROXY: off by default; true, a hop count or addresses when set', async (t) => {
  const dir = await tempDir()
  t.equal((await loadConfig({ DATA_DIR: dir })).trustProxy, false)
  t.equal((await loadConfig({ DATA_DIR: dir, TRUST_PROXY: 'true' })).trustProxy, true)
  t.equal((await loadConfig({ DATA_DIR: dir, TRUST_PROXY: '1' })).trustProxy, 1)
  t.same((await loadConfig({ DATA_DIR: dir, TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' })).trustProxy, ['10.0.0.0/8', '127.0.0.1'])
})
