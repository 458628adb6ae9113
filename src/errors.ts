// The one error model: every error a client can see has a stable code, a message and a status.
// Services throw these; the error handler renders them as { statusCode, code, message, requestId }.
import createError from '@fastify/error'

type Ctor<Args extends unknown[]> = createError.FastifyErrorConstructor<{ code: string, statusCode: number }, Args>
const define = <Args extends unknown[] = []>(code: string, message: string, statusCode: number): Ctor<Args> =>
  createError<string, number, Args>(code, message, statusCode)

export const ERRORS = {
  // Generic HTTP
  NotFound: define<[string]>('NOT_FOUND', '%s not found', 404),
  RouteNotFound: define<[string, string]>('ROUTE_NOT_FOUND', 'Route %s %s not found', 404),
  Conflict: define<[string]>('CONFLICT', '%s', 409),
  BadRequest: define<[string]>('BAD_REQUEST', '%s', 400),
  PayloadTooLarge: define('PAYLOAD_TOO_LARGE', 'Request body is too large', 413),
  Internal: define('INTERNAL_ERROR', 'Internal server error', 500),
  ServiceUnavailable: define<[string]>('SERVICE_UNAVAILABLE', '%s', 503),
  Overloaded: define('OVERLOADED', 'The service is overloaded, retry shortly', 503),
  UnstorableText: define<[string]>('UNSTORABLE_TEXT', '%s contains a character that cannot be stored (NUL or an unpaired surrogate)', 400),

  // Auth
  Unauthorized: define<[string]>('UNAUTHORIZED', '%s', 401),
  InvalidCredentials: define('INVALID_CREDENTIALS', 'Invalid email or password', 401),
  InvalidRefreshToken: define('INVALID_REFRESH_TOKEN', 'Refresh token is invalid or expired', 401),
  TooManyRequests: define<[string]>('TOO_MANY_REQUESTS', 'Rate limit exceeded, retry in %s', 429),
  TooManyAttempts: define('TOO_MANY_ATTEMPTS', 'Too many attempts, try again later', 429),
  TenantSelectionRequired: define('TENANT_SELECTION_REQUIRED', 'This email administers several organizations: choose one', 409),
  Forbidden: define<[string]>('FORBIDDEN', '%s', 403),

  // Tenancy
  TenantNotFound: define<[string]>('TENANT_NOT_FOUND', 'Tenant %s not found', 404),
  TenantSuspended: define('TENANT_SUSPENDED', 'This organization is suspended', 403),
  TenantDeleted: define('TENANT_DELETED', 'This organization has been deleted', 403),
  TenantNotReady: define('TENANT_NOT_READY', 'This organization is still being set up', 409),
  SubscriptionInactive: define('SUBSCRIPTION_INACTIVE', 'The subscription is not active: sending is disabled', 402),
  PoolExhausted: define('TENANT_POOL_EXHAUSTED', 'Too many organizations are busy right now, retry shortly', 503),
  ProvisioningFailed: define('PROVISIONING_FAILED', 'The organization could not be created', 500),
  ProvisioningBusy: define('PROVISIONING_BUSY', 'Too many organizations are being created right now, retry shortly', 503),
  IdempotencyConflict: define('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for a different request', 422),
  RequestInProgress: define('REQUEST_IN_PROGRESS', 'A request with this Idempotency-Key is still in progress', 409),

  // Phone numbers and messaging
  PhoneNumberTaken: define('PHONE_NUMBER_TAKEN', 'This phone number belongs to another organization', 409),
  NoSendingNumber: define('NO_SENDING_NUMBER', 'Assign a phone number before sending messages', 409),
  MemberOptedOut: define('MEMBER_OPTED_OUT', 'This member has opted out of messages', 409),
  InvalidWebhookSignature: define('INVALID_WEBHOOK_SIGNATURE', 'Webhook signature is missing, invalid or stale', 401),
  SmsSendFailed: define<[string]>('SMS_SEND_FAILED', 'The message could not be sent: %s', 502),
  InvalidWebhookPayload: define<[string]>('INVALID_WEBHOOK_PAYLOAD', 'Webhook payload is invalid: %s', 400),

  // Team and access: roles, invitations, password reset, two-factor, organization slugs
  PermissionDenied: define<[string]>('PERMISSION_DENIED', '%s', 403),
  RoleNotGrantable: define<[string]>('ROLE_NOT_GRANTABLE', 'Your role cannot grant or remove the role %s', 403),
  LastOwner: define('LAST_OWNER', 'An organization keeps at least one owner', 409),
  AlreadyMember: define('ALREADY_MEMBER', 'This email already administers this organization', 409),
  InvitationPending: define('INVITATION_PENDING', 'This email already has a pending invitation: resend it instead', 409),
  InvitationNotPending: define('INVITATION_NOT_PENDING', 'Only a pending or expired invitation can be resent or revoked', 409),
  InvitationInvalid: define('INVITATION_INVALID', 'This invitation link is invalid, used, revoked or expired', 410),
  ResetTokenInvalid: define('RESET_TOKEN_INVALID', 'This password reset link is invalid, used or expired', 410),
  InvalidCurrentPassword: define('INVALID_CURRENT_PASSWORD', 'The current password is wrong', 403),
  MailSendFailed: define('MAIL_SEND_FAILED', 'The email could not be sent, retry shortly', 502),
  MfaRequired: define('MFA_REQUIRED', 'Enter the code from your authenticator app', 401),
  MfaChallengeInvalid: define('MFA_CHALLENGE_INVALID', 'This sign-in attempt is invalid or expired: sign in again', 401),
  MfaCodeInvalid: define('MFA_CODE_INVALID', 'The code is wrong or was already used', 401),
  MfaLocked: define('MFA_LOCKED', 'Too many wrong codes: try again in 15 minutes', 429),
  MfaAlreadyEnabled: define('MFA_ALREADY_ENABLED', 'Two-factor is already enabled', 409),
  MfaNotEnrolled: define('MFA_NOT_ENROLLED', 'Start two-factor enrollment first', 409),
  MfaEnrollmentRequired: define('MFA_ENROLLMENT_REQUIRED', 'This organization requires two-factor: enroll at /api/account/mfa first', 403),
  MfaRequiredByOrganization: define('MFA_REQUIRED_BY_ORGANIZATION', 'This organization requires two-factor: it cannot be turned off', 409),
  InvalidSlug: define<[string]>('INVALID_SLUG', '%s', 400),
  SlugTaken: define('SLUG_TAKEN', 'This organization address is taken', 409),
  OrganizationNotFound: define('ORGANIZATION_NOT_FOUND', 'No organization has this address', 404),

  // Operators
  MigrationFailed: define<[string]>('MIGRATION_FAILED', 'Migration failed: %s', 500),
  ServerRefused: define<[string]>('SERVER_REFUSED', 'Server refused: %s', 400),
  ServerNotFound: define<[string]>('SERVER_NOT_FOUND', 'Database server %s not found', 404),
  TenantMoving: define('TENANT_MOVING', 'This organization is moving to another database server: retry in a moment', 503),
  MoveRefused: define<[string]>('MOVE_REFUSED', 'Move refused: %s', 409),
  MoveFailed: define<[string]>('MOVE_FAILED', 'The move failed and was undone: %s', 502),

  // Backups, restores, exports and deletion
  BackupRefused: define<[string]>('BACKUP_REFUSED', 'The backup cannot be restored: %s', 422),
  RestoreInProgress: define('RESTORE_IN_PROGRESS', 'A restore of this organization is already running', 409),
  ExportInProgress: define('EXPORT_IN_PROGRESS', 'An export of this organization is already being prepared', 409),
  LinkExpired: define('LINK_EXPIRED', 'This download link has expired or is invalid', 410),
  DeletionScheduled: define('DELETION_SCHEDULED', 'This organization is scheduled for deletion: cancel the deletion to send again', 409),
  DeletionAlreadyScheduled: define('DELETION_ALREADY_SCHEDULED', 'Deletion of this organization is already scheduled', 409),
  DeletionNotScheduled: define('DELETION_NOT_SCHEDULED', 'No deletion of this organization is scheduled', 409),
  WrongPassword: define('WRONG_PASSWORD', 'The password is not correct', 401),
  OwnerOnly: define('OWNER_ONLY', 'Only the organization\'s owner may do this', 403),

  // Members, templates and broadcasts
  InvalidPhone: define<[string]>('INVALID_PHONE', 'Not a valid phone number: %s', 400),
  UnknownMergeFields: define<[string]>('UNKNOWN_MERGE_FIELDS', 'Unknown merge fields: %s', 400),
  InvalidSchedule: define<[string]>('INVALID_SCHEDULE', '%s', 400),
  NoRecipients: define('NO_RECIPIENTS', 'The message has no recipients', 400),
  MessageNotCancellable: define('MESSAGE_NOT_CANCELLABLE', 'Only a scheduled message can be cancelled', 409)
} as const

export type AppError = createError.FastifyError & { statusCode: number }

/** Prisma's known request errors that map to client errors rather than 500s. */
export function fromPrismaError (error: unknown): AppError | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined
  const code = (error as { code: unknown }).code
  const target = (error as { meta?: { target?: unknown, modelName?: string } }).meta
  if (code === 'P2002') {
    const fields = Array.isArray(target?.target) ? target.target.join(', ') : typeof target?.target === 'string' ? target.target : 'value'
    return new ERRORS.Conflict(`A record with this ${fields} already exists`)
  }
  if (code === 'P2025') return new ERRORS.NotFound(target?.modelName ?? 'Record')
  if (code === 'P2003') return new ERRORS.BadRequest('A referenced record does not exist')
  return undefined
}
