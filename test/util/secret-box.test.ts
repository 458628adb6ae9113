// Tenant database passwords are sealed with AES-256-GCM: round trip, and every kind of tampering refused.
import t from 'tap'
import { createSecretBox } from '../../src/util/secret-box.js'

const box = createSecretBox({ keyId: 'k1', key: Buffer.alloc(32, 7) })

t.test('a sealed value opens to what was sealed, and sealing twice differs', async (t) => {
  const a = box.encrypt('tenant password')
  t.equal(box.decrypt(a), 'tenant password')
  t.not(box.encrypt('tenant password'), a, 'a fresh IV each time')
})

t.test('a truncated tag, an edited body or an unknown key is refused', async (t) => {
  const [version, keyId, iv, tag, body] = box.encrypt('tenant password').split(':') as [string, string, string, string, string]
  const short = Buffer.from(tag, 'base64url').subarray(0, 4).toString('base64url')
  t.throws(() => box.decrypt([version, keyId, iv, short, body].join(':')), /authentication tag/)
  const flipped = Buffer.from(body, 'base64url')
  flipped[0] = (flipped[0] ?? 0) ^ 1
  t.throws(() => box.decrypt([version, keyId, iv, tag, flipped.toString('base64url')].join(':')))
  t.throws(() => box.decrypt([version, 'k2', iv, tag, body].join(':')), /no encryption key/)
})
