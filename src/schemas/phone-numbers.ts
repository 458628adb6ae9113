// Phone number assignment: request and response shapes.
import { Type, type Static } from '@sinclair/typebox'

export const E164Schema = Type.String({ pattern: '^\\+[1-9][0-9]{1,14}$', description: 'E.164, e.g. +15551234567' })

export const PhoneNumberBodySchema = Type.Object({ phoneNumber: E164Schema }, { additionalProperties: false })
export type PhoneNumberBody = Static<typeof PhoneNumberBodySchema>

export const PhoneNumberParamsSchema = Type.Object({ phoneNumber: E164Schema })

export const PhoneNumberSchema = Type.Object({
  phoneNumber: Type.String(),
  isPrimary: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' })
})

export const PhoneNumberListSchema = Type.Object({
  phoneNumbers: Type.Array(PhoneNumberSchema),
  primaryPhoneNumber: Type.Union([Type.String(), Type.Null()])
})
