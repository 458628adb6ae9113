// An organization's export: one gzipped tar, written from the database through COPY to files on disk
// and then packed, so memory does not grow with the data. Layout (documented in README):
//   manifest.json        format, tenant, schema version, export time, each table's file and row count
//   tables/<Table>.jsonl one JSON object per row, every table of the tenant database
//   members.csv          the members again, as a spreadsheet opens them
// Secrets (password and token hashes, encrypted credentials) are left out: they are not the
// organization's data and would only be a liability in a downloaded file.
import { createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type pg from 'pg'
import * as tar from 'tar'
import { copyQueryOut, listTables, quoteName, type TableInfo } from '../tenancy/backups/table-copy.js'

export const EXPORT_FORMAT = 'church-sms-export'

const LEFT_OUT: Record<string, string[]> = {
  Admin: ['passwordHash'],
  RefreshToken: ['tokenHash'],
  AdminMFA: ['secretEncrypted'],
  MFARecoveryCode: ['codeHash'],
  PlanningCenterIntegration: ['accessTokenEncrypted', 'refreshTokenEncrypted']
}

export interface ExportManifest {
  format: string
  tenantId: string
  schemaVersion: string
  exportedAt: string
  tables: Array<{ name: string, file: string, rows: number, columns: string[], leftOut: string[] }>
  files: { members: string }
}

/** Columns exported from a table: all but the secrets above. */
export const exportedColumns = (table: TableInfo): string[] => table.columns.filter((c) => !(LEFT_OUT[table.name] ?? []).includes(c))

// CSV with a quote and delimiter that JSON never contains unescaped: each row's JSON comes out as is,
// where COPY's text format would double its backslashes.
const RAW_LINES = "WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')"

async function copyToFile (client: pg.ClientBase, sql: string, options: string, file: string): Promise<number> {
  let rows = 0
  const source = copyQueryOut(client, sql, options)
  await pipeline(source, async function * (chunks: AsyncIterable<Buffer>) {
    for await (const chunk of chunks) {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) rows++
      yield chunk
    }
  }, createWriteStream(file))
  return rows
}

/**
 * Writes the export into a fresh folder under `workDir` and returns the archive as a stream; the
 * folder is removed once the stream ends or fails. `client` should hold one snapshot.
 */
export async function writeExportArchive (client: pg.ClientBase, meta: { tenantId: string, schemaVersion: string }, workDir: string): Promise<{ archive: Readable, manifest: ExportManifest }> {
  await mkdir(workDir, { recursive: true })
  const dir = await mkdtemp(path.join(workDir, 'export-'))
  try {
    await mkdir(path.join(dir, 'tables'))
    const manifest: ExportManifest = { format: EXPORT_FORMAT, tenantId: meta.tenantId, schemaVersion: meta.schemaVersion, exportedAt: new Date().toISOString(), tables: [], files: { members: 'members.csv' } }
    for (const table of await listTables(client)) {
      const columns = exportedColumns(table)
      const file = `tables/${table.name}.jsonl`
      const sql = `SELECT row_to_json(r) FROM (SELECT ${columns.map(quoteName).join(', ')} FROM ${quoteName(table.name)}) r`
      const rows = await copyToFile(client, sql, RAW_LINES, path.join(dir, file))
      manifest.tables.push({ name: table.name, file, rows, columns, leftOut: LEFT_OUT[table.name] ?? [] })
    }
    await copyToFile(client, 'SELECT "firstName", "lastName", phone, email, "isContact", "optedOut", "optedOutAt", timezone, notes, "createdAt" FROM "Member" ORDER BY "lastName", "firstName"',
      'WITH (FORMAT csv, HEADER true)', path.join(dir, 'members.csv'))
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2))
    const pack = tar.create({ gzip: true, cwd: dir, portable: true }, ['manifest.json', 'members.csv', 'tables'])
    const archive = Readable.from(pack as AsyncIterable<Buffer>)
    const cleanup = (): void => { void rm(dir, { recursive: true, force: true }) }
    archive.once('close', cleanup)
    return { archive, manifest }
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
}
