// The plaintext inside a sealed backup: a sequence of frames (type byte, 4-byte length, payload).
//   H  header JSON: format, tenant, backup id, schema version, the tables with their columns
//   T  a table starts (JSON: name)      D  COPY text of that table, in pieces
//   E  the table ends (JSON: name, rows, bytes, sha256 of its COPY text)
//   Z  the manifest (JSON: every table's rows, bytes and sha256): the backup is complete
import { createHash } from 'node:crypto'
import type pg from 'pg'
import { copyOut, type TableInfo } from './table-copy.js'

export const BACKUP_FORMAT = 'church-sms-backup'
export const BACKUP_FORMAT_VERSION = 1
const DATA_FRAME_BYTES = 64 * 1024
const MAX_FRAME_BYTES = 16 * 1024 * 1024

export interface BackupHeader {
  format: string
  formatVersion: number
  tenantId: string
  backupId: string
  schemaVersion: string
  createdAt: string
  tables: TableInfo[]
}

export interface TableManifest { name: string, rows: number, bytes: number, sha256: string }
export interface BackupManifest { tables: TableManifest[] }

export type Frame =
  | { type: 'H', header: BackupHeader }
  | { type: 'T', name: string }
  | { type: 'D', data: Buffer }
  | { type: 'E', table: TableManifest }
  | { type: 'Z', manifest: BackupManifest }

export class BackupFormatError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'BackupFormatError'
  }
}

function frame (type: string, payload: Buffer): Buffer {
  const head = Buffer.alloc(5)
  head.write(type, 0, 'latin1')
  head.writeUInt32BE(payload.length, 1)
  return Buffer.concat([head, payload])
}

const json = (type: string, value: unknown): Buffer => frame(type, Buffer.from(JSON.stringify(value)))

/** Rows in COPY text format end with a newline each (newlines inside values are escaped). */
function countRows (chunk: Buffer): number {
  let rows = 0
  for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) rows++
  return rows
}

/** Counts and hashes a table's COPY text as it passes: the same numbers the backup and the restore compare. */
export function createTableDigest (name: string) {
  const hash = createHash('sha256')
  let rows = 0
  let bytes = 0
  return {
    update (chunk: Buffer): void {
      hash.update(chunk)
      rows += countRows(chunk)
      bytes += chunk.length
    },
    result: (): TableManifest => ({ name, rows, bytes, sha256: hash.digest('hex') })
  }
}

/** The frames of a backup, read from `client` (which should hold one snapshot across all tables). */
export async function * writeBackupFrames (client: pg.ClientBase, header: BackupHeader): AsyncGenerator<Buffer> {
  yield json('H', header)
  const manifest: BackupManifest = { tables: [] }
  for (const table of header.tables) {
    yield json('T', { name: table.name })
    const digest = createTableDigest(table.name)
    let pending: Buffer[] = []
    let pendingBytes = 0
    for await (const chunk of copyOut(client, table) as AsyncIterable<Buffer>) {
      digest.update(chunk)
      pending.push(chunk)
      pendingBytes += chunk.length
      // COPY hands over a row at a time: pieces are gathered so that frames stay few.
      if (pendingBytes >= DATA_FRAME_BYTES) {
        yield frame('D', Buffer.concat(pending))
        pending = []
        pendingBytes = 0
      }
    }
    if (pendingBytes > 0) yield frame('D', Buffer.concat(pending))
    const done = digest.result()
    manifest.tables.push(done)
    yield json('E', done)
  }
  yield json('Z', manifest)
}

/** Parses frames from the opened (decrypted) stream; a stream that stops mid-frame is an error. */
export async function * readBackupFrames (source: AsyncIterable<Buffer>): AsyncGenerator<Frame> {
  let buffer: Buffer = Buffer.alloc(0)
  let ended = false
  for await (const chunk of source) {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk])
    while (buffer.length >= 5) {
      const type = String.fromCharCode(buffer[0] as number)
      const length = buffer.readUInt32BE(1)
      if (length > MAX_FRAME_BYTES) throw new BackupFormatError('the backup is corrupt (oversized frame)')
      if (buffer.length < 5 + length) break
      const payload = buffer.subarray(5, 5 + length)
      buffer = buffer.subarray(5 + length)
      if (ended) throw new BackupFormatError('the backup has data after its manifest')
      if (type === 'D') { yield { type, data: payload }; continue }
      let value: unknown
      try {
        value = JSON.parse(payload.toString('utf8'))
      } catch {
        throw new BackupFormatError(`the backup is corrupt (unreadable ${type} frame)`)
      }
      if (type === 'H') yield { type, header: value as BackupHeader }
      else if (type === 'T') yield { type, name: (value as { name: string }).name }
      else if (type === 'E') yield { type, table: value as TableManifest }
      else if (type === 'Z') { ended = true; yield { type, manifest: value as BackupManifest } } else throw new BackupFormatError(`the backup is corrupt (unknown frame type ${JSON.stringify(type)})`)
    }
  }
  if (buffer.length > 0) throw new BackupFormatError('the backup is truncated (it stops inside a frame)')
  if (!ended) throw new BackupFormatError('the backup is truncated (it has no manifest)')
}
