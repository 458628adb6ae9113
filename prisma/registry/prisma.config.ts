// Prisma CLI settings for the registry schema (see schemaEngineConfig).
import { schemaEngineConfig } from '../schema-engine-adapter.js'

export default schemaEngineConfig()
