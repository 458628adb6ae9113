// The migrated databases equal their Prisma schemas, every migration round-trips, and the migrator
// refuses changed files and applies each file once when processes race.
import { execFile } from 'node:child_process'
import { writeFile, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { createTestDatabase } from '../helper.js'
import { connect, withClient } from '../../src/db/pg-admin.js'
import { appliedMigrations, loadMigrations, MIGRATION_SETS, migrateDown, migrateUp, MigrationChecksumError, type Migration } from '../../src/db/migrator.js'

const run = promisify(execFile)
const prismaBin = path.resolve('node_modules/prisma/build/index.js')

/** Introspects the live database and diffs it against the schema file: exit code 0 means identical. */
async function diffAgainstSchema (set: 'registry' | 'tenant', url: string): Promise<{ code: number, output: string }> {
  const config = `prisma/${set}/prisma.config.ts`
  const env = { ...process.env, PRISMA_DIFF_URL: url, PRISMA_HIDE_UPDATE_MESSAGE: '1' }
  const pulled = await run(process.execPath, [prismaBin, 'db', 'pull', '--print', '--config', config], { env, maxBuffer: 10 * 1024 * 1024 })
  const live = pulled.stdout.slice(pulled.stdout.indexOf('generator '))
  const file = path.join(await mkdtemp(path.join(tmpdir(), 'diff-')), 'live.prisma')
  await writeFile(file, live)
  try {
    const diff = await run(process.execPath, [prismaBin, 'migrate', 'diff', '--from-schema-datamodel', file, '--to-schema-datamodel', `prisma/${set}/schema.prisma`, '--exit-code', '--config', config], { env })
    return { code: 0, output: diff.stdout }
  } catch (error) {
    const e = error as { code?: number, stdout?: string, stderr?: string }
    return { code: e.code ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` }
  }
}

async function publicTables (url: string): Promise<string[]> {
  return await withClient(url, async (c) => (await c.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).rows.map((r) => r.t))
}

for (const set of ['registry', 'tenant'] as const) {
  t.test(`${set}: migrated database equals the Prisma schema`, async (t) => {
    const url = await createTestDatabase(`mig_${set}`)
    await withClient(url, async (c) => { await migrateUp(c, await loadMigrations(MIGRATION_SETS[set])) })
    const diff = await diffAgainstSchema(set, url)
    t.equal(diff.code, 0, diff.output)
    // The check really sees drift: drop a table and it must report a difference.
    await withClient(url, async (c) => { await c.query(set === 'tenant' ? 'DROP TABLE "NPSSurvey"' : 'DROP TABLE "AuditLog"') })
    t.equal((await diffAgainstSchema(set, url)).code, 2)
  })

  t.test(`${set}: up -> down -> up round-trips`, async (t) => {
    const url = await createTestDatabase(`rt_${set}`)
    const migrations = await loadMigrations(MIGRATION_SETS[set])
    const client = await connect(url)
    t.teardown(async () => { await client.end() })
    const first = await migrateUp(client, migrations)
    t.same(first.applied, migrations.map((m) => m.version))
    const tables = await publicTables(url)
    t.ok(tables.length >= (set === 'tenant' ? 25 : 8), `${tables.length} tables`)
    const reverted = await migrateDown(client, migrations)
    t.same(reverted, [...migrations].reverse().map((m) => m.version))
    t.same(await publicTables(url), [])
    const types = await client.query("SELECT count(*)::int AS n FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public' AND t.typtype = 'e'")
    t.equal(types.rows[0].n, 0, 'enums dropped too')
    await migrateUp(client, migrations)
    t.same(await publicTables(url), tables)
  })
}

// What the Prisma schema cannot state, and so the diff above cannot see: tenant 0002's raw SQL.
t.test('tenant: the organization settings are one row, from the start', async (t) => {
  const url = await createTestDatabase('mig_settings')
  await withClient(url, async (c) => {
    await migrateUp(c, await loadMigrations(MIGRATION_SETS.tenant))
    const rows = await c.query<{ id: number, requireTwoFactor: boolean }>('SELECT id, "requireTwoFactor" FROM "OrganizationSettings"')
    t.same(rows.rows, [{ id: 1, requireTwoFactor: false }])
    await t.rejects(c.query('INSERT INTO "OrganizationSettings" (id, "updatedAt") VALUES (2, now())'), { code: '23514' }, 'the check constraint refuses a second row')
  })
})

t.test('an applied migration whose file changed is refused', async (t) => {
  const url = await createTestDatabase('mig_checksum')
  const migrations = await loadMigrations(MIGRATION_SETS.registry)
  await withClient(url, async (c) => { await migrateUp(c, migrations) })
  const tampered: Migration[] = migrations.map((m, i) => i === 0 ? { ...m, up: m.up + '\n-- edited', checksum: 'different' } : m)
  await withClient(url, async (c) => {
    await t.rejects(migrateUp(c, tampered), MigrationChecksumError)
  })
})

t.test('two migrators racing apply each migration once', async (t) => {
  const url = await createTestDatabase('mig_race')
  const migrations = await loadMigrations(MIGRATION_SETS.tenant)
  const results = await Promise.all([0, 1, 2].map(async () => await withClient(url, async (c) => await migrateUp(c, migrations))))
  const appliedCounts = results.map((r) => r.applied.length).sort()
  t.same(appliedCounts, [0, 0, migrations.length])
  const history = await withClient(url, async (c) => await appliedMigrations(c))
  t.equal(history.length, migrations.length)
})
