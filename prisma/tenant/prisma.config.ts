// Prisma CLI settings for the tenant schema (see schemaEngineConfig).
import { schemaEngineConfig } from '../schema-engine-adapter.js'

export default schemaEngineConfig()
