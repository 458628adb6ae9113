// Brings the registry to the newest migration, then decorates the app with its Prisma client and the
// server directory, and makes sure every active server's tenant template is current.
import { randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../../config.js'
import { latestVersion, loadMigrations, MIGRATION_SETS, migrateUp, type Migration } from '../../db/migrator.js'
import { createAuditLog } from '../../registry/audit-log.js'
import { startRegistryChanges, type RegistryChanges } from '../../registry/registry-changes.js'
import { withClient, withDatabase } from '../../db/pg-admin.js'
import { createRegistryClient, type RegistryClient } from '../../registry/registry-client.js'
import { createServerDirectory, MAINTENANCE_DATABASE, type ServerDirectory, type ServerRow } from '../../registry/servers.js'
import { tenantWritesIn } from '../../registry/tenants.js'
import { ensureTemplate } from '../../tenancy/template.js'
import { createSecretBox, type SecretBox } from '../../util/secret-box.js'

export interface Readiness {
  registryVersion: string
  expectedRegistryVersion: string
  templates: Record<string, string>
  expectedTenantVersion: string
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    registry: RegistryClient
    secretBox: SecretBox
    servers: ServerDirectory
    readiness: Readiness
    installationId: string
    registryChanges: RegistryChanges
    /** The registry's newest applied migration, read now: readiness asks on every probe. */
    registryVersion: () => Promise<string>
    /** The tenant migration files this process applies (the fleet's and the templates'). */
    tenantMigrations: Migration[]
  }
}

export interface RegistryPluginOptions {
  config: Config
  /** Another tenant migrations folder (benchmarks and tests). */
  tenantMigrationsDir?: string
  /** false: templates are created if missing but not migrated (fleet commands move them themselves). */
  migrateTemplates?: boolean
}

async function registryPlugin (app: FastifyInstance, opts: RegistryPluginOptions): Promise<void> {
  const { config } = opts
  const databaseUrl = config.databaseUrl
  if (databaseUrl === undefined) throw new Error('buildApp needs config.databaseUrl (server.ts starts embedded PostgreSQL when it is unset)')

  const registryMigrations = await loadMigrations(MIGRATION_SETS.registry)
  const tenantMigrations = await loadMigrations(opts.tenantMigrationsDir ?? MIGRATION_SETS.tenant)
  const migrated = await withClient(databaseUrl, async (client) => await migrateUp(client, registryMigrations))
  if (migrated.applied.length > 0) app.log.info({ applied: migrated.applied }, 'registry migrated')

  const registry = createRegistryClient(databaseUrl)
  const secretBox = createSecretBox({ keyId: config.secrets.encryptionKeyId, key: config.secrets.encryptionKey, previousKeys: config.secrets.previousEncryptionKeys })
  const servers = createServerDirectory({ registry, secretBox })
  app.decorate('config', config)
  app.decorate('registry', registry)
  app.decorate('secretBox', secretBox)
  app.decorate('servers', servers)
  app.decorate('tenantMigrations', tenantMigrations)
  const changes = startRegistryChanges({ url: databaseUrl, log: app.log })
  await changes.ready
  app.decorate('registryChanges', changes)
  app.decorate('registryVersion', async () => {
    const rows = await registry.$queryRawUnsafe<Array<{ version: string }>>('SELECT version FROM migrator.applied ORDER BY version DESC LIMIT 1')
    return rows[0]?.version ?? 'none'
  })
  app.addHook('onClose', async () => {
    await changes.close()
    await registry.$disconnect()
  })
  await registry.$executeRaw`INSERT INTO "Installation" (id) SELECT ${randomUUID().replaceAll('-', '')} WHERE NOT EXISTS (SELECT 1 FROM "Installation")`
  const installation = await registry.installation.findFirstOrThrow({ orderBy: { createdAt: 'asc' } })
  app.decorate('installationId', installation.id)

  const defaultServerUrl = config.tenantDatabaseUrl ?? withDatabase(databaseUrl, MAINTENANCE_DATABASE)
  const known = await registry.databaseServer.findUnique({ where: { name: 'default' } })
  const defaultServer = await servers.upsertFromUrl('default', defaultServerUrl, config.pool.connectionBudget)
  // The first start adds the configured server: audited like any other server added.
  if (known === null) {
    await createAuditLog({ registry }).record({ actor: 'startup', action: 'server.added', serverId: defaultServer.id, after: { name: 'default', host: defaultServer.host, port: defaultServer.port, kind: 'SHARED', from: 'configuration' } })
  }
  await followConfiguredServer(registry, known, defaultServer, app.log)

  const templates: Record<string, string> = {}
  for (const server of await servers.list()) {
    // An organization's own server holds one tenant and no template (its schema comes from the migrator).
    if (server.status !== 'ACTIVE' || server.kind === 'BYOD') continue
    const status = await ensureTemplate(servers.adminUrl(server), tenantMigrations, { migrate: opts.migrateTemplates })
    if (status.applied.length > 0) app.log.info({ server: server.name, applied: status.applied }, 'tenant template migrated')
    templates[server.id] = status.version
  }
  app.decorate('readiness', {
    registryVersion: migrated.version,
    expectedRegistryVersion: latestVersion(registryMigrations),
    templates,
    expectedTenantVersion: latestVersion(tenantMigrations)
  })
}

/**
 * The configured server may be reached at another address than last time (the embedded server took
 * another port because its own was busy; an operator moved the server and changed the URL): tenant
 * rows carry their server's host and port, so they are brought along, on every start. A start that
 * died between the server's update and its tenants' is mended by the next one.
 */
async function followConfiguredServer (registry: RegistryClient, known: Pick<ServerRow, 'host' | 'port'> | null, server: ServerRow, log: FastifyInstance['log']): Promise<void> {
  const moved = await registry.$transaction(async (tx) => {
    const count = await tenantWritesIn(tx).followServer(server.id, server.host, server.port)
    if (count > 0 || (known !== null && (known.host !== server.host || known.port !== server.port))) {
      await createAuditLog({ registry }).record({ actor: 'startup', action: 'server.address_changed', serverId: server.id, before: known === null ? undefined : { host: known.host, port: known.port }, after: { host: server.host, port: server.port }, detail: { tenants: count } }, tx)
    }
    return count
  })
  if (moved > 0) log.info({ server: server.name, at: `${server.host}:${server.port}`, tenants: moved }, 'tenants follow their server to its new address')
}

export default fp(registryPlugin, { name: 'registry', dependencies: ['error-handler'] })
