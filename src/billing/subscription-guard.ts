// The one rule for "a lapsed tenant can log in and read, not send": every send a tenant admin can
// cause (broadcasts, replies, recurring occurrences) asks here first. Consent replies (STOP/HELP) do not.
import { ERRORS } from '../errors.js'

export interface SubscriptionState {
  subscriptionStatus: string
  trialEndsAt: Date | null
  /** The tenant's status, where known: an organization scheduled for deletion sends nothing. */
  status?: string
}

/** TRIALING until trialEndsAt, or ACTIVE. Every other status (PAST_DUE, CANCELED, UNPAID, INCOMPLETE) is lapsed. */
export function canSend (tenant: SubscriptionState, now: Date = new Date()): boolean {
  if (tenant.status === 'DELETION_SCHEDULED') return false
  if (tenant.subscriptionStatus === 'ACTIVE') return true
  // A trial with no recorded end is not open-ended: sign-up always sets one.
  return tenant.subscriptionStatus === 'TRIALING' && tenant.trialEndsAt !== null && tenant.trialEndsAt.getTime() > now.getTime()
}

export function assertCanSend (tenant: SubscriptionState, now?: Date): void {
  if (tenant.status === 'DELETION_SCHEDULED') throw new ERRORS.DeletionScheduled()
  if (!canSend(tenant, now)) throw new ERRORS.SubscriptionInactive()
}
