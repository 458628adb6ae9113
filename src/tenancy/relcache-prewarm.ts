// A fresh clone has no relation cache init file (pg_internal.init: the system catalogs' relcache
// entries, which CREATE DATABASE ... STRATEGY WAL_LOG does not copy), and catalog changes can remove
// it. The first backend to start without it builds it from the catalogs and writes it, which made the
// first connection to a new tenant about twice as expensive as any later one. One throw-away
// connection pays that where nobody waits for it: right after the clone, and after a migration.
import type pg from 'pg'
import { connect } from '../db/pg-admin.js'

// 1663 is pg_default's fixed OID: a database elsewhere has its files under pg_tblspc, and is prewarmed.
const INIT_FILE_SQL = `SELECT (pg_stat_file('base/' || oid || '/pg_internal.init', true)).size IS NOT NULL AS present
  FROM pg_database WHERE datname = current_database() AND dattablespace = 1663`

/**
 * Whether the database `client` is in still has its init file. Most migrations leave it alone (only a
 * change to a system catalog's own relcache entry removes it, at commit); then a prewarm backend is
 * a connection for nothing (about 7 ms of server CPU per tenant in a fleet run). pg_stat_file needs a
 * superuser or pg_read_server_files: without them the answer is false, and the caller prewarms.
 */
export async function relationCacheInitFilePresent (client: Pick<pg.ClientBase, 'query'>): Promise<boolean> {
  try {
    return (await client.query<{ present: boolean }>(INIT_FILE_SQL)).rows[0]?.present === true
  } catch {
    return false
  }
}

/** Opens one backend in `url`'s database (which writes a missing init file at start) and closes it. */
export async function prewarmRelationCache (url: string): Promise<void> {
  const client = await connect(url, 'church-sms-prewarm')
  try {
    await client.query('SELECT 1')
  } finally {
    await client.end().catch(() => {})
  }
}
