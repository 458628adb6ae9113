// AES-256-GCM for credentials stored in the registry. The key id travels with each value so that keys
// can be rotated: old values stay readable while new ones are written with the current key.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

export interface SecretBox {
  keyId: string
  encrypt: (plaintext: string) => string
  decrypt: (sealed: string) => string
}

export function createSecretBox (options: { keyId: string, key: Buffer, previousKeys?: Record<string, Buffer> }): SecretBox {
  if (options.key.length !== 32) throw new Error('encryption key must be 32 bytes')
  const keys = new Map<string, Buffer>(Object.entries(options.previousKeys ?? {}))
  keys.set(options.keyId, options.key)
  return {
    keyId: options.keyId,
    encrypt (plaintext) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', options.key, iv)
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      return ['v1', options.keyId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join(':')
    },
    decrypt (sealed) {
      const [version, keyId, iv, tag, body] = sealed.split(':')
      if (version !== 'v1' || keyId === undefined || iv === undefined || tag === undefined || body === undefined) throw new Error('sealed value has an unknown format')
      const key = keys.get(keyId)
      if (key === undefined) throw new Error(`no encryption key with id ${keyId}`)
      // The tag length is pinned: GCM would otherwise accept a truncated tag, which is easier to forge.
      const authTag = Buffer.from(tag, 'base64url')
      if (authTag.length !== 16) throw new Error('sealed value has a malformed authentication tag')
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: 16 })
      decipher.setAuthTag(authTag)
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8')
    }
  }
}
