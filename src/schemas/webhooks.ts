// What the webhook routes answer, and the operators' view of the Telnyx counters.
import { Type } from '@sinclair/typebox'

export const StripeWebhookAckSchema = Type.Object({
  received: Type.Boolean(),
  status: Type.Union([Type.Literal('processed'), Type.Literal('duplicate'), Type.Literal('ignored')])
})

export const TelnyxWebhookAckSchema = Type.Object({ received: Type.Boolean(), outcome: Type.String() })

export const WebhookStatsSchema = Type.Object({ telnyx: Type.Record(Type.String(), Type.Integer()), routeCacheSize: Type.Integer() })
