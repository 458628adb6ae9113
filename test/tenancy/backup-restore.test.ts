// Backups are complete, sealed per tenant and kept by retention; a restore brings deleted members back
// and switches the tenant, and a backup that is not sound is refused before anything is switched.
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { createOpenStream, createSealStream } from '../../src/tenancy/backups/sealed-stream.js'
import type { RestoreStep } from '../../src/tenancy/backups/restore-service.js'
import { NIGHTLY_BACKUP_QUEUE, startBackupJobs } from '../../src/tenancy/backups/backup-jobs.js'
import { withClient, withDatabase } from '../../src/db/pg-admin.js'
import { fingerprint } from '../../src/tenancy/fleet/fingerprint.js'
import { build, testConfig, testServerUrl } from '../helper.js'
import { memberNames, OPERATOR, orgWithMembers, tenantDatabases, type Org } from '../helpers/lifecycle-fixture.js'

async function backupVia (app: FastifyInstance, org: Org): Promise<{ id: string, tables: Array<{ name: string, rows: number }> }> {
  const res = await app.inject({ method: 'POST', url: `/api/platform/tenants/${org.tenantId}/backups`, headers: OPERATOR })
  if (res.statusCode !== 201) throw new Error(`backup failed: ${res.statusCode} ${res.body}`)
  return res.json()
}

const restoreVia = async (app: FastifyInstance, org: Org, backupId: string, asNew = false) =>
  await app.inject({ method: 'POST', url: `/api/platform/tenants/${org.tenantId}/backups/${backupId}/restore`, headers: OPERATOR, payload: { asNew } })

async function deleteMembers (app: FastifyInstance, org: Org, keep: number): Promise<void> {
  const items = (await app.inject({ url: '/api/members?limit=200', headers: org.headers })).json().items as Array<{ id: string }>
  for (const m of items.slice(keep)) await app.inject({ method: 'DELETE', url: `/api/members/${m.id}`, headers: org.headers })
}

t.test('delete members, restore, find them back; the old database is kept, then dropped', async (t) => {
  const app = await build(t)
  const org = await orgWithMembers(app, 5)
  const before = await memberNames(app, org)
  const security = async (requireTwoFactor?: boolean) => (await app.inject({ method: requireTwoFactor === undefined ? 'GET' : 'PUT', url: '/api/organization/security', headers: org.headers, ...(requireTwoFactor === undefined ? {} : { payload: { requireTwoFactor } }) })).json().requireTwoFactor as boolean
  await security(true)
  const backup = await backupVia(app, org)
  await security(false)
  t.equal(backup.tables.find((x) => x.name === 'Member')?.rows, 5, 'the manifest counts the members')
  t.equal(backup.tables.find((x) => x.name === 'Admin')?.rows, 1)
  const file = await buffer(await app.backupStorage.get(`${org.tenantId}/${backup.id}.csbk`))
  t.notOk(file.includes('Member0'), 'the file is sealed: no member name in it')

  await deleteMembers(app, org, 2)
  t.equal((await memberNames(app, org)).length, 2)
  const oldDb = (await app.registry.tenant.findUniqueOrThrow({ where: { id: org.tenantId } })).databaseName
  const schemaOf = async (database: string) => (await withClient(withDatabase(await testServerUrl(), database), fingerprint)).lines
  const schemaBefore = await schemaOf(oldDb)

  const res = await restoreVia(app, org, backup.id)
  t.equal(res.statusCode, 200, res.body)
  t.equal(res.json().state, 'SWITCHED')
  t.same(await memberNames(app, org), before, 'every member is back, read through the API')
  t.equal(await security(), true, 'the settings row is the backup\'s, not the one the migrations seeded')
  await security(false)
  const tenant = await app.registry.tenant.findUniqueOrThrow({ where: { id: org.tenantId } })
  t.equal(tenant.databaseName, res.json().databaseName, 'the tenant lives in the restored database')
  t.same(await tenantDatabases(org.tenantId), [oldDb, tenant.databaseName].sort(), 'the old database is kept for its grace period')
  // The load drops indexes and keys and rebuilds them: the restored schema is exactly the old one.
  t.same(await schemaOf(tenant.databaseName), schemaBefore, 'same tables, columns, indexes, constraints and grants')
  const detail = (await app.inject({ url: '/api/members?limit=200', headers: org.headers })).json().items as Array<{ lastName: string, notes: string | null }>
  t.ok(detail.every((m) => m.lastName === 'Tab\there "quoted" \\ back'), 'tabs, quotes and backslashes survive')
  t.ok(detail.some((m) => m.notes === 'line one\nline two'), 'newlines survive')

  // A sign-in after the restore works: the admin and the tenant's role came across.
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: org.email, password: 'correct horse battery staple' } })).statusCode, 200)

  t.same((await app.restores.dropExpired(new Date())).dropped, [], 'nothing dropped within the grace period')
  const swept = await app.restores.dropExpired(new Date(Date.now() + (app.config.lifecycle.restoreKeepOldHours + 1) * 3_600_000))
  t.same(swept.dropped, [oldDb])
  t.same(await tenantDatabases(org.tenantId), [tenant.databaseName])
  t.equal((await app.reconciler.run()).orphanRolesDropped.length, 0, 'the reconciler leaves the restored tenant\'s role alone')
  t.same(await memberNames(app, org), before)

  // --as-new restores beside the tenant and switches nothing.
  const beside = await restoreVia(app, org, backup.id, true)
  t.equal(beside.json().state, 'READY', beside.body)
  t.equal((await app.registry.tenant.findUniqueOrThrow({ where: { id: org.tenantId } })).databaseName, tenant.databaseName)
  t.same(await tenantDatabases(org.tenantId), [tenant.databaseName, beside.json().databaseName].sort())
})

t.test('bad backups are refused before any switch, with a clear message', async (t) => {
  const app = await build(t)
  const org = await orgWithMembers(app, 3)
  const other = await orgWithMembers(app, 1, 'Other Church')
  const backup = await backupVia(app, org)
  const otherBackup = await backupVia(app, other)
  const key = `${org.tenantId}/${backup.id}.csbk`
  const original = await buffer(await app.backupStorage.get(key))
  const dbBefore = await tenantDatabases(org.tenantId)
  await deleteMembers(app, org, 1)

  const expectRefused = async (what: string, pattern: RegExp, backupId = backup.id): Promise<void> => {
    const res = await restoreVia(app, org, backupId)
    t.equal(res.statusCode, 422, `${what}: ${res.body}`)
    t.equal(res.json().code, 'BACKUP_REFUSED')
    t.match(res.json().message, pattern, what)
    t.same(await tenantDatabases(org.tenantId), dbBefore, `${what}: no database left behind, tenant not switched`)
    t.equal((await memberNames(app, org)).length, 1, `${what}: the tenant still reads its current data`)
  }

  await expectRefused('another tenant\'s backup id', /belongs to another organization/, otherBackup.id)
  const otherFile = await buffer(await app.backupStorage.get(`${other.tenantId}/${otherBackup.id}.csbk`))
  await app.backupStorage.put(key, Readable.from([otherFile]))
  await expectRefused('another tenant\'s file', /another organization/)
  const flipped = Buffer.from(original)
  flipped[flipped.length - 100] = (flipped[flipped.length - 100] as number) ^ 0xff
  await app.backupStorage.put(key, Readable.from([flipped]))
  await expectRefused('a corrupt file', /failed authentication/)
  await app.backupStorage.put(key, Readable.from([original.subarray(0, Math.floor(original.length / 2))]))
  await expectRefused('a truncated file', /truncated/)

  // A file sealed with the right key whose rows were changed: only the checksums can tell.
  const dataKey = await app.dataKeys.get(org.tenantId)
  const plain = await buffer(Readable.from([original]).pipe(createOpenStream(() => dataKey)))
  const at = plain.indexOf('Member1')
  t.ok(at > 0)
  plain.write('Mumber1', at)
  await app.backupStorage.put(key, Readable.from([plain]).pipe(createSealStream(dataKey, { tenantId: org.tenantId, objectId: backup.id })))
  await expectRefused('a checksum mismatch', /checksum mismatch in table Member/)

  await app.backupStorage.put(key, Readable.from([original]))
  await app.dataKeys.destroy(org.tenantId)
  await expectRefused('a destroyed key', /no backup key/)
})

t.test('a crash after any restore step leaves the tenant on its database; a rerun cleans up and finishes', async (t) => {
  const steps: RestoreStep[] = ['DATABASE_CREATED', 'LOADED', 'MIGRATED']
  let crashAt: RestoreStep | undefined
  const app = await buildApp(await testConfig(), {
    logger: false,
    lifecycle: {
      afterRestoreStep: (step) => {
        if (step !== crashAt) return
        crashAt = undefined
        throw Object.assign(new Error(`simulated crash after ${step}`), { name: 'SimulatedCrash' })
      }
    }
  })
  t.teardown(async () => { await app.close() })
  const org = await orgWithMembers(app, 3)
  const backup = await backupVia(app, org)
  const home = await tenantDatabases(org.tenantId)
  for (const step of steps) {
    await deleteMembers(app, org, 0)
    crashAt = step
    await t.rejects(app.restores.restore(org.tenantId, { backupId: backup.id }), /simulated crash/)
    t.equal((await app.registry.tenant.findUniqueOrThrow({ where: { id: org.tenantId } })).databaseName, home[0], `${step}: not switched`)
    t.equal((await memberNames(app, org)).length, 0, `${step}: the tenant reads its current data`)
    await t.rejects(app.restores.restore(org.tenantId, { backupId: backup.id }), { code: 'RESTORE_IN_PROGRESS' }, `${step}: a rerun within the lease waits`)
    const later = new Date(Date.now() + 3 * 60_000)
    const rerun = await app.restores.restore(org.tenantId, { backupId: backup.id, now: later })
    t.equal(rerun.state, 'SWITCHED')
    t.equal((await memberNames(app, org)).length, 3, `${step}: the rerun finished the restore`)
    const abandoned = await app.registry.tenantRestore.count({ where: { tenantId: org.tenantId, state: 'ABANDONED' } })
    t.equal(abandoned, steps.indexOf(step) + 1, `${step}: the crashed attempt was cleaned up`)
    await app.restores.dropExpired(new Date(Date.now() + 1000 * 3_600_000))
    const now = await app.registry.tenant.findUniqueOrThrow({ where: { id: org.tenantId } })
    t.same(await tenantDatabases(org.tenantId), [now.databaseName], `${step}: only the current database remains`)
    home[0] = now.databaseName
  }
})

t.test('nightly runs keep the last N daily backups; every file opens only with its tenant\'s key', async (t) => {
  const app = await build(t, { BACKUP_KEEP: '2' })
  const ids = await startBackupJobs(app.boss, { backups: app.backups, restores: app.restores, schedule: '30 2 * * *', concurrency: 1, log: app.log })
  for (const id of ids) await app.boss.offWork({ id })
  const schedules = await app.boss.getSchedules()
  t.match(schedules.find((s) => s.name === NIGHTLY_BACKUP_QUEUE), { cron: '30 2 * * *' }, 'the nightly backup is scheduled in the job queue')
  await t.rejects(testConfig({ BACKUP_SCHEDULE: 'nightly' }), /BACKUP_SCHEDULE must be a five-field cron expression/)
  const a = await orgWithMembers(app, 2)
  const b = await orgWithMembers(app, 1, 'Second Church')
  for (let run = 0; run < 3; run++) {
    const report = await app.backups.backupAll({ concurrency: 2 })
    t.same(report.failed, [])
    t.equal(report.completed.length, 2)
  }
  for (const org of [a, b]) {
    const kept = await app.backups.list(org.tenantId)
    t.equal(kept.length, 2, 'two daily backups kept')
    t.same((await app.backupStorage.list(`${org.tenantId}/`)).map((f) => f.key).sort(), kept.map((k) => `${org.tenantId}/${k.id}.csbk`).sort(), 'files match records')
  }
  const keyA = await app.dataKeys.get(a.tenantId)
  const keyB = await app.dataKeys.get(b.tenantId)
  t.notOk(keyA.equals(keyB), 'a data key per tenant')
  const stored = await app.registry.tenantDataKey.findUniqueOrThrow({ where: { tenantId: a.tenantId } })
  t.equal(stored.encryptionKeyId, app.config.secrets.encryptionKeyId, 'the data key is sealed under ENCRYPTION_KEY, key id recorded')
  t.notOk(stored.keyEncrypted.includes(keyA.toString('base64')))
  const fileOfA = await buffer(await app.backupStorage.get(`${a.tenantId}/${(await app.backups.list(a.tenantId))[0]?.id ?? ''}.csbk`))
  await t.rejects(buffer(Readable.from([fileOfA]).pipe(createOpenStream(() => keyB))), /failed authentication/)
  t.equal((await app.inject({ method: 'POST', url: `/api/platform/tenants/t${randomBytes(12).toString('hex')}/backups`, headers: OPERATOR })).statusCode, 404)
  t.equal((await app.inject({ url: `/api/platform/tenants/${a.tenantId}/backups` })).statusCode, 401)
})
