// 256-bit one-time tokens (invitations, password resets): the caller gets the token, the database
// only ever its SHA-256.
import { createHash, randomBytes } from 'node:crypto'

export const ONE_TIME_TOKEN_PATTERN = '^[A-Za-z0-9_-]{43}$'

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex')

export function newOneTimeToken (): { token: string, tokenHash: string } {
  const token = randomBytes(32).toString('base64url')
  return { token, tokenHash: hashToken(token) }
}
