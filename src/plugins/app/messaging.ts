// Messaging services shared by the routes, the webhooks and the worker: the one Telnyx sender of this
// process (its status callback URL on every send, so every outbound message's delivery is tracked),
// the webhook pipeline with its counters, inbound messages, delivery status, the inbox, broadcasts.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { createBroadcastService, type BroadcastService } from '../../messaging/campaigns/broadcast-service.js'
import { createConversationService, type ConversationService } from '../../messaging/inbox/conversation-service.js'
import { createInboundService, type InboundService } from '../../messaging/inbound/inbound-service.js'
import { createDeliveryStatus, type DeliveryStatus } from '../../messaging/sending/delivery-status.js'
import { createTelnyxPipeline, type TelnyxPipeline, type WebhookStats } from '../../messaging/telnyx/pipeline.js'
import { createTelnyxSender, type TelnyxSender } from '../../messaging/telnyx/sender.js'
import { createTelnyxWebhookVerifier, type TelnyxWebhookVerifier } from '../../messaging/telnyx/webhook.js'
import { createPhoneNumberService, type PhoneNumberService } from '../../registry/phone-numbers.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** verifier is undefined without TELNYX_PUBLIC_KEY: every webhook is then refused. */
    telnyx: { sender: TelnyxSender, verifier: TelnyxWebhookVerifier | undefined }
    telnyxWebhooks: TelnyxPipeline
    webhookStats: WebhookStats
    phoneNumbers: PhoneNumberService
    conversations: ConversationService
    inbound: InboundService
    deliveryStatus: DeliveryStatus
    broadcasts: BroadcastService
  }
}

async function messagingPlugin (app: FastifyInstance): Promise<void> {
  const { telnyx } = app.config
  const sender = createTelnyxSender({
    apiKey: telnyx.apiKey,
    baseUrl: telnyx.baseUrl,
    messagingProfileId: telnyx.messagingProfileId,
    webhookUrl: `${app.config.publicUrl}/webhooks/telnyx`,
    log: app.log
  })
  const verifier = telnyx.publicKey === undefined ? undefined : createTelnyxWebhookVerifier({ publicKey: telnyx.publicKey })
  const routes = app.phoneRoutes
  const inbound = createInboundService({ routes, pool: app.pool, directory: app.directory, sender, log: app.log })
  const deliveryStatus = createDeliveryStatus({ routes, pool: app.pool, boss: app.boss })
  const pipeline = createTelnyxPipeline({ verifier, inbound, deliveryStatus, hold: app.webhookHold, log: app.log })
  app.decorate('telnyx', { sender, verifier })
  app.decorate('telnyxWebhooks', pipeline)
  app.decorate('webhookStats', pipeline.stats)
  app.decorate('phoneNumbers', createPhoneNumberService({ registry: app.registry, tenants: app.tenants, routes }))
  app.decorate('conversations', createConversationService({ sender }))
  app.decorate('inbound', inbound)
  app.decorate('deliveryStatus', deliveryStatus)
  app.decorate('broadcasts', createBroadcastService({ boss: app.boss }))
}

export default fp(messagingPlugin, { name: 'messaging', dependencies: ['tenancy', 'jobs', 'moves'] })
