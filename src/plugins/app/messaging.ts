// Messaging services shared by the routes and webhooks: the Telnyx sender and webhook verifier, the
// inbound routing cache, phone numbers, the inbox and inbound processing with its counters.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { createConversationService, type ConversationService } from '../../messaging/inbox/conversation-service.js'
import { createInboundService, newWebhookStats, type DeliveryStatusHandler, type InboundService, type WebhookStats } from '../../messaging/inbound/inbound-service.js'
import { createPhoneNumberService, type PhoneNumberService } from '../../registry/phone-numbers.js'
import { createRouteCache, type RouteCache } from '../../registry/phone-routes.js'
import { createTelnyxSender, type TelnyxSender } from '../../messaging/telnyx/sender.js'
import { createTelnyxWebhookVerifier, type TelnyxWebhookVerifier } from '../../messaging/telnyx/webhook.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** verifier is undefined without TELNYX_PUBLIC_KEY: every webhook is then refused. */
    telnyx: { sender: TelnyxSender, verifier: TelnyxWebhookVerifier | undefined }
    phoneRoutes: RouteCache
    phoneNumbers: PhoneNumberService
    conversations: ConversationService
    inbound: InboundService
    webhookStats: WebhookStats
  }
}

async function messagingPlugin (app: FastifyInstance): Promise<void> {
  const { telnyx } = app.config
  const sender = createTelnyxSender({
    apiKey: telnyx.apiKey,
    baseUrl: telnyx.baseUrl,
    messagingProfileId: telnyx.messagingProfileId,
    log: app.log
  })
  const verifier = telnyx.publicKey === undefined ? undefined : createTelnyxWebhookVerifier({ publicKey: telnyx.publicKey })
  const routes = createRouteCache({ registry: app.registry })
  app.registryChanges.subscribe('phone_number_changed', { onChange: routes.invalidate, onListening: routes.setAnnounced })
  const stats = newWebhookStats()
  app.decorate('telnyx', { sender, verifier })
  app.decorate('phoneRoutes', routes)
  app.decorate('webhookStats', stats)
  app.decorate('phoneNumbers', createPhoneNumberService({ registry: app.registry, directory: app.directory, routes }))
  app.decorate('conversations', createConversationService({ sender }))
  app.decorate('inbound', createInboundService({
    routes,
    pool: app.pool,
    directory: app.directory,
    sender,
    // Delivery status handling is optional and may be registered after this plugin: look it up per event.
    deliveryStatus: () => (app as FastifyInstance & { deliveryStatus?: DeliveryStatusHandler }).deliveryStatus,
    stats,
    log: app.log
  }))
}

export default fp(messagingPlugin, { name: 'messaging', dependencies: ['tenancy'] })
