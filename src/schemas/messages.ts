// Broadcasts.
import { Type } from '@sinclair/typebox'

const Ids = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 10_000 })

export const BroadcastRequestSchema = Type.Object({
  text: Type.Optional(Type.String({ minLength: 1, maxLength: 1600 })),
  templateId: Type.Optional(Type.String({ maxLength: 64 })),
  branchIds: Type.Optional(Ids),
  memberIds: Type.Optional(Ids),
  sendAt: Type.Optional(Type.String({ format: 'date-time' }))
}, { additionalProperties: false })

export const BroadcastAcceptedSchema = Type.Object({
  id: Type.String(), status: Type.String(), recipientCount: Type.Integer(), excludedCount: Type.Integer()
})

export const MessageSchema = Type.Object({
  id: Type.String(),
  body: Type.String(),
  status: Type.String(),
  sendAt: Type.Union([Type.String(), Type.Null()]),
  recipientCount: Type.Integer(),
  excludedCount: Type.Integer(),
  createdAt: Type.String(),
  completedAt: Type.Union([Type.String(), Type.Null()])
})
export const CancelResultSchema = Type.Object({ id: Type.String(), status: Type.String() })
export const MessageDetailSchema = Type.Intersect([MessageSchema, Type.Object({ counts: Type.Record(Type.String(), Type.Integer()) })])
export const MessagePageSchema = Type.Object({ items: Type.Array(MessageSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) })
