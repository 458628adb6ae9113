// A catalog fingerprint of one database's schema: one line per table, column (type, nullability,
// default), index, constraint, enum, trigger, function and grant in the public and migrator schemas.
// Two databases with the same lines have the same schema; the lines that differ name the drift.
import type pg from 'pg'

// current_database() is the tenant's role name too (tenant-database.ts): replaced so that lines
// compare across tenants and with the template.
// `verify` runs this once per tenant on a fresh backend, whose catalog pages mostly come from the OS
// cache: columns are read per table through pg_attribute's index (LATERAL, not a scan of every
// column of every system table), and functions through their dependency on the schema in pg_depend
// (public and migrator are not pinned, so every function created in them has one) instead of a
// scan of all 3,000+ rows of pg_proc that finds none: about 3.5 of 20 ms of server CPU per tenant.
const LINES = `
WITH s AS (SELECT oid, nspname FROM pg_namespace WHERE nspname IN ('public', 'migrator')),
rel AS (
  SELECT c.oid, s.nspname || '.' || c.relname AS name, c.relkind, c.relacl
  FROM pg_class c JOIN s ON s.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
),
raw AS (
  SELECT 'relation ' || name || ' kind ' || relkind::text AS line FROM rel
  UNION ALL SELECT 'grant ' || name || ' ' || coalesce(relacl::text, '(default)') FROM rel
  UNION ALL SELECT 'column ' || r.name || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
      || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
    FROM rel r CROSS JOIN LATERAL (SELECT * FROM pg_attribute a WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped OFFSET 0) a
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE r.relkind <> 'S'
  UNION ALL SELECT 'index ' || pg_get_indexdef(x.indexrelid) FROM pg_index x JOIN rel r ON r.oid = x.indrelid
  UNION ALL SELECT 'constraint ' || r.name || '.' || c.conname || ' ' || pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN rel r ON r.oid = c.conrelid
  UNION ALL SELECT 'enum ' || s.nspname || '.' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
    FROM pg_type t JOIN s ON s.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY s.nspname, t.typname
  UNION ALL SELECT 'trigger ' || r.name || '.' || t.tgname || ' ' || pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN rel r ON r.oid = t.tgrelid WHERE NOT t.tgisinternal
  UNION ALL SELECT 'function ' || s.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') ' || md5(pg_get_functiondef(p.oid))
    FROM pg_depend dep JOIN pg_proc p ON p.oid = dep.objid JOIN s ON s.oid = p.pronamespace
    WHERE dep.classid = 'pg_proc'::regclass AND dep.refclassid = 'pg_namespace'::regclass AND dep.refobjid = s.oid AND dep.deptype = 'n' AND p.prokind = 'f'
  UNION ALL SELECT 'schema ' || n.nspname || ' ' || coalesce(n.nspacl::text, '(default)') FROM pg_namespace n JOIN s ON s.oid = n.oid
),
lines AS (SELECT replace(line, current_database(), '<tenant>') AS line FROM raw)`

export const FINGERPRINT_HASH_SQL = `${LINES} SELECT md5(string_agg(line, E'\\n' ORDER BY line)) AS hash FROM lines`
const FINGERPRINT_LINES_SQL = `${LINES} SELECT line FROM lines ORDER BY line`

export interface Fingerprint { hash: string, lines: string[] }

export async function fingerprintHash (client: Pick<pg.ClientBase, 'query'>): Promise<string> {
  return (await client.query<{ hash: string }>(FINGERPRINT_HASH_SQL)).rows[0]?.hash ?? ''
}

export async function fingerprint (client: Pick<pg.ClientBase, 'query'>): Promise<Fingerprint> {
  const lines = (await client.query<{ line: string }>(FINGERPRINT_LINES_SQL)).rows.map((r) => r.line)
  return { hash: await fingerprintHash(client), lines }
}

/** What `actual` has that `expected` lacks (+) and the reverse (-), at most `limit` lines. */
export function diffLines (expected: string[], actual: string[], limit = 20): string[] {
  const want = new Set(expected)
  const have = new Set(actual)
  const out = [...actual.filter((l) => !want.has(l)).map((l) => `+ ${l}`), ...expected.filter((l) => !have.has(l)).map((l) => `- ${l}`)]
  return out.length > limit ? [...out.slice(0, limit), `... ${out.length - limit} more`] : out
}
