// Loads a backup's frames into a new database at the backup's schema version, in one transaction,
// and proves it complete: each table's COPY text hashes and counts as its end frame and the manifest
// say (and as the registry recorded at backup time), and the loaded tables hold exactly those rows.
import { once } from 'node:events'
import { finished } from 'node:stream/promises'
import type pg from 'pg'
import { ERRORS } from '../../errors.js'
import { createTableDigest, type Frame, type TableManifest } from './backup-format.js'
import { dropIndexesForLoad } from './deferred-indexes.js'
import { copyIn, listTables, quoteName, resetSequences, type TableInfo } from './table-copy.js'

export interface LoadExpectation { tenantId: string, backupId: string, schemaVersion: string, manifest: TableManifest[] | null }

const refuse = (why: string): Error => new ERRORS.BackupRefused(why)

function sameTable (a: TableManifest, b: TableManifest | undefined): boolean {
  return b !== undefined && a.rows === b.rows && a.sha256 === b.sha256 && a.bytes === b.bytes
}

function checkColumns (target: Map<string, TableInfo>, tables: TableInfo[]): void {
  for (const table of tables) {
    const here = target.get(table.name)
    if (here === undefined || here.columns.join(',') !== table.columns.join(',')) throw refuse(`table ${table.name} of the backup does not match the database's schema`)
  }
}

export async function loadBackup (client: pg.ClientBase, frames: AsyncIterable<Frame>, expect: LoadExpectation): Promise<TableManifest[]> {
  await client.query('BEGIN')
  const target = new Map((await listTables(client)).map((t) => [t.name, t]))
  const rebuildIndexes = await dropIndexesForLoad(client)
  let tables: TableInfo[] | undefined
  let current: { table: TableInfo, stream: ReturnType<typeof copyIn>, done: Promise<void>, digest: ReturnType<typeof createTableDigest> } | undefined
  const loaded: TableManifest[] = []
  let complete = false
  for await (const frame of frames) {
    if (frame.type === 'H') {
      const h = frame.header
      if (h.tenantId !== expect.tenantId) throw refuse(`it is a backup of another organization (${h.tenantId})`)
      if (h.backupId !== expect.backupId || h.schemaVersion !== expect.schemaVersion) throw refuse('its header does not match the registry\'s record of it')
      checkColumns(target, h.tables)
      // A database made at the backup's version holds only the rows its migrations seeded (tenant
      // 0002's settings row): the backup's copy of each table replaces them.
      if (h.tables.length > 0) await client.query(`TRUNCATE ${h.tables.map((t) => quoteName(t.name)).join(', ')}`)
      tables = h.tables
    } else if (tables === undefined) {
      throw refuse('the backup is corrupt (no header)')
    } else if (frame.type === 'T') {
      const table = tables.find((t) => t.name === frame.name)
      if (table === undefined || current !== undefined) throw refuse(`the backup is corrupt (unexpected table ${frame.name})`)
      const stream = copyIn(client, table)
      const done = finished(stream)
      done.catch(() => {}) // awaited at the table's end; an early failure also surfaces through write()
      current = { table, stream, done, digest: createTableDigest(table.name) }
    } else if (frame.type === 'D') {
      if (current === undefined) throw refuse('the backup is corrupt (rows outside a table)')
      current.digest.update(frame.data)
      if (!current.stream.write(frame.data)) await once(current.stream, 'drain')
    } else if (frame.type === 'E') {
      if (current === undefined || current.table.name !== frame.table.name) throw refuse('the backup is corrupt (a table ends that did not start)')
      current.stream.end()
      await current.done
      const result = current.digest.result()
      if (!sameTable(result, frame.table) || current.stream.rowCount !== result.rows) throw refuse(`checksum mismatch in table ${result.name}: the backup is corrupt`)
      loaded.push(result)
      current = undefined
    } else {
      for (const table of frame.manifest.tables) {
        if (!sameTable(table, loaded.find((l) => l.name === table.name))) throw refuse(`checksum mismatch in table ${table.name}: the manifest disagrees with the data`)
        if (expect.manifest !== null && !sameTable(table, expect.manifest.find((m) => m.name === table.name))) throw refuse(`checksum mismatch in table ${table.name}: the file differs from the backup that was recorded`)
      }
      if (loaded.length !== frame.manifest.tables.length || loaded.length !== tables.length) throw refuse('the backup is corrupt (tables missing)')
      complete = true
    }
  }
  if (!complete) throw refuse('the backup is truncated')
  // Rebuilding the keys also proves them: a duplicate key or a dangling reference fails the load here.
  await rebuildIndexes().catch((error: unknown) => { throw refuse(`its rows break the schema's keys (${(error as Error).message})`) })
  await resetSequences(client)
  for (const table of loaded) {
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteName(table.name)}`)
    if (Number(rows[0]?.n) !== table.rows) throw refuse(`table ${table.name} holds ${rows[0]?.n ?? 0} rows after the load, the backup ${table.rows}`)
  }
  await client.query('COMMIT')
  return loaded
}
