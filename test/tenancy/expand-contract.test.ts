// The expand/contract rule: a migration that drops or renames a table or column is refused unless it
// is marked as the contract step, and the current app keeps working against a tenant one additive
// migration behind its files and against one ahead of them.
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { destructiveChange, CONTRACT_MARKER } from '../../src/db/contract-rule.js'
import { loadMigrations, migrateUp } from '../../src/db/migrator.js'
import { withClient, withDatabase } from '../../src/db/pg-admin.js'
import { build, registerOrganization, testConfig, testServerUrl } from '../helper.js'
import { migrationsWith, type ExtraMigration } from '../helpers/fleet-fixture.js'

const EXPAND: ExtraMigration = {
  version: '9001_expand_member_pronouns',
  up: 'ALTER TABLE "Member" ADD COLUMN "pronouns" TEXT;\nCREATE TABLE "MemberNote" (id text PRIMARY KEY, "memberId" text NOT NULL, body text NOT NULL);\n',
  down: 'DROP TABLE "MemberNote";\nALTER TABLE "Member" DROP COLUMN "pronouns";\n'
}

t.test('destructive statements are recognised; additive ones and comments are not', async (t) => {
  t.equal(destructiveChange('ALTER TABLE "Member" DROP COLUMN "notes";'), 'drops a column')
  t.equal(destructiveChange('ALTER TABLE "Member" ADD COLUMN "x" int,\nDROP "notes";'), 'drops a column')
  t.equal(destructiveChange('DROP TABLE "Member";'), 'drops a table')
  t.equal(destructiveChange('ALTER TABLE "Member" RENAME COLUMN "notes" TO "remarks";'), 'renames a table or column')
  t.equal(destructiveChange('ALTER TABLE "Member" DROP CONSTRAINT "x_fkey"; DROP INDEX "y"; ALTER TABLE "Member" ALTER COLUMN "a" DROP NOT NULL, ALTER COLUMN "b" DROP DEFAULT;'), undefined)
  t.equal(destructiveChange("-- DROP TABLE \"Member\"\nCOMMENT ON TABLE \"Member\" IS 'DROP TABLE x';"), undefined)
})

t.test('the migrator refuses an unmarked contract migration and accepts a marked one', async (t) => {
  const drop = { version: '9002_drop_notes', up: 'ALTER TABLE "Member" DROP COLUMN "notes";\n', down: 'ALTER TABLE "Member" ADD COLUMN "notes" TEXT;\n' }
  const refused = await migrationsWith([EXPAND, drop])
  await t.rejects(loadMigrations(refused), { name: 'ContractRuleError', message: /9002_drop_notes drops a column.*contract step/ })
  const marked = await migrationsWith([EXPAND, { ...drop, up: `${CONTRACT_MARKER}\n${drop.up}` }])
  // The marker lives in up.sql, so the checksum recorded when it is applied covers it too.
  t.equal((await loadMigrations(marked)).at(-1)?.version, '9002_drop_notes')
})

async function exercise (t: Test, app: FastifyInstance, headers: Record<string, string>, phone: string): Promise<void> {
  const made = await app.inject({ method: 'POST', url: '/api/members', headers, payload: { firstName: 'Ann', phone } })
  t.equal(made.statusCode, 201, made.body)
  const list = await app.inject({ url: '/api/members', headers })
  t.equal(list.statusCode, 200)
  t.ok(list.json().items.length >= 1)
  const updated = await app.inject({ method: 'PATCH', url: `/api/members/${made.json().id as string}`, headers, payload: { notes: 'still here' } })
  t.equal(updated.statusCode, 200, updated.body)
  t.equal((await app.inject({ url: '/api/me', headers })).statusCode, 200)
}

t.test('the current app serves a tenant one additive migration ahead of it, and one behind', async (t) => {
  const app = await build(t)
  const ahead = (await registerOrganization(app, 'Ahead')).json() as { tenantId: string, accessToken: string }
  const files = await loadMigrations(await migrationsWith([EXPAND]))
  // Ahead: the next release's expand step reached this tenant before this code was replaced.
  await withClient(withDatabase(await testServerUrl(), `tenant_${ahead.tenantId}`), async (c) => { await migrateUp(c, files) })
  await exercise(t, app, { authorization: `Bearer ${ahead.accessToken}` }, '+13125550141')

  // Behind: this code ships with one more migration than the tenant has (the fleet run is still going).
  const config = await testConfig()
  const older = await buildApp(config, { logger: false })
  const behind = (await registerOrganization(older, 'Behind')).json() as { tenantId: string, accessToken: string }
  await older.close()
  const newer = await buildApp(config, { logger: false, tenantMigrationsDir: await migrationsWith([EXPAND]), migrateTemplates: false })
  t.teardown(async () => { await newer.close() })
  t.equal(newer.readiness.expectedTenantVersion, EXPAND.version)
  await exercise(t, newer, { authorization: `Bearer ${behind.accessToken}` }, '+13125550142')
})
