// Streams one table's rows out of or into a database with COPY (text format: portable across server
// versions, no pg_dump needed). Used by backups, restores and exports, and meant for moves as well.
import type pg from 'pg'
import { from as copyFrom, to as copyTo } from 'pg-copy-streams'
import type { Readable, Writable } from 'node:stream'

export interface TableInfo { name: string, columns: string[] }

// Table and column names come from the catalog of a schema our migrations made (Prisma's PascalCase
// and camelCase names), never from input; anything else is refused before it reaches SQL.
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

export function quoteName (name: string): string {
  if (!NAME.test(name)) throw new Error(`refusing unsafe table or column name "${name}"`)
  return `"${name}"`
}

export const columnList = (table: TableInfo): string => table.columns.map(quoteName).join(', ')

/**
 * The tables of the public schema with their columns, parents before children (foreign keys), so
 * that loading them in this order never violates a constraint.
 */
export async function listTables (client: Pick<pg.ClientBase, 'query'>): Promise<TableInfo[]> {
  const columns = await client.query<{ table: string, column: string }>(
    `SELECT c.relname AS table, a.attname AS column FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      WHERE c.relkind = 'r' ORDER BY c.relname, a.attnum`)
  const references = await client.query<{ child: string, parent: string }>(
    `SELECT c.relname AS child, p.relname AS parent FROM pg_constraint k
       JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
      WHERE k.contype = 'f' AND k.conrelid <> k.confrelid`)
  const tables = new Map<string, TableInfo>()
  for (const row of columns.rows) {
    const table = tables.get(row.table) ?? { name: row.table, columns: [] }
    table.columns.push(row.column)
    tables.set(row.table, table)
  }
  const parents = new Map<string, Set<string>>()
  for (const { child, parent } of references.rows) parents.set(child, (parents.get(child) ?? new Set()).add(parent))
  const ordered: TableInfo[] = []
  const state = new Map<string, 'visiting' | 'done'>()
  const visit = (name: string): void => {
    if (state.get(name) === 'done') return
    if (state.get(name) === 'visiting') throw new Error(`foreign keys form a cycle through table ${name}`)
    state.set(name, 'visiting')
    for (const parent of [...(parents.get(name) ?? [])].sort()) if (tables.has(parent)) visit(parent)
    state.set(name, 'done')
    ordered.push(tables.get(name) as TableInfo)
  }
  for (const name of [...tables.keys()].sort()) visit(name)
  return ordered
}

/** The table's rows in COPY text format, one line per row. The client must stay checked out until it ends. */
export function copyOut (client: pg.ClientBase, table: TableInfo): Readable {
  return client.query(copyTo(`COPY ${quoteName(table.name)} (${columnList(table)}) TO STDOUT`))
}

/** Any query's rows as COPY output, e.g. an export's JSON Lines. */
export function copyQueryOut (client: pg.ClientBase, sql: string, options = ''): Readable {
  return client.query(copyTo(`COPY (${sql}) TO STDOUT ${options}`))
}

/** Loads COPY text into the table; `rowCount` on the stream once it finished. */
export function copyIn (client: pg.ClientBase, table: TableInfo): Writable & { rowCount: number } {
  return client.query(copyFrom(`COPY ${quoteName(table.name)} (${columnList(table)}) FROM STDIN`))
}

/** After a load, every sequence owned by a column continues after the column's highest value. */
export async function resetSequences (client: Pick<pg.ClientBase, 'query'>): Promise<void> {
  const owned = await client.query<{ seq: string, table: string, column: string }>(
    `SELECT s.relname AS seq, t.relname AS table, a.attname AS column FROM pg_depend d
       JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
       JOIN pg_class t ON t.oid = d.refobjid
       JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
      WHERE d.deptype IN ('a', 'i')`)
  for (const { seq, table, column } of owned.rows) {
    await client.query(`SELECT setval('${quoteName(seq)}', coalesce(max(${quoteName(column)}), 0) + 1, false) FROM ${quoteName(table)}`)
  }
}
