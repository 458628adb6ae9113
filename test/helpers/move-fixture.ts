// Set-up for tests that move tenants: an app whose default tenant server is one of the extra servers
// (test/helpers/extra-servers.ts), with signed Telnyx webhooks against the fake Telnyx API.
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import type { MovesOptions } from '../../src/plugins/app/moves.js'
import { testConfig } from '../helper.js'
import { startFakeTelnyx } from './fake-telnyx.js'
import { createTelnyxSigner, type TelnyxSigner } from './telnyx-signer.js'

export { assignNumber, inboundEvent, postWebhook, signup, uniqueNumber, type Org } from './messaging-fixture.js'

interface Teardown { teardown: (fn: () => unknown) => void }

/** `registryUrl` lets a second app share the first one's registry (another process of the same installation). */
export async function telnyxAppOn (t: Teardown, tenantServerUrl: string, env: Record<string, string> = {}, fleet: MovesOptions = {}, registryUrl?: string): Promise<{ app: FastifyInstance, signer: TelnyxSigner }> {
  const signer = createTelnyxSigner()
  const fake = await startFakeTelnyx()
  t.teardown(async () => { await fake.close() })
  const config = await testConfig({
    TELNYX_BASE_URL: fake.baseUrl,
    TELNYX_API_KEY: 'KEY_test_0123456789',
    TELNYX_PUBLIC_KEY: signer.publicKeyBase64,
    TENANT_DATABASE_URL: tenantServerUrl,
    ...(registryUrl === undefined ? {} : { DATABASE_URL: registryUrl }),
    ...env
  })
  const app = await buildApp(config, { logger: false, moves: { moveSettings: { settleMs: 50 }, ...fleet } })
  t.teardown(async () => { await app.close() })
  return { app, signer }
}
