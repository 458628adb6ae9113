// Request and response schemas for sign-up, login and tokens.
import { Type, type Static } from '@sinclair/typebox'

const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 })
const Name = (max: number) => Type.String({ minLength: 1, maxLength: max, pattern: '\\S' })

export const RegisterBodySchema = Type.Object({
  email: Email,
  password: Type.String({ minLength: 12, maxLength: 256 }),
  firstName: Name(100),
  lastName: Name(100),
  churchName: Name(200),
  /** The organization's address; derived from churchName when left out. Checked by src/auth/slugs.ts. */
  slug: Type.Optional(Type.String({ minLength: 1, maxLength: 64 }))
}, { additionalProperties: false })
export type RegisterBody = Static<typeof RegisterBodySchema>

export const LoginBodySchema = Type.Object({
  // Not format-checked: a mistyped address is just an unknown one, and surrounding spaces are trimmed.
  email: Type.String({ minLength: 1, maxLength: 320 }),
  password: Type.String({ minLength: 1, maxLength: 256 }),
  tenantId: Type.Optional(Type.String({ pattern: '^t[a-z0-9]{20,31}$' })),
  /** The organization's slug: picks it like tenantId does. */
  organization: Type.Optional(Type.String({ minLength: 1, maxLength: 64 }))
}, { additionalProperties: false })
export type LoginBody = Static<typeof LoginBodySchema>

export const RefreshBodySchema = Type.Object({
  refreshToken: Type.String({ minLength: 10, maxLength: 200 })
}, { additionalProperties: false })
export type RefreshBody = Static<typeof RefreshBodySchema>

export const TokenPairSchema = Type.Object({
  tenantId: Type.String(),
  email: Type.String(),
  accessToken: Type.String(),
  refreshToken: Type.String()
})

export const TenantSelectionSchema = Type.Object({
  statusCode: Type.Integer(),
  code: Type.Literal('TENANT_SELECTION_REQUIRED'),
  message: Type.String(),
  requestId: Type.String(),
  organizations: Type.Array(Type.Object({ tenantId: Type.String(), name: Type.String() }))
})

export const IdempotencyHeadersSchema = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 8, maxLength: 200, pattern: '^[A-Za-z0-9._:-]+$' }))
})
