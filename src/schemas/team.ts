// Request and response schemas for the team: admins, roles, invitations, password reset, two-factor
// and organization slugs.
import { Type, type Static } from '@sinclair/typebox'
import { ONE_TIME_TOKEN_PATTERN } from '../auth/one-time-tokens.js'
import { SLUG_PATTERN } from '../auth/slugs.js'
import { TOTP_CODE_PATTERN } from '../auth/two-factor.js'
import { ROLES } from '../auth/permissions.js'

const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 })
const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' })
const NewPassword = Type.String({ minLength: 12, maxLength: 256 })
const Timestamp = Type.Unsafe<Date | string>(Type.String({ format: 'date-time' }))
const NullableTimestamp = Type.Unsafe<Date | string | null>(Type.Union([Type.String({ format: 'date-time' }), Type.Null()]))

export const RoleSchema = Type.Union([Type.Literal(ROLES[0]), Type.Literal(ROLES[1]), Type.Literal(ROLES[2])])
export const SlugSchema = Type.String({ pattern: SLUG_PATTERN, minLength: 3, maxLength: 40 })
export const IdParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })
export const TokenParamsSchema = Type.Object({ token: Type.String({ pattern: ONE_TIME_TOKEN_PATTERN }) })

export const AdminSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  firstName: Type.String(),
  lastName: Type.String(),
  role: RoleSchema,
  twoFactorEnabled: Type.Boolean(),
  lastLoginAt: NullableTimestamp,
  createdAt: Timestamp
})
export const AdminListSchema = Type.Object({ admins: Type.Array(AdminSchema) })
export const RoleBodySchema = Type.Object({ role: RoleSchema }, { additionalProperties: false })

export const InvitationBodySchema = Type.Object({ email: Email, role: RoleSchema }, { additionalProperties: false })
export type InvitationBody = Static<typeof InvitationBodySchema>
export const InvitationSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  role: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('accepted'), Type.Literal('expired'), Type.Literal('revoked')]),
  expiresAt: Timestamp,
  acceptedAt: NullableTimestamp,
  createdAt: Timestamp
})
export const InvitationListSchema = Type.Object({ invitations: Type.Array(InvitationSchema) })
export const InvitationPreviewSchema = Type.Object({
  organization: Type.String(),
  email: Type.String(),
  role: Type.String(),
  expiresAt: Timestamp,
  existingAccount: Type.Boolean({ description: 'The email already administers another organization: accept with that password' })
})
export const AcceptBodySchema = Type.Object({
  password: Type.String({ minLength: 1, maxLength: 256, description: 'A new password (12+ characters), or the existing one of an account elsewhere' }),
  firstName: Type.Optional(Name),
  lastName: Type.Optional(Name)
}, { additionalProperties: false })

export const ResetRequestBodySchema = Type.Object({
  email: Type.String({ minLength: 3, maxLength: 320, pattern: '^[^@\\s]+@[^@\\s]+$' }),
  organization: Type.Optional(SlugSchema)
}, { additionalProperties: false })
export const ResetAcceptedSchema = Type.Object({ message: Type.String() })
export const ResetConfirmBodySchema = Type.Object({ token: Type.String({ pattern: ONE_TIME_TOKEN_PATTERN }), password: NewPassword }, { additionalProperties: false })
export const PasswordChangeBodySchema = Type.Object({ currentPassword: Type.String({ minLength: 1, maxLength: 256 }), newPassword: NewPassword }, { additionalProperties: false })

export const MfaBodySchema = Type.Object({
  challenge: Type.String({ minLength: 10, maxLength: 200 }),
  code: Type.String({ pattern: TOTP_CODE_PATTERN, description: 'A 6-digit code, or a recovery code XXXXX-XXXXX' })
}, { additionalProperties: false })
export const MfaCodeBodySchema = Type.Object({ code: Type.String({ pattern: '^[0-9]{6}$' }) }, { additionalProperties: false })
export const MfaDisableBodySchema = Type.Object({ password: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false })
export const MfaStatusSchema = Type.Object({ enabled: Type.Boolean(), enrollmentPending: Type.Boolean(), recoveryCodesLeft: Type.Integer(), requiredByOrganization: Type.Boolean() })
export const MfaEnrollmentSchema = Type.Object({ secret: Type.String(), otpauthUri: Type.String() })
export const RecoveryCodesSchema = Type.Object({ recoveryCodes: Type.Array(Type.String()) })
export const MfaRequiredSchema = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  message: Type.String(),
  requestId: Type.String(),
  challenge: Type.Optional(Type.String({ description: 'With MFA_REQUIRED: post it with a code to /api/auth/mfa' })),
  expiresAt: Type.Optional(Type.String({ format: 'date-time' }))
})

export const SlugParamsSchema = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 64 }) })
export const OrganizationPublicSchema = Type.Object({ name: Type.String() })
export const SecuritySettingsSchema = Type.Object({ requireTwoFactor: Type.Boolean() }, { additionalProperties: false })
