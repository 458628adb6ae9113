// Each server keeps `tenant_template` at the newest tenant schema; new tenants are clones of it.
// Upgrading the template takes an exclusive advisory lock and cloning a shared one, both in the
// server's maintenance database, so a clone never copies a half-migrated template.
import type pg from 'pg'
import { connect, ensureDatabase, quoteIdent, withDatabase } from '../db/pg-admin.js'
import { migrateUp, type Migration } from '../db/migrator.js'

export const TEMPLATE_DATABASE = 'tenant_template'
const TEMPLATE_LOCK = 'tenant_template'

export interface TemplateStatus { version: string, applied: string[] }

export async function withTemplateLock<T> (admin: pg.ClientBase, mode: 'exclusive' | 'shared', fn: () => Promise<T>): Promise<T> {
  const suffix = mode === 'shared' ? '_shared' : ''
  await admin.query(`SELECT pg_advisory_lock${suffix}(hashtext($1))`, [TEMPLATE_LOCK])
  try {
    return await fn()
  } finally {
    await admin.query(`SELECT pg_advisory_unlock${suffix}(hashtext($1))`, [TEMPLATE_LOCK])
  }
}

/** Creates the template if missing and migrates it in place; returns its schema version. */
export async function ensureTemplate (adminUrl: string, migrations: Migration[]): Promise<TemplateStatus> {
  const admin = await connect(adminUrl)
  try {
    return await withTemplateLock(admin, 'exclusive', async () => {
      await ensureDatabase(admin, TEMPLATE_DATABASE)
      // Nobody but the platform connects to the template; clones get their own grants.
      await admin.query(`REVOKE ALL ON DATABASE ${quoteIdent(TEMPLATE_DATABASE)} FROM PUBLIC`)
      const client = await connect(withDatabase(adminUrl, TEMPLATE_DATABASE))
      let result
      try {
        result = await migrateUp(client, migrations)
      } finally {
        await client.end()
      }
      await admin.query(`ALTER DATABASE ${quoteIdent(TEMPLATE_DATABASE)} WITH IS_TEMPLATE true`)
      return { version: result.version, applied: result.applied }
    })
  } finally {
    await admin.end()
  }
}
