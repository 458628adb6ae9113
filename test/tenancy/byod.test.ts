// Bring your own database, against a second embedded PostgreSQL that stands for an organization's
// server: a URL is validated like a server before anything is recorded; set, the tenant's schema is
// built there by the migrator (no template) and the tenant moves in by copy, as the organization's
// role, in a database it creates or the empty one it owns; the pool serves it, fleet migrations and
// verify treat it like any other, key rotation re-seals it, moving away empties it; no password ever
// appears in a response, a log line or the audit trail.
import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { freePort } from '../../src/db/embedded-postgres.js'
import { withClient, withDatabase } from '../../src/db/pg-admin.js'
import { registerOrganization, testConfig, TEST_SECRETS } from '../helper.js'
import { startExtraServers } from '../helpers/extra-servers.js'
import { ADD_COLUMN, migrationsWith } from '../helpers/fleet-fixture.js'

const operator = { authorization: `Bearer ${TEST_SECRETS.PLATFORM_ADMIN_TOKEN}` }
const [ours, theirs] = await startExtraServers(t, 2)
if (ours === undefined || theirs === undefined) throw new Error('servers did not start')

// The organization's server: a role that may create databases (not roles), a role that owns an empty
// database and nothing else, and one that may do neither.
const CREATOR_PW = 'creator-Secret-pw-1'
const OWNER_PW = 'owner-Secret-pw-2'
const WEAK_PW = 'weak-Secret-pw-3'
await withClient(theirs.url, async (c) => {
  await c.query(`CREATE ROLE org_creator LOGIN CREATEDB PASSWORD '${CREATOR_PW}'`)
  await c.query(`CREATE ROLE org_owner LOGIN PASSWORD '${OWNER_PW}'`)
  await c.query('CREATE DATABASE org_data OWNER org_owner')
  await c.query(`CREATE ROLE org_weak LOGIN PASSWORD '${WEAK_PW}'`)
})
const as = (user: string, password: string, database: string): string => withDatabase(theirs.url, database).replace(/\/\/[^@]+@/, `//${user}:${password}@`)
const creatorUrl = as('org_creator', CREATOR_PW, 'postgres')
const ownerUrl = as('org_owner', OWNER_PW, 'org_data')
const weakUrl = as('org_weak', WEAK_PW, 'postgres')
const SECRETS = [CREATOR_PW, OWNER_PW, WEAK_PW, new URL(theirs.url).password, new URL(ours.url).password]

const appWithLogs = async (t: Test, env: Record<string, string>): Promise<{ app: FastifyInstance, lines: string[] }> => {
  const lines: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done() } })
  const app = await buildApp(await testConfig({ TENANT_DATABASE_URL: ours.url, LOG_LEVEL: 'debug', MOVE_GRACE_MS: '0', ...env }), { logger: { stream }, moves: { moveSettings: { settleMs: 20 } } })
  t.teardown(async () => { await app.close() })
  return { app, lines }
}

const rows = async (url: string, sql: string): Promise<Array<Record<string, unknown>>> => await withClient(url, async (c) => (await c.query(sql)).rows)
const noSecret = (t: Test, text: string, what: string): void => { t.notOk(SECRETS.some((s) => text.includes(s)), `no password in ${what}`) }

t.test('BYOD: refused, set, served, migrated, verified, rotated, tested and left', async (t) => {
  const { app, lines } = await appWithLogs(t, {})
  const reg = (await registerOrganization(app, 'Own Server Church')).json() as { tenantId: string, accessToken: string }
  const auth = { authorization: `Bearer ${reg.accessToken}` }
  const before = await app.inject({ method: 'POST', url: '/api/members', headers: auth, payload: { firstName: 'Before', lastName: 'Move', phone: '+14155550101' } })
  t.equal(before.statusCode, 201)
  const set = async (tenantId: string, url: string) => await app.inject({ method: 'POST', url: `/api/platform/tenants/${tenantId}/database`, headers: operator, payload: { url } })
  const responses: string[] = []

  // Refused before anything is recorded.
  const serversBefore = await app.registry.databaseServer.count()
  const weak = await set(reg.tenantId, weakUrl)
  responses.push(weak.body)
  t.equal(weak.statusCode, 400)
  t.match(weak.json(), { code: 'SERVER_REFUSED', message: /neither create a database/ })
  const gone = await set(reg.tenantId, `postgres://x:hidden-pw-9@127.0.0.1:${await freePort()}/postgres`)
  responses.push(gone.body)
  t.match(gone.json(), { statusCode: 400, message: /unreachable/ })
  t.notOk(gone.body.includes('hidden-pw-9'), 'the URL is not echoed')
  t.equal((await set('tnotatenant00000000000000', creatorUrl)).statusCode, 404)
  t.equal(await app.registry.databaseServer.count(), serversBefore, 'no server recorded')
  t.equal(await app.registry.auditLog.count({ where: { action: 'tenant.database_set' } }), 0)

  // A candidate is tested without being recorded.
  const candidate = await app.inject({ method: 'POST', url: `/api/platform/tenants/${reg.tenantId}/database/test`, headers: operator, payload: { url: weakUrl } })
  responses.push(candidate.body)
  t.equal(candidate.statusCode, 200)
  t.match(candidate.json(), { target: 'candidate', ok: false, reachable: true, reason: /neither create/ })

  // Set: a role that creates databases gets tenant_<id>, built by the migrator, no template.
  const done = await set(reg.tenantId, creatorUrl)
  responses.push(done.body)
  t.equal(done.statusCode, 200, done.body)
  const result = done.json()
  t.match(result, { tenantId: reg.tenantId, kind: 'BYOD', user: 'org_creator', ownDatabase: false, database: `tenant_${reg.tenantId}`, move: { method: 'COPY' } })
  const tenant = await app.registry.tenant.findUniqueOrThrow({ where: { id: reg.tenantId }, include: { server: true } })
  t.match(tenant, { databaseUser: 'org_creator', databasePort: theirs.port, server: { kind: 'BYOD', maxTenants: 1, tenantCount: 1, name: result.server } })
  t.same(await rows(theirs.url, "SELECT datname FROM pg_database WHERE datname = 'tenant_template'"), [], 'no template on a server holding one tenant')
  const theirDb = withDatabase(theirs.url, tenant.databaseName)
  t.same((await rows(theirDb, 'SELECT version FROM migrator.applied ORDER BY version')).map((r) => r.version), app.tenantMigrations.map((m) => m.version), 'schema made by the migrator, every version')
  t.same(await rows(theirDb, 'SELECT r.rolname AS owner FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE c.relname = \'Member\''), [{ owner: 'org_creator' }])

  // The pool serves it: reads see the copied rows, writes land on their server.
  const list = await app.inject({ method: 'GET', url: '/api/members', headers: auth })
  t.equal(list.statusCode, 200)
  t.ok(JSON.stringify(list.json()).includes('+14155550101'), 'the member made before the move is there')
  t.equal((await app.inject({ method: 'POST', url: '/api/members', headers: auth, payload: { firstName: 'After', lastName: 'Move', phone: '+14155550102' } })).statusCode, 201)
  t.same(await rows(theirDb, 'SELECT phone FROM "Member" ORDER BY phone'), [{ phone: '+14155550101' }, { phone: '+14155550102' }])

  // Backups treat it like any other tenant: every table read from their server, both members counted.
  const backup = await app.backups.backup(reg.tenantId, 'manual')
  t.equal(backup.status, 'COMPLETED')
  t.equal((backup.tables as Array<{ name: string, rows: number }>).find((x) => x.name === 'Member')?.rows, 2, 'the backup holds the members on their server')

  // Testing the stored connection, as the tenant's role.
  const tested = await app.inject({ method: 'POST', url: `/api/platform/tenants/${reg.tenantId}/database/test`, headers: operator })
  responses.push(tested.body)
  t.equal(tested.statusCode, 200, tested.body)
  t.match(tested.json(), { target: 'tenant', ok: true, reachable: true, server: result.server, schemaVersion: app.readiness.expectedTenantVersion, at: `127.0.0.1:${theirs.port}` })

  // A role that owns an empty database: the tenant lives in that very database.
  const second = (await registerOrganization(app, 'Owned Database Church')).json() as { tenantId: string, accessToken: string }
  const owned = await set(second.tenantId, ownerUrl)
  responses.push(owned.body)
  t.equal(owned.statusCode, 200, owned.body)
  t.match(owned.json(), { database: 'org_data', user: 'org_owner', ownDatabase: true })
  t.equal((await app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${second.accessToken}` } })).statusCode, 200)
  t.match(await set(second.tenantId, ownerUrl), { statusCode: 400 }, 'a database that is no longer empty is refused')

  // The same tenant cannot be given a database while it moves, nor moved onto another tenant's server.
  t.equal((await app.inject({ method: 'POST', url: `/api/platform/tenants/${second.tenantId}/move`, headers: operator, payload: { to: result.server } })).statusCode, 409, 'a BYOD server holds one tenant')

  const audit = await app.registry.auditLog.findMany({ where: { action: { in: ['tenant.database_set', 'tenant.database_tested'] } }, orderBy: { createdAt: 'asc' } })
  t.match(audit.filter((a) => a.action === 'tenant.database_set'), [
    { tenantId: reg.tenantId, actor: 'operator:api', before: { server: 'default' }, after: { kind: 'BYOD', user: 'org_creator', ownDatabase: false } },
    { tenantId: second.tenantId, after: { database: 'org_data', ownDatabase: true } }
  ])
  t.equal(audit.filter((a) => a.action === 'tenant.database_tested').length, 2)
  await app.close()

  // Fleet migrations and verify, in a process that knows one more migration (sharing the registry).
  const config = await testConfig({ TENANT_DATABASE_URL: ours.url, DATABASE_URL: app.config.databaseUrl ?? '', MOVE_GRACE_MS: '0' })
  const next = await buildApp(config, { logger: false, tenantMigrationsDir: await migrationsWith([ADD_COLUMN]), moves: { moveSettings: { settleMs: 20 } } })
  t.teardown(async () => { await next.close() })
  const run = await next.fleet.runHere({ direction: 'up' })
  t.equal(run.status, 'SUCCEEDED', run.reason ?? '')
  t.same(run.failures, [])
  for (const [id, db] of [[reg.tenantId, tenant.databaseName], [second.tenantId, 'org_data']] as const) {
    t.same(await rows(withDatabase(theirs.url, db), "SELECT column_name FROM information_schema.columns WHERE table_name = 'Member' AND column_name = 'nickname'"), [{ column_name: 'nickname' }], `${id}: migrated on its own server`)
  }
  const verify = await next.fleet.verify()
  t.same(verify.drifted, [], 'verify finds no drift on BYOD tenants')

  // Key rotation re-seals the BYOD credentials (server and tenant) and the tenant keeps working.
  const rotated = await buildApp({ ...config, secrets: { ...config.secrets, encryptionKey: Buffer.alloc(32, 7), encryptionKeyId: 'k2', previousEncryptionKeys: { k1: config.secrets.encryptionKey } } }, { logger: false, tenantMigrationsDir: await migrationsWith([ADD_COLUMN]) })
  t.teardown(async () => { await rotated.close() })
  const report = await rotated.keys.rotate('test')
  t.same(report.failed, [])
  const byod = await rotated.registry.databaseServer.findMany({ where: { kind: 'BYOD' } })
  t.ok(byod.length === 2 && byod.every((s) => s.encryptionKeyId === 'k2'), 'BYOD server credentials under the new key')
  t.equal((await rotated.registry.tenant.findUniqueOrThrow({ where: { id: reg.tenantId } })).encryptionKeyId, 'k2')
  const probe = await rotated.byod.testDatabase(reg.tenantId, { actor: 'test' })
  t.match(probe, { ok: true }, 'reachable with the re-sealed credentials')

  // Moving away: the organization's own database is emptied and kept, its role untouched, the server retired.
  const back = await rotated.moves.move(second.tenantId, 'default', { actor: 'test' })
  t.match(back, { to: 'default' })
  t.same(await rows(withDatabase(theirs.url, 'org_data'), "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('public', 'migrator') AND c.relkind = 'r'"), [], 'emptied')
  t.same(await rows(theirs.url, "SELECT rolname FROM pg_roles WHERE rolname = 'org_owner'"), [{ rolname: 'org_owner' }], 'its role is kept')
  const retired = await rotated.registry.databaseServer.findFirstOrThrow({ where: { tenantDatabase: 'org_data' } })
  t.match(retired, { status: 'DISABLED', tenantCount: 0 })

  const allAudit = JSON.stringify(await rotated.registry.auditLog.findMany())
  noSecret(t, allAudit, 'the audit trail')
  noSecret(t, responses.join('\n'), 'the responses')
  noSecret(t, lines.join(''), 'the logs')
  t.ok(lines.length > 10, `logs were captured (${lines.length} lines)`)
})
