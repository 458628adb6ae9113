// A bulk load into empty tables is faster without its indexes and foreign keys: each COPY row would
// otherwise update every index and run a foreign-key lookup, where rebuilding an index afterwards is
// one sort and re-adding a foreign key one join. Inside the load's transaction nothing else sees the
// tables without them, and a failed load rolls the drops back with everything else.
import type pg from 'pg'

interface Statements { drop: string[], create: string[] }

/**
 * Drops the public schema's foreign keys, primary and unique constraints and plain indexes, and
 * returns what puts them back exactly as they were (definitions from the catalog, in dependency
 * order: indexes and keys before the foreign keys that need them). Call both in one transaction.
 */
export async function dropIndexesForLoad (client: Pick<pg.ClientBase, 'query'>): Promise<() => Promise<void>> {
  // The SQL is assembled by the server (format %I quotes every name), from the catalog only.
  const { rows } = await client.query<{ drop: string, create: string, rank: number }>(`
    SELECT format('ALTER TABLE %I DROP CONSTRAINT %I', t.relname, c.conname) AS drop,
           format('ALTER TABLE %I ADD CONSTRAINT %I %s', t.relname, c.conname, pg_get_constraintdef(c.oid)) AS create,
           CASE c.contype WHEN 'f' THEN 0 ELSE 1 END AS rank
      FROM pg_constraint c
      JOIN pg_class t ON t.oid = c.conrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
     WHERE c.contype IN ('f', 'p', 'u')
    UNION ALL
    SELECT format('DROP INDEX %I', i.relname), pg_get_indexdef(i.oid), 2
      FROM pg_index x
      JOIN pg_class i ON i.oid = x.indexrelid
      JOIN pg_class t ON t.oid = x.indrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
     WHERE NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u', 'x'))
     ORDER BY rank, drop`)
  // Drops: foreign keys first (they depend on the referenced keys), then keys, then indexes.
  const statements: Statements = { drop: rows.map((r) => r.drop), create: [...rows].reverse().map((r) => r.create) }
  for (const sql of statements.drop) await client.query(sql)
  return async () => {
    // Index builds get memory for one sort each instead of spilling to disk (transaction-local).
    await client.query("SET LOCAL maintenance_work_mem = '256MB'")
    for (const sql of statements.create) await client.query(sql)
  }
}
