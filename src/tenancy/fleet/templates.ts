// A server's template moved to the run's target (up or down) before any tenant: new sign-ups clone
// the schema the fleet is heading to. Under the template's exclusive lock, as ensureTemplate does.
import { connect, quoteIdent, withDatabase } from '../../db/pg-admin.js'
import type { Migration } from '../../db/migrator.js'
import { TEMPLATE_DATABASE, ensureTemplate, grantTenantGroupSql, withTemplateLock } from '../template.js'
import { applyPending, type ApplyResult, type Direction, type Timeouts } from './apply.js'

export async function migrateTemplate (adminUrl: string, migrations: Migration[], direction: Direction, target: string, timeouts: Timeouts): Promise<ApplyResult> {
  // A server added since the last start may have no template yet.
  await ensureTemplate(adminUrl, [], { migrate: false })
  const admin = await connect(adminUrl)
  try {
    return await withTemplateLock(admin, 'exclusive', async () => {
      const client = await connect(withDatabase(adminUrl, TEMPLATE_DATABASE))
      try {
        const result = await applyPending(client, migrations, direction, target, timeouts, grantTenantGroupSql())
        // Frozen, so that no clone needs its own anti-wraparound vacuum of these rows (see
        // ensureTemplate). Not VACUUM FULL here: rewriting every table costs ~2 s per server on a
        // durable server, in front of the whole fleet, to save the few pages one migration leaves dead.
        if (result.applied.length > 0) await client.query('VACUUM (FREEZE)')
        await admin.query(`ALTER DATABASE ${quoteIdent(TEMPLATE_DATABASE)} WITH IS_TEMPLATE true`)
        return result
      } finally {
        await client.end()
      }
    })
  } finally {
    await admin.end()
  }
}
