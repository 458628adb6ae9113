// Where backup and export files live, behind one small interface (streams in, streams out, list,
// delete) so that an object store can stand in for the directory without touching its callers.
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { randomBytes } from 'node:crypto'

export interface StoredObject { key: string, bytes: number, modifiedAt: Date }

export interface BlobStorage {
  /** Writes the whole stream under `key`; readers never see a partial object (written aside, then renamed). */
  put: (key: string, body: Readable) => Promise<StoredObject>
  /** The object's bytes; rejects with code ENOENT when there is none. */
  get: (key: string) => Promise<Readable>
  /** Objects whose key starts with `prefix` ("" for all), in key order. */
  list: (prefix: string) => Promise<StoredObject[]>
  /** Idempotent: an absent key is fine. */
  delete: (key: string) => Promise<void>
}

// Keys are made by us from tenant and object ids; this keeps any other shape out of the file system.
const KEY = /^[a-z0-9][a-z0-9._-]{0,120}(\/[a-z0-9][a-z0-9._-]{0,120}){0,3}$/i

function checkKey (key: string): string {
  if (!KEY.test(key) || key.includes('..')) throw new Error(`refusing storage key "${key}"`)
  return key
}

export function createDirectoryStorage (root: string): BlobStorage {
  const file = (key: string): string => path.join(root, checkKey(key))

  async function walk (dir: string, prefix: string, out: StoredObject[]): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return []
      throw error
    })
    for (const entry of entries) {
      const key = prefix === '' ? entry.name : `${prefix}/${entry.name}`
      if (entry.isDirectory()) await walk(path.join(dir, entry.name), key, out)
      else if (entry.isFile() && !entry.name.startsWith('.')) {
        const info = await stat(path.join(dir, entry.name))
        out.push({ key, bytes: info.size, modifiedAt: info.mtime })
      }
    }
  }

  return {
    async put (key, body) {
      const target = file(key)
      await mkdir(path.dirname(target), { recursive: true })
      // A dot-file beside the target: list() skips it, and a crash leaves nothing that looks complete.
      const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.part`)
      try {
        await pipeline(body, createWriteStream(temp, { mode: 0o600 }))
        await rename(temp, target)
      } catch (error) {
        await rm(temp, { force: true })
        throw error
      }
      const info = await stat(target)
      return { key, bytes: info.size, modifiedAt: info.mtime }
    },
    async get (key) {
      const target = file(key)
      await stat(target)
      return createReadStream(target)
    },
    async list (prefix) {
      const out: StoredObject[] = []
      // Only the folder the prefix names is walked: listing one tenant's files stays cheap.
      const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : ''
      if (folder !== '') checkKey(folder)
      await walk(folder === '' ? root : path.join(root, folder), folder, out)
      return out.filter((o) => o.key.startsWith(prefix)).sort((a, b) => a.key.localeCompare(b.key))
    },
    async delete (key) {
      await rm(file(key), { force: true })
    }
  }
}
