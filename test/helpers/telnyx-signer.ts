// Signs webhook bodies the way Telnyx does, with a throwaway ed25519 key, so tests exercise the real verifier.
import { generateKeyPairSync, sign as edSign } from 'node:crypto'

export interface TelnyxSigner {
  /** The raw 32-byte public key, base64: the format the Telnyx portal shows and the SDK expects. */
  publicKeyBase64: string
  /** Headers as Node presents them (lower case). `timestamp` is Unix seconds, default now. */
  sign(rawBody: string, timestamp?: number): Record<'telnyx-signature-ed25519' | 'telnyx-timestamp', string>
}

export function createTelnyxSigner (): TelnyxSigner {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const jwk = publicKey.export({ format: 'jwk' })
  if (!jwk.x) throw new Error('ed25519 JWK export has no public key')
  const publicKeyBase64 = Buffer.from(jwk.x, 'base64url').toString('base64')

  return {
    publicKeyBase64,
    sign (rawBody, timestamp = Math.floor(Date.now() / 1000)) {
      const ts = String(timestamp)
      const signature = edSign(null, Buffer.from(`${ts}|${rawBody}`, 'utf8'), privateKey)
      return { 'telnyx-signature-ed25519': signature.toString('base64'), 'telnyx-timestamp': ts }
    },
  }
}
