// Logical replication of one tenant database to its new server: a publication of its tables on the
// source, a subscription (with its slot) on the target that copies them and then streams every change
// until the move switches. Every step is idempotent, so an interrupted move can be cleaned up again.
import type pg from 'pg'
import { assertIdentifier, parseDatabaseUrl, quoteIdent, quoteLiteral } from '../../db/pg-admin.js'
import type { TenantTable } from './tenant-tables.js'

type Queryable = Pick<pg.ClientBase, 'query'>

/** Publication, subscription and slot share this name (tenant ids are lowercase alphanumerics). */
export const replicationName = (tenantId: string): string => assertIdentifier(`move_${tenantId}`)

/** A libpq conninfo string (values single-quoted, backslash-escaped) for the target to reach the source. */
export function conninfo (url: string): string {
  const p = parseDatabaseUrl(url)
  const v = (value: string | number): string => `'${String(value).replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`
  return `host=${v(p.host)} port=${v(p.port)} user=${v(p.user)} password=${v(p.password)} dbname=${v(p.database)}`
}

export async function createPublication (source: Queryable, tenantId: string, tables: TenantTable[]): Promise<void> {
  const name = quoteIdent(replicationName(tenantId))
  const exists = await source.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [replicationName(tenantId)])
  if (exists.rowCount === 0) await source.query(`CREATE PUBLICATION ${name} FOR TABLE ${tables.map((t) => `public.${t.quoted}`).join(', ')}`)
}

/** Creates the slot on the source and starts the initial copy (CREATE SUBSCRIPTION cannot run in a transaction). */
export async function createSubscription (target: Queryable, tenantId: string, sourceDatabaseUrl: string): Promise<void> {
  const name = replicationName(tenantId)
  const exists = await target.query('SELECT 1 FROM pg_subscription WHERE subname = $1', [name])
  if (exists.rowCount !== 0) return
  await target.query(`CREATE SUBSCRIPTION ${quoteIdent(name)} CONNECTION ${quoteLiteral(conninfo(sourceDatabaseUrl))} PUBLICATION ${quoteIdent(name)}
    WITH (copy_data = true, create_slot = true, slot_name = ${quoteLiteral(name)}, enabled = true)`)
}

export interface SyncState { tables: number, ready: number, errors: number }

/** How far the initial copy is: every table 'r' (ready) means only streaming is left. */
export async function syncState (target: Queryable, tenantId: string): Promise<SyncState> {
  const { rows: [row] } = await target.query<SyncState>(`
    SELECT count(r.*)::int AS tables, (count(r.*) FILTER (WHERE r.srsubstate = 'r'))::int AS ready,
      coalesce((SELECT (apply_error_count + sync_error_count)::int FROM pg_stat_subscription_stats s WHERE s.subid = sub.oid), 0) AS errors
    FROM pg_subscription sub LEFT JOIN pg_subscription_rel r ON r.srsubid = sub.oid
    WHERE sub.subname = $1 GROUP BY sub.oid`, [replicationName(tenantId)])
  return row ?? { tables: 0, ready: 0, errors: 0 }
}

/** Drops the subscription; without the slot when the source cannot be reached (dropped there separately). */
export async function dropSubscription (target: Queryable, tenantId: string): Promise<void> {
  const name = replicationName(tenantId)
  const exists = await target.query('SELECT 1 FROM pg_subscription WHERE subname = $1', [name])
  if (exists.rowCount === 0) return
  await target.query(`ALTER SUBSCRIPTION ${quoteIdent(name)} DISABLE`)
  await target.query(`ALTER SUBSCRIPTION ${quoteIdent(name)} SET (slot_name = NONE)`)
  await target.query(`DROP SUBSCRIPTION ${quoteIdent(name)}`)
}

/** Removes the publication and the slot on the source; a slot left behind would keep WAL forever. */
export async function dropPublication (source: Queryable, tenantId: string): Promise<void> {
  const name = replicationName(tenantId)
  // The walsender may take a moment to let go of the slot after its subscription was disabled.
  for (let attempt = 0; ; attempt++) {
    const slot = await source.query<{ active_pid: number | null }>('SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1', [name])
    const row = slot.rows[0]
    if (row === undefined) break
    if (row.active_pid !== null) {
      if (attempt >= 50) await source.query('SELECT pg_terminate_backend($1)', [row.active_pid])
      await new Promise((resolve) => setTimeout(resolve, 100))
      continue
    }
    await source.query('SELECT pg_drop_replication_slot($1)', [name])
    break
  }
  await source.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(name)}`)
}
