// Streamed authenticated encryption (AES-256-GCM) in chunks, so that files of any size are sealed and
// opened in constant memory. Each chunk has its own nonce (a random prefix and its index) and tag,
// and its additional data binds it to the file's header, its position and whether it is the last:
// a chunk changed, dropped, reordered or cut off, or a file ending before its last chunk, is refused.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'

const MAGIC = Buffer.from('CSMSSEAL')
const VERSION = 1
export const SEAL_CHUNK_BYTES = 64 * 1024
const TAG_BYTES = 16
const MAX_HEADER_BYTES = 16 * 1024

/** Said in the header, in clear, so a reader can refuse a file before it needs a key. */
export interface SealHeader { version: number, tenantId: string, objectId: string, noncePrefix: string }

export class SealedStreamError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'SealedStreamError'
  }
}

function aad (headerHash: Buffer, index: number, final: boolean): Buffer {
  const out = Buffer.alloc(headerHash.length + 5)
  headerHash.copy(out)
  out.writeUInt32BE(index, headerHash.length)
  out[headerHash.length + 4] = final ? 1 : 0
  return out
}

function nonce (prefix: Buffer, index: number): Buffer {
  const out = Buffer.alloc(12)
  prefix.copy(out)
  out.writeUInt32BE(index, 8)
  return out
}

/** Seals what is written into it; the output starts with the clear header. */
export function createSealStream (key: Buffer, meta: { tenantId: string, objectId: string }): Transform {
  if (key.length !== 32) throw new Error('a 32-byte key is required')
  const prefix = randomBytes(8)
  const header: SealHeader = { version: VERSION, tenantId: meta.tenantId, objectId: meta.objectId, noncePrefix: prefix.toString('base64') }
  const headerBytes = Buffer.from(JSON.stringify(header))
  const headerHash = createHash('sha256').update(headerBytes).digest()
  let pending: Buffer | undefined
  let index = 0
  let started = false

  const seal = (stream: Transform, plain: Buffer, final: boolean): void => {
    if (index === 0xffffffff) throw new SealedStreamError('too many chunks')
    const cipher = createCipheriv('aes-256-gcm', key, nonce(prefix, index), { authTagLength: TAG_BYTES })
    cipher.setAAD(aad(headerHash, index, final))
    const body = Buffer.concat([cipher.update(plain), cipher.final()])
    const length = Buffer.alloc(4)
    length.writeUInt32BE(body.length)
    stream.push(Buffer.concat([length, body, cipher.getAuthTag()]))
    index++
  }
  const start = (stream: Transform): void => {
    if (started) return
    started = true
    const length = Buffer.alloc(4)
    length.writeUInt32BE(headerBytes.length)
    stream.push(Buffer.concat([MAGIC, length, headerBytes]))
  }

  return new Transform({
    transform (chunk: Buffer, _encoding, callback: TransformCallback) {
      try {
        start(this)
        const all = pending === undefined ? chunk : Buffer.concat([pending, chunk])
        let offset = 0
        // A full chunk is sealed only once more bytes follow, so the last chunk always carries the final flag.
        while (all.length - offset > SEAL_CHUNK_BYTES) {
          seal(this, all.subarray(offset, offset + SEAL_CHUNK_BYTES), false)
          offset += SEAL_CHUNK_BYTES
        }
        pending = all.subarray(offset)
        callback()
      } catch (error) { callback(error as Error) }
    },
    flush (callback: TransformCallback) {
      try {
        start(this)
        seal(this, pending ?? Buffer.alloc(0), true)
        callback()
      } catch (error) { callback(error as Error) }
    }
  })
}

/**
 * Opens a sealed stream. `keyFor` sees the clear header first and returns the key, or throws to refuse
 * the file (e.g. one of another tenant). Plaintext is only passed on once its chunk's tag verified.
 */
export function createOpenStream (keyFor: (header: SealHeader) => Promise<Buffer> | Buffer): Transform {
  let buffer: Buffer = Buffer.alloc(0)
  let header: { prefix: Buffer, hash: Buffer } | undefined
  let key: Buffer | undefined
  let index = 0
  let finished = false

  const readHeader = async (): Promise<boolean> => {
    if (buffer.length < MAGIC.length + 4) return false
    if (!buffer.subarray(0, MAGIC.length).equals(MAGIC)) throw new SealedStreamError('not a sealed backup or export file (unknown format)')
    const length = buffer.readUInt32BE(MAGIC.length)
    if (length > MAX_HEADER_BYTES) throw new SealedStreamError('the file header is corrupt')
    if (buffer.length < MAGIC.length + 4 + length) return false
    const bytes = buffer.subarray(MAGIC.length + 4, MAGIC.length + 4 + length)
    let parsed: SealHeader
    try {
      parsed = JSON.parse(bytes.toString('utf8')) as SealHeader
    } catch {
      throw new SealedStreamError('the file header is corrupt')
    }
    if (parsed.version !== VERSION) throw new SealedStreamError(`unsupported file version ${String(parsed.version)}`)
    key = await keyFor(parsed)
    header = { prefix: Buffer.from(parsed.noncePrefix, 'base64'), hash: createHash('sha256').update(bytes).digest() }
    buffer = buffer.subarray(MAGIC.length + 4 + length)
    return true
  }

  const openChunks = (stream: Transform): void => {
    if (header === undefined || key === undefined) return
    while (buffer.length >= 4) {
      if (finished) throw new SealedStreamError('the file has data after its last chunk (tampered)')
      const length = buffer.readUInt32BE(0)
      if (length > SEAL_CHUNK_BYTES) throw new SealedStreamError(`chunk ${index} is corrupt`)
      if (buffer.length < 4 + length + TAG_BYTES) return
      const body = buffer.subarray(4, 4 + length)
      const tag = buffer.subarray(4 + length, 4 + length + TAG_BYTES)
      // The final flag is not stored: a chunk opens under exactly one of the two additional data.
      let plain: Buffer | undefined
      for (const final of [false, true]) {
        try {
          const decipher = createDecipheriv('aes-256-gcm', key, nonce(header.prefix, index), { authTagLength: TAG_BYTES })
          decipher.setAAD(aad(header.hash, index, final))
          decipher.setAuthTag(tag)
          plain = Buffer.concat([decipher.update(body), decipher.final()])
          finished = final
          break
        } catch { /* try the other flag */ }
      }
      if (plain === undefined) throw new SealedStreamError(`chunk ${index} failed authentication: the file is corrupt, tampered with, or sealed with another key`)
      buffer = buffer.subarray(4 + length + TAG_BYTES)
      index++
      if (plain.length > 0) stream.push(plain)
    }
  }

  return new Transform({
    transform (chunk: Buffer, _encoding, callback: TransformCallback) {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk])
      const step = async (): Promise<void> => {
        if (header === undefined && !await readHeader()) return
        openChunks(this)
      }
      step().then(() => { callback() }, (error: unknown) => { callback(error as Error) })
    },
    flush (callback: TransformCallback) {
      if (header === undefined) return callback(new SealedStreamError('the file is truncated (no complete header)'))
      if (!finished || buffer.length > 0) return callback(new SealedStreamError('the file is truncated (it ends before its last chunk)'))
      callback()
    }
  })
}
