// An export holds every row of every table (secrets left out), in the documented layout, behind a
// signed link that expires; one export runs at a time; only the owner may ask for one.
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import * as tar from 'tar'
import { EXPORT_QUEUE, type ExportJob } from '../../src/account/export-service.js'
import { build } from '../helper.js'
import { addAdmin, orgWithMembers } from '../helpers/lifecycle-fixture.js'

t.test('export: 202, one at a time, the worker writes the archive, every row reads back, the link expires', async (t) => {
  const app = await build(t)
  const org = await orgWithMembers(app, 12)
  const branch = await app.inject({ method: 'POST', url: '/api/branches', headers: org.headers, payload: { name: 'Youth' } })
  t.equal(branch.statusCode, 201, branch.body)

  const asked = await app.inject({ method: 'POST', url: '/api/account/exports', headers: org.headers })
  t.equal(asked.statusCode, 202, asked.body)
  t.equal(asked.json().status, 'PENDING')
  const second = await app.inject({ method: 'POST', url: '/api/account/exports', headers: org.headers })
  t.equal(second.statusCode, 409, 'one export at a time')
  t.equal(second.json().code, 'EXPORT_IN_PROGRESS')

  // The worker's path: the job as queued, taken from the queue.
  const [job] = await app.boss.fetch<ExportJob>(EXPORT_QUEUE)
  t.same(job?.data, { tenantId: org.tenantId, exportId: asked.json().id })
  await app.exports.run(job?.data as ExportJob)
  const status = await app.inject({ url: `/api/account/exports/${asked.json().id as string}`, headers: org.headers })
  t.equal(status.json().status, 'COMPLETED', status.body)
  t.ok(status.json().bytes > 0)
  const hours = (Date.parse(status.json().expiresAt) - Date.parse(status.json().completedAt)) / 3_600_000
  t.equal(hours, 24, 'the link lives 24 hours by default')

  const link = new URL(status.json().downloadUrl as string)
  const download = await app.inject({ url: link.pathname + link.search })
  t.equal(download.statusCode, 200)
  t.equal(download.headers['content-type'], 'application/gzip')
  const dir = await mkdtemp(path.join(tmpdir(), 'export-test-'))
  await writeFile(path.join(dir, 'export.tar.gz'), download.rawPayload)
  await tar.x({ file: path.join(dir, 'export.tar.gz'), cwd: dir })
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'))
  t.match(manifest, { format: 'church-sms-export', tenantId: org.tenantId, schemaVersion: app.readiness.expectedTenantVersion })

  // Every row of every table, read back from the archive and compared with the database.
  const tables = await app.pool.withTenant(org.tenantId, async (db) => await db.$queryRaw<Array<{ name: string }>>`SELECT tablename::text AS name FROM pg_tables WHERE schemaname = 'public'`)
  t.same(manifest.tables.map((x: { name: string }) => x.name).sort(), tables.map((x) => x.name).sort(), 'every table is in the archive')
  t.same((await readdir(path.join(dir, 'tables'))).sort(), tables.map((x) => `${x.name}.jsonl`).sort())
  for (const table of manifest.tables as Array<{ name: string, file: string, rows: number, columns: string[] }>) {
    const lines = (await readFile(path.join(dir, table.file), 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)
    const rows = await app.pool.withTenant(org.tenantId, async (db) => await db.$queryRawUnsafe<Array<Record<string, unknown>>>(
      `SELECT row_to_json(r) AS row FROM (SELECT ${table.columns.map((c) => `"${c}"`).join(', ')} FROM "${table.name}") r`))
    // The export's own row was RUNNING when the snapshot was taken: for it, the ids must match.
    const key = (r: Record<string, unknown>): string => table.name === 'DataExport' ? String(r.id) : JSON.stringify(r)
    t.same(lines.map(key).sort(), rows.map((r) => key(r.row as Record<string, unknown>)).sort(), `${table.name}: ${rows.length} rows read back`)
    t.equal(table.rows, rows.length)
  }
  const members = (await readFile(path.join(dir, 'tables/Member.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l))
  t.equal(members.length, 12)
  t.ok(members.some((m) => m.notes === 'line one\nline two' && m.lastName === 'Tab\there "quoted" \\ back'), 'text comes back exactly')
  const admins = (await readFile(path.join(dir, 'tables/Admin.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l))
  t.equal(admins[0].email, org.email)
  t.notOk('passwordHash' in admins[0], 'secrets are left out')
  const csv = (await readFile(path.join(dir, 'members.csv'), 'utf8')).trim().split('\n')
  t.equal(csv[0], 'firstName,lastName,phone,email,isContact,optedOut,optedOutAt,timezone,notes,createdAt')
  t.equal(csv.filter((l) => l.startsWith('Member')).length, 12)

  // A changed link is refused; after 24 hours the file is swept and the link is gone.
  const forged = new URL(link)
  forged.searchParams.set('expires', String(Number(link.searchParams.get('expires')) + 3_600_000))
  t.equal((await app.inject({ url: forged.pathname + forged.search })).statusCode, 410)
  t.equal(await app.exports.sweep(Date.now()), 0, 'nothing swept before expiry')
  t.equal(await app.exports.sweep(Date.now() + 25 * 3_600_000), 1)
  t.equal((await app.inject({ url: link.pathname + link.search })).statusCode, 410, 'a swept file is gone')
  const third = await app.inject({ method: 'POST', url: '/api/account/exports', headers: org.headers })
  t.equal(third.statusCode, 202, 'a new export may start once the last one finished')
})

t.test('only the owner may export', async (t) => {
  const app = await build(t)
  const org = await orgWithMembers(app, 0)
  const staff = await addAdmin(app, org, 'ADMIN')
  const res = await app.inject({ method: 'POST', url: '/api/account/exports', headers: staff.headers })
  t.equal(res.statusCode, 403)
  t.equal(res.json().code, 'PERMISSION_DENIED', 'the permission table (account.export) refuses an admin')
  t.equal((await app.inject({ method: 'POST', url: '/api/account/exports' })).statusCode, 401)
  t.equal((await app.inject({ url: '/api/account/exports/none', headers: org.headers })).statusCode, 404)

  // An owner demoted since signing in still holds an OWNER token until it is refreshed: the service's
  // own check reads the row and refuses.
  const admins = (await app.inject({ url: '/api/admins', headers: org.headers })).json().admins as Array<{ id: string, email: string }>
  const staffId = admins.find((a) => a.email === staff.email)?.id as string
  const setRole = async (role: string) => await app.inject({ method: 'PATCH', url: `/api/admins/${staffId}`, headers: org.headers, payload: { role } })
  t.equal((await setRole('OWNER')).statusCode, 200)
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: staff.email, password: 'another long password' } })
  const ownerToken = { authorization: `Bearer ${login.json().accessToken as string}` }
  t.equal((await setRole('ADMIN')).statusCode, 200)
  const stale = await app.inject({ method: 'POST', url: '/api/account/exports', headers: ownerToken })
  t.equal(stale.statusCode, 403)
  t.equal(stale.json().code, 'OWNER_ONLY', 'refused by the role in the database, not the token')
})
