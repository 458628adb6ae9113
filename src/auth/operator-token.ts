// The bearer check for every operator route (PLATFORM_ADMIN_TOKEN); disabled when no token is set.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { ERRORS } from '../errors.js'

const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

export function operatorGuard (token: string | undefined): (request: FastifyRequest) => Promise<void> {
  const expected = token === undefined ? undefined : digest(token)
  return async (request) => {
    if (expected === undefined) throw new ERRORS.Forbidden('The operator API is disabled: set PLATFORM_ADMIN_TOKEN')
    const header = request.headers.authorization ?? ''
    const given = header.startsWith('Bearer ') ? header.slice(7) : ''
    // Comparing digests keeps the comparison constant-time whatever the lengths.
    if (!timingSafeEqual(digest(given), expected)) throw new ERRORS.Unauthorized('Invalid operator token')
  }
}
