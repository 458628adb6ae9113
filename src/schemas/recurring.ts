// Recurring messages.
import { Type } from '@sinclair/typebox'

const Ids = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 10_000 })
const NullableString = (max: number) => Type.Union([Type.String({ minLength: 1, maxLength: max }), Type.Null()])

export const RecurringSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  schedule: Type.String(),
  timezone: Type.String(),
  templateId: Type.Union([Type.String(), Type.Null()]),
  text: Type.Union([Type.String(), Type.Null()]),
  branchIds: Type.Array(Type.String()),
  memberIds: Type.Array(Type.String()),
  active: Type.Boolean(),
  nextRunAt: Type.Union([Type.String(), Type.Null()]),
  lastRunAt: Type.Union([Type.String(), Type.Null()])
})
export const RecurringListSchema = Type.Array(RecurringSchema)
export const RecurringCreateSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  schedule: Type.String({ minLength: 1, maxLength: 100 }),
  timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  templateId: Type.Optional(NullableString(64)),
  text: Type.Optional(NullableString(1600)),
  branchIds: Type.Optional(Ids),
  memberIds: Type.Optional(Ids),
  active: Type.Optional(Type.Boolean())
}, { additionalProperties: false })
export const RecurringUpdateSchema = Type.Partial(RecurringCreateSchema, { additionalProperties: false })
