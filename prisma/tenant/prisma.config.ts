// Prisma CLI settings for the tenant schema: the WASM schema engine through the pg adapter, because the
// native engines cannot be downloaded here. Only `prisma migrate diff` and `prisma generate` use it.
import { defineConfig } from 'prisma/config'
import { schemaEngineAdapter } from '../schema-engine-adapter.js'

// The schema's datasource names DATABASE_URL; generate only parses it, so any URL will do there.
process.env.DATABASE_URL ??= 'postgres://localhost/unused'

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  // Prisma resolves this relative to this file's folder, not the working directory.
  schema: 'schema.prisma',
  async adapter () {
    return schemaEngineAdapter(process.env.PRISMA_DIFF_URL ?? process.env.DATABASE_URL)
  }
})
