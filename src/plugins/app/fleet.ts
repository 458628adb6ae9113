// Operating many servers: server administration (and, below, moves and key rotation), shared by the
// operator API and the CLI.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { loadMigrations, MIGRATION_SETS } from '../../db/migrator.js'
import { createServerAdmin, type ServerAdmin } from '../../registry/server-admin.js'

declare module 'fastify' {
  interface FastifyInstance {
    serverAdmin: ServerAdmin
  }
}

async function fleetPlugin (app: FastifyInstance): Promise<void> {
  const tenantMigrations = await loadMigrations(MIGRATION_SETS.tenant)
  app.decorate('serverAdmin', createServerAdmin({ registry: app.registry, servers: app.servers, secretBox: app.secretBox, audit: app.audit, tenantMigrations, log: app.log }))
}

export default fp(fleetPlugin, { name: 'fleet', dependencies: ['tenancy'] })
