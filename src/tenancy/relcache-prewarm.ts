// A fresh clone has no relation cache init file (pg_internal.init: the system catalogs' relcache
// entries, which CREATE DATABASE ... STRATEGY WAL_LOG does not copy), and catalog changes can remove
// it. The first backend to start without it builds it from the catalogs and writes it, which made the
// first connection to a new tenant about twice as expensive as any later one. One throw-away
// connection pays that where nobody waits for it: right after the clone, and after a migration.
import { connect } from '../db/pg-admin.js'

/** Opens one backend in `url`'s database (which writes a missing init file at start) and closes it. */
export async function prewarmRelationCache (url: string): Promise<void> {
  const client = await connect(url, 'church-sms-prewarm')
  try {
    await client.query('SELECT 1')
  } finally {
    await client.end().catch(() => {})
  }
}
