// The shape of the validated configuration every part of the service receives (src/config.ts reads
// and checks the environment into it). Kept apart so that readers see the settings without the parsing.
export interface Config {
  env: 'production' | 'development' | 'test'
  port: number
  host: string
  /** Which proxies' X-Forwarded-For to believe (Fastify's trustProxy): none unless configured. */
  trustProxy: boolean | number | string[]
  logLevel: string
  /** Registry database; undefined means "start embedded PostgreSQL under dataDir". */
  databaseUrl: string | undefined
  dataDir: string
  /** Admin URL of the first server for tenant databases; defaults to the registry's server. */
  tenantDatabaseUrl: string | undefined
  publicUrl: string
  /** Outgoing mail: SMTP when smtpUrl is set, else the registry outbox (local mode). appUrl starts mailed links. */
  mail: { smtpUrl: string | undefined, from: string, appUrl: string }
  secrets: {
    jwtSecret: string
    emailHashKey: Buffer
    encryptionKey: Buffer
    encryptionKeyId: string
    /** Earlier keys by id (ENCRYPTION_KEYS), still accepted for reading until `keys rotate` is done. */
    previousEncryptionKeys: Record<string, Buffer>
  }
  telnyx: {
    apiKey: string | undefined
    publicKey: string | undefined
    messagingProfileId: string | undefined
    baseUrl: string | undefined
  }
  stripe: {
    secretKey: string | undefined
    webhookSecret: string | undefined
    priceId: string | undefined
    /** Only for tests: where the Stripe SDK sends its requests. */
    apiBaseUrl: string | undefined
    trialDays: number
  }
  platformAdminToken: string | undefined
  pool: {
    maxClients: number
    /** Each server's budget for all processes together (the registry row's, for servers added later). */
    connectionBudget: number
    /** TENANT_POOL_PROCESSES: processes sharing each server's budget; each takes an equal share. */
    processes: number
    connectionsPerClient: number
    idleMs: number
    /** TENANT_CLIENT_STOCK: clients built ahead of misses (src/tenancy/client-stock.ts); 0 turns it off. */
    clientStock: number
  }
  auth: {
    accessTokenTtlSeconds: number
    refreshTokenTtlDays: number
    loginMaxAttempts: number
    loginWindowMs: number
  }
  worker: { enabled: boolean }
  /** Load shedding (under-pressure; 0 disables a check), public rate limits and request size limits. */
  protection: {
    ratePerMinute: number
    maxEventLoopDelayMs: number
    maxHeapBytes: number
    maxRssBytes: number
    /** Webhooks are shed last: only once a measure passes this multiple of its limit. */
    webhookPressureFactor: number
    maxHeaderBytes: number
    requestTimeoutMs: number
  }
  reconcileIntervalMs: number
  /** Tenant moves: how long the old database is kept, and the pause between announcing and enforcing the freeze. */
  moves: { graceMs: number, settleMs: number }
  /** Outbound sending: per-number rate (0 = unlimited) and quiet hours in the recipient's local time. */
  messaging: { ratePerSecond: number, quietHoursStart: number, quietHoursEnd: number }
  /** Backups, restores, exports and deletion (src/tenancy/backups/, src/account/). */
  lifecycle: {
    backupDir: string
    exportDir: string
    /** Daily backups kept per tenant; older ones are deleted after each nightly run. */
    backupKeep: number
    /** Cron expression (UTC) of the nightly backup of every tenant. */
    backupSchedule: string
    /** Tenants backed up at once by the nightly run. */
    backupConcurrency: number
    /** How long a restored tenant's previous database is kept before the worker drops it. */
    restoreKeepOldHours: number
    exportLinkTtlHours: number
    deletionGraceDays: number
  }
}
