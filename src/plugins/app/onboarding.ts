// Sign-up (src/onboarding/) with billing, and the reconciler that finishes or undoes the sign-ups a
// crash interrupted (run at start-up and on a timer).
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { createBilling, type Billing } from '../../billing/billing-service.js'
import { createStripeWebhookHandler, type StripeWebhookHandler } from '../../billing/stripe-webhooks.js'
import { provisioningTimer } from '../../metrics/metrics.js'
import { createProvisioningService, PROVISIONING_STEPS, type ProvisioningService, type ProvisioningStep } from '../../onboarding/sign-up.js'
import { createReconciler, type Reconciler } from '../../tenancy/reconciler.js'

declare module 'fastify' {
  interface FastifyInstance {
    billing: Billing
    stripeWebhooks: StripeWebhookHandler
    provisioning: ProvisioningService
    reconciler: Reconciler
  }
}

export interface OnboardingOptions {
  /** Tests inject provisioning faults here. */
  afterProvisioningStep?: (step: ProvisioningStep, tenantId: string) => Promise<void> | void
}

async function onboardingPlugin (app: FastifyInstance, opts: OnboardingOptions): Promise<void> {
  const { config, registry, secretBox, servers } = app
  const billing = createBilling({
    secretKey: config.stripe.secretKey,
    apiBaseUrl: config.stripe.apiBaseUrl,
    priceId: config.stripe.priceId,
    trialDays: config.stripe.trialDays,
    log: app.log
  })
  const provisioning = createProvisioningService({
    registry,
    audit: app.audit,
    servers,
    tenants: app.tenants,
    pool: app.pool,
    auth: app.auth,
    billing,
    secretBox,
    emailHashKey: config.secrets.emailHashKey,
    expectedTenantVersion: app.readiness.expectedTenantVersion,
    installationId: app.installationId,
    log: app.log,
    afterStep: opts.afterProvisioningStep,
    observer: provisioningTimer(app.metrics, PROVISIONING_STEPS)
  })
  const reconciler = createReconciler({ registry, servers, provisioning, installationId: app.installationId, log: app.log })
  app.decorate('billing', billing)
  app.decorate('stripeWebhooks', createStripeWebhookHandler({ tenants: app.tenants, webhookSecret: config.stripe.webhookSecret, log: app.log }))
  app.decorate('provisioning', provisioning)
  app.decorate('reconciler', reconciler)

  await reconciler.run()
  const timer = setInterval(() => {
    reconciler.run().catch((error: unknown) => { app.log.error({ err: error }, 'reconciler run failed') })
  }, config.reconcileIntervalMs)
  timer.unref()
  app.addHook('onClose', async () => { clearInterval(timer) })
}

export default fp(onboardingPlugin, { name: 'onboarding', dependencies: ['tenancy', 'auth'] })
