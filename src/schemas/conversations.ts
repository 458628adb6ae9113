// The inbox: conversations, their messages, replies.
import { Type, type Static } from '@sinclair/typebox'

export const ConversationParamsSchema = Type.Object({ id: Type.String({ format: 'uuid' }) })

export const ConversationSchema = Type.Object({
  id: Type.String(),
  member: Type.Object({
    id: Type.String(),
    firstName: Type.String(),
    lastName: Type.String(),
    phone: Type.String(),
    isContact: Type.Boolean(),
    optedOut: Type.Boolean()
  }),
  lastMessageAt: Type.String({ format: 'date-time' }),
  lastMessagePreview: Type.Union([Type.String(), Type.Null()]),
  unreadCount: Type.Integer()
})

export const ConversationListSchema = Type.Object({
  conversations: Type.Array(ConversationSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()])
})

export const ConversationMessageSchema = Type.Object({
  id: Type.String(),
  conversationId: Type.String(),
  direction: Type.Union([Type.Literal('INBOUND'), Type.Literal('OUTBOUND')]),
  body: Type.String(),
  media: Type.Array(Type.Object({ url: Type.String(), contentType: Type.Union([Type.String(), Type.Null()]) })),
  providerMessageId: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.String(), Type.Null()]),
  fromNumber: Type.String(),
  toNumber: Type.String(),
  readAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' })
})

export const ConversationMessageListSchema = Type.Object({
  messages: Type.Array(ConversationMessageSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()])
})

export const ReplyBodySchema = Type.Object({ text: Type.String({ minLength: 1, maxLength: 1600 }) }, { additionalProperties: false })
export type ReplyBody = Static<typeof ReplyBodySchema>

export const ReadResultSchema = Type.Object({ id: Type.String(), unreadCount: Type.Integer() })
