// The database a tenant moved away from: closed to writes at the switch, kept for the grace period,
// then dropped with its role.
import type pg from 'pg'
import { quoteIdent } from '../../db/pg-admin.js'
import { TENANT_GROUP_ROLE } from '../template.js'

/** Run inside the source database: the tenant's role (directly or through its group) may only read. */
export async function revokeWrites (client: Pick<pg.ClientBase, 'query'>, databaseUser: string): Promise<void> {
  const group = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [TENANT_GROUP_ROLE])
  const roles = [...(group.rowCount === 1 ? [TENANT_GROUP_ROLE] : []), quoteIdent(databaseUser)]
  await client.query(`REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public FROM ${roles.join(', ')}`)
}
