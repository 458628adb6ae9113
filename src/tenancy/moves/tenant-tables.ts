// The tenant tables a move carries (schema public), in foreign-key order, and how both copies are
// compared: row count and an MD5 over every row's text in primary-key order, per table.
import pg from 'pg'

type Queryable = Pick<pg.ClientBase, 'query'>

export interface TenantTable { name: string, quoted: string, primaryKey: string[] }

// Names come from our own catalog, but they reach SQL: they are checked and quoted all the same.
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/
const quote = (name: string): string => {
  if (!TABLE_NAME.test(name)) throw new Error(`refusing unsafe table name "${name}"`)
  return pg.escapeIdentifier(name)
}

/** Every table in public, parents before children, so that a plain INSERT copy satisfies foreign keys. */
export async function tenantTables (db: Queryable): Promise<TenantTable[]> {
  const { rows } = await db.query<{ name: string, pk: string[] | null, parents: string[] | null }>(`
    SELECT c.relname::text AS name,
      (SELECT array_agg(a.attname::text ORDER BY k.n) FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = c.oid AND i.indisprimary) AS pk,
      (SELECT array_agg(DISTINCT p.relname::text) FROM pg_constraint f JOIN pg_class p ON p.oid = f.confrelid
        WHERE f.conrelid = c.oid AND f.contype = 'f' AND f.confrelid <> c.oid) AS parents
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname`)
  const byName = new Map(rows.map((r) => [r.name, r]))
  const ordered: TenantTable[] = []
  const placed = new Set<string>()
  const visit = (name: string, path: Set<string>): void => {
    if (placed.has(name)) return
    if (path.has(name)) throw new Error(`foreign keys form a cycle through ${name}`)
    const row = byName.get(name)
    if (row === undefined) return
    path.add(name)
    for (const parent of row.parents ?? []) visit(parent, path)
    path.delete(name)
    placed.add(name)
    if (row.pk === null || row.pk.length === 0) throw new Error(`table ${name} has no primary key: it cannot be moved safely`)
    ordered.push({ name, quoted: quote(name), primaryKey: row.pk.map(quote) })
  }
  for (const row of rows) visit(row.name, new Set())
  return ordered
}

export interface TableDigest { table: string, rows: number, md5: string }

// Both sides render rows the same way only with the same session settings.
export const DIGEST_SESSION = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 3; SET bytea_output = 'hex'"

export async function digestTables (db: Queryable, tables: TenantTable[]): Promise<TableDigest[]> {
  const digests: TableDigest[] = []
  for (const t of tables) {
    const { rows: [row] } = await db.query<{ rows: number, md5: string }>(
      `SELECT count(*)::int AS rows, coalesce(md5(string_agg(md5(x::text), '' ORDER BY ${t.primaryKey.map((k) => `x.${k}`).join(', ')})), '') AS md5 FROM ${t.quoted} x`)
    digests.push({ table: t.name, rows: row?.rows ?? 0, md5: row?.md5 ?? '' })
  }
  return digests
}

/** Tables whose copies differ, with both sides' counts: empty when the copies are the same. */
export function differences (source: TableDigest[], target: TableDigest[]): Array<{ table: string, source: number, target: number }> {
  const other = new Map(target.map((d) => [d.table, d]))
  return source.filter((d) => other.get(d.table)?.md5 !== d.md5 || other.get(d.table)?.rows !== d.rows)
    .map((d) => ({ table: d.table, source: d.rows, target: other.get(d.table)?.rows ?? -1 }))
}

const COPY_BATCH = 2000

/**
 * A target built at the tenant's version holds the rows its migrations seeded (tenant 0002's settings
 * row): they go before the copy or the subscription's initial sync, so that the source's rows replace them.
 */
export async function emptyTables (target: Queryable, tables: TenantTable[]): Promise<void> {
  if (tables.length > 0) await target.query(`TRUNCATE ${tables.map((t) => t.quoted).join(', ')}`)
}

/**
 * Copies every row of `tables` from `source` (whose transaction must keep them still, e.g. under the
 * move's locks) into the empty tables of `target`, in batches of JSON rows: any role that may
 * INSERT can do it, where COPY FROM with triggers disabled would need a superuser.
 */
export async function copyTables (source: pg.ClientBase, target: Queryable, tables: TenantTable[]): Promise<number> {
  let copied = 0
  for (const t of tables) {
    await source.query(`DECLARE move_copy NO SCROLL CURSOR FOR SELECT row_to_json(x)::text AS j FROM ${t.quoted} x`)
    try {
      for (;;) {
        const { rows } = await source.query<{ j: string }>(`FETCH ${COPY_BATCH} FROM move_copy`)
        if (rows.length === 0) break
        await target.query(`INSERT INTO ${t.quoted} SELECT * FROM json_populate_recordset(NULL::${t.quoted}, $1::json)`, [`[${rows.map((r) => r.j).join(',')}]`])
        copied += rows.length
      }
    } finally {
      await source.query('CLOSE move_copy')
    }
  }
  return copied
}
