// The sealed stream opens only what it sealed, unchanged and whole.
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import t from 'tap'
import { createOpenStream, createSealStream, SEAL_CHUNK_BYTES } from '../../src/tenancy/backups/sealed-stream.js'

const key = randomBytes(32)
const meta = { tenantId: 'tenanta', objectId: 'b1' }

async function seal (plain: Buffer, k = key): Promise<Buffer> {
  return await buffer(Readable.from([plain.subarray(0, 1000), plain.subarray(1000)]).pipe(createSealStream(k, meta)))
}
async function open (sealed: Buffer, k = key): Promise<Buffer> {
  return await buffer(Readable.from([sealed]).pipe(createOpenStream(() => k)))
}

t.test('round trip at, below and above the chunk size', async (t) => {
  for (const size of [0, 1, SEAL_CHUNK_BYTES - 1, SEAL_CHUNK_BYTES, SEAL_CHUNK_BYTES * 3 + 7]) {
    const plain = randomBytes(size)
    t.ok((await open(await seal(plain))).equals(plain), `${size} bytes`)
  }
})

t.test('a changed byte, a cut, a dropped chunk or another key is refused', async (t) => {
  const plain = randomBytes(SEAL_CHUNK_BYTES * 2 + 100)
  const sealed = await seal(plain)
  const flipped = Buffer.from(sealed)
  flipped[flipped.length - 40] = (flipped[flipped.length - 40] as number) ^ 1
  await t.rejects(open(flipped), /failed authentication/)
  await t.rejects(open(sealed.subarray(0, sealed.length - 10)), /truncated/)
  const headerEnd = sealed.indexOf('}') + 1
  const chunk = 4 + SEAL_CHUNK_BYTES + 16
  // Only the last chunk is left out: the file ends on a chunk boundary, but not on the final one.
  await t.rejects(open(sealed.subarray(0, headerEnd + 2 * chunk)), /truncated/)
  const swapped = Buffer.concat([sealed.subarray(0, headerEnd), sealed.subarray(headerEnd + chunk, headerEnd + 2 * chunk), sealed.subarray(headerEnd, headerEnd + chunk), sealed.subarray(headerEnd + 2 * chunk)])
  await t.rejects(open(swapped), /failed authentication/)
  await t.rejects(open(sealed, randomBytes(32)), /failed authentication/)
  await t.rejects(open(Buffer.from('not a sealed file at all')), /unknown format/)
})
