// The application side of a move's write freeze: while Tenant.writesFrozenAt is set (announced to every
// process by the change feed), writes are refused with 503 TENANT_MOVING and Retry-After; reads go on.
import { ERRORS } from '../../errors.js'

const READS = new Set(['GET', 'HEAD', 'OPTIONS'])

// Loose on purpose: a record built before the column existed (or by a test) has no such field.
export const isFrozen = (tenant: { writesFrozenAt?: Date | null }): boolean => tenant.writesFrozenAt != null

/** Throws TENANT_MOVING for a write (any method but GET, HEAD, OPTIONS when given) to a frozen tenant. */
export function assertWritable (tenant: { writesFrozenAt?: Date | null }, method?: string): void {
  if (method !== undefined && READS.has(method)) return
  if (isFrozen(tenant)) throw new ERRORS.TenantMoving()
}
