// The one place that reads the environment. Every value is validated here, all problems are reported
// together, and the rest of the code receives a typed, frozen Config.
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { getHeapStatistics } from 'node:v8'

export type { Config } from './config-types.js'
import type { Config } from './config-types.js'

export class ConfigError extends Error {
  constructor (readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`)
    this.name = 'ConfigError'
  }
}

type Env = Record<string, string | undefined>

function reader (env: Env, problems: string[]) {
  const str = (name: string): string | undefined => {
    const value = env[name]?.trim()
    return value === undefined || value === '' ? undefined : value
  }
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = str(name)
    if (raw === undefined) return fallback
    const value = Number(raw)
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`)
      return fallback
    }
    return value
  }
  const url = (name: string, protocols: string[]): string | undefined => {
    const raw = str(name)
    if (raw === undefined) return undefined
    try {
      const parsed = new URL(raw)
      if (!protocols.includes(parsed.protocol)) problems.push(`${name} must be a ${protocols.join(' or ')} URL`)
    } catch {
      problems.push(`${name} is not a valid URL`)
    }
    return raw
  }
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = str(name)?.toLowerCase()
    if (raw === undefined) return fallback
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true
    if (['0', 'false', 'no', 'off'].includes(raw)) return false
    problems.push(`${name} must be true or false (got "${raw}")`)
    return fallback
  }
  // Five fields (minute hour day month weekday) of digits and * , - /: what pg-boss schedules accept.
  const cron = (name: string, fallback: string): string => {
    const raw = str(name) ?? fallback
    if (!/^[\d*,/-]+( [\d*,/-]+){4}$/.test(raw)) problems.push(`${name} must be a five-field cron expression (got "${raw}")`)
    return raw
  }
  return { str, int, url, bool, cron }
}

/** A 32-byte key given as 64 hex characters or base64 of 32 bytes. */
function decodeKey (name: string, raw: string, problems: string[]): Buffer {
  const key = /^[0-9a-f]{64}$/i.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64')
  if (key.length !== 32) problems.push(`${name} must be 32 bytes, as 64 hex characters or base64`)
  return key
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/

/** ENCRYPTION_KEYS: "id:key,id:key", the keys a rotation moves away from (each 32 bytes, hex or base64). */
function previousKeys (raw: string | undefined, currentId: string, problems: string[]): Record<string, Buffer> {
  const keys: Record<string, Buffer> = {}
  for (const entry of (raw ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
    const at = entry.indexOf(':')
    const id = entry.slice(0, at)
    if (at < 1 || !KEY_ID.test(id)) {
      problems.push('ENCRYPTION_KEYS must be a comma-separated list of id:key')
      continue
    }
    if (id === currentId) problems.push(`ENCRYPTION_KEYS must not list the current key id ${id}`)
    keys[id] = decodeKey(`ENCRYPTION_KEYS (${id})`, entry.slice(at + 1), problems)
  }
  return keys
}

interface LocalSecrets { JWT_SECRET: string, EMAIL_HASH_KEY: string, ENCRYPTION_KEY: string }

/** Local mode keeps generated secrets under DATA_DIR so that restarts keep sessions and data readable. */
async function localSecrets (dataDir: string): Promise<LocalSecrets> {
  const file = path.join(dataDir, 'secrets.json')
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LocalSecrets
  } catch {
    const secrets: LocalSecrets = {
      JWT_SECRET: randomBytes(48).toString('base64url'),
      EMAIL_HASH_KEY: randomBytes(32).toString('hex'),
      ENCRYPTION_KEY: randomBytes(32).toString('hex')
    }
    await mkdir(dataDir, { recursive: true })
    await writeFile(file, JSON.stringify(secrets, null, 2), { mode: 0o600, flag: 'wx' }).catch(async (error: NodeJS.ErrnoException) => {
      // Another process generated them first: theirs win.
      if (error.code !== 'EEXIST') throw error
    })
    return JSON.parse(await readFile(file, 'utf8')) as LocalSecrets
  }
}

export async function loadConfig (env: Env = process.env, cwd = process.cwd()): Promise<Config> {
  const problems: string[] = []
  const { str, int, url, bool, cron } = reader(env, problems)
  const nodeEnv = str('NODE_ENV') ?? 'development'
  if (!['production', 'development', 'test'].includes(nodeEnv)) problems.push('NODE_ENV must be production, development or test')
  const production = nodeEnv === 'production'
  const dataDir = path.resolve(cwd, str('DATA_DIR') ?? '.data')
  const databaseUrl = url('DATABASE_URL', ['postgres:', 'postgresql:'])
  if (production && databaseUrl === undefined) problems.push('DATABASE_URL is required when NODE_ENV=production')

  const secretNames = ['JWT_SECRET', 'EMAIL_HASH_KEY', 'ENCRYPTION_KEY'] as const
  const missing = secretNames.filter((name) => str(name) === undefined)
  if (production && missing.length > 0) problems.push(`${missing.join(', ')} required when NODE_ENV=production`)
  const generated = missing.length > 0 && !production ? await localSecrets(dataDir) : undefined
  const secret = (name: typeof secretNames[number]): string => str(name) ?? generated?.[name] ?? ''
  const jwtSecret = secret('JWT_SECRET')
  if (jwtSecret.length > 0 && jwtSecret.length < 32) problems.push('JWT_SECRET must be at least 32 characters')

  const telnyxApiKey = str('TELNYX_API_KEY')
  const telnyxPublicKey = str('TELNYX_PUBLIC_KEY')
  if (telnyxApiKey !== undefined && telnyxPublicKey === undefined) problems.push('TELNYX_PUBLIC_KEY is required with TELNYX_API_KEY (webhooks must be verified)')
  const stripeSecretKey = str('STRIPE_SECRET_KEY')
  if (stripeSecretKey !== undefined && str('STRIPE_WEBHOOK_SECRET') === undefined) problems.push('STRIPE_WEBHOOK_SECRET is required with STRIPE_SECRET_KEY')
  const platformAdminToken = str('PLATFORM_ADMIN_TOKEN')
  if (platformAdminToken !== undefined && platformAdminToken.length < 24) problems.push('PLATFORM_ADMIN_TOKEN must be at least 24 characters')

  const encryptionKeyId = str('ENCRYPTION_KEY_ID') ?? 'k1'
  if (!KEY_ID.test(encryptionKeyId)) problems.push('ENCRYPTION_KEY_ID must be 1-32 letters, digits, dashes or underscores')
  const port = int('PORT', 3000, 0, 65535)
  const publicUrl = url('PUBLIC_URL', ['http:', 'https:']) ?? `http://localhost:${port}`
  const mailFrom = str('MAIL_FROM') ?? 'Church SMS <no-reply@localhost>'
  if (!/^[^<>@\s]+@[^<>@\s]+$|<[^<>@\s]+@[^<>@\s]+>$/.test(mailFrom)) problems.push('MAIL_FROM must be an address, optionally with a name: Name <a@b.org>')
  const trustProxyRaw = str('TRUST_PROXY') ?? 'false'
  let trustProxy: Config['trustProxy'] = false
  if (trustProxyRaw === 'true') trustProxy = true
  else if (/^\d+$/.test(trustProxyRaw)) trustProxy = Number(trustProxyRaw)
  else if (trustProxyRaw !== 'false') trustProxy = trustProxyRaw.split(',').map((part) => part.trim()).filter(Boolean)
  const logLevel = str('LOG_LEVEL') ?? 'info'
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) problems.push('LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent')
  const connectionBudget = int('TENANT_CONNECTION_BUDGET', 100, 1, 10_000)
  // API instances and workers that hold tenant pools against the same servers each take this share
  // of every server's budget, so that together they stay within it.
  const processes = int('TENANT_POOL_PROCESSES', 1, 1, 1000)
  if (processes > connectionBudget) problems.push('TENANT_POOL_PROCESSES cannot exceed TENANT_CONNECTION_BUDGET (each process needs one connection)')
  const share = Math.max(1, Math.floor(connectionBudget / processes))
  // By default as many clients as the process's share of one server's budget keeps warm (one
  // connection each while idle).
  const maxClients = int('TENANT_POOL_MAX_CLIENTS', share, 1, 100_000)
  const connectionsPerClient = int('TENANT_CLIENT_CONNECTIONS', 2, 1, 50)
  if (connectionsPerClient > connectionBudget) problems.push('TENANT_CLIENT_CONNECTIONS cannot exceed TENANT_CONNECTION_BUDGET')

  const config: Config = {
    env: nodeEnv as Config['env'],
    port,
    host: str('HOST') ?? '0.0.0.0',
    trustProxy,
    logLevel,
    databaseUrl,
    dataDir,
    tenantDatabaseUrl: url('TENANT_DATABASE_URL', ['postgres:', 'postgresql:']),
    publicUrl,
    mail: { smtpUrl: url('SMTP_URL', ['smtp:', 'smtps:']), from: mailFrom, appUrl: url('APP_URL', ['http:', 'https:']) ?? publicUrl },
    secrets: {
      jwtSecret,
      emailHashKey: decodeKey('EMAIL_HASH_KEY', secret('EMAIL_HASH_KEY'), problems),
      encryptionKey: decodeKey('ENCRYPTION_KEY', secret('ENCRYPTION_KEY'), problems),
      encryptionKeyId,
      previousEncryptionKeys: previousKeys(str('ENCRYPTION_KEYS'), encryptionKeyId, problems)
    },
    telnyx: {
      apiKey: telnyxApiKey,
      publicKey: telnyxPublicKey,
      messagingProfileId: str('TELNYX_MESSAGING_PROFILE_ID'),
      baseUrl: url('TELNYX_BASE_URL', ['http:', 'https:'])
    },
    stripe: {
      secretKey: stripeSecretKey,
      webhookSecret: str('STRIPE_WEBHOOK_SECRET'),
      priceId: str('STRIPE_PRICE_ID'),
      apiBaseUrl: url('STRIPE_API_BASE_URL', ['http:', 'https:']),
      trialDays: int('TRIAL_DAYS', 14, 0, 365)
    },
    platformAdminToken,
    pool: { maxClients, connectionBudget, processes, connectionsPerClient, idleMs: int('TENANT_CLIENT_IDLE_MS', 60_000, 1000, 86_400_000), clientStock: int('TENANT_CLIENT_STOCK', 2, 0, 20) },
    auth: {
      accessTokenTtlSeconds: int('ACCESS_TOKEN_TTL_SECONDS', 900, 30, 86_400),
      refreshTokenTtlDays: int('REFRESH_TOKEN_TTL_DAYS', 30, 1, 365),
      loginMaxAttempts: int('LOGIN_MAX_ATTEMPTS', 5, 1, 1000),
      loginWindowMs: int('LOGIN_WINDOW_MS', 15 * 60_000, 1000, 86_400_000)
    },
    worker: { enabled: bool('WORKER_ENABLED', true) },
    protection: {
      ratePerMinute: int('RATE_LIMIT_PER_MINUTE', 60, 1, 1_000_000),
      maxEventLoopDelayMs: int('PRESSURE_MAX_EVENT_LOOP_DELAY_MS', 1000, 0, 60_000),
      // By default shed before V8 runs out of heap (its limit depends on the machine and --max-old-space-size).
      maxHeapBytes: int('PRESSURE_MAX_HEAP_MB', Math.floor(getHeapStatistics().heap_size_limit * 0.9 / 1048576), 0, 1_000_000) * 1048576,
      maxRssBytes: int('PRESSURE_MAX_RSS_MB', 0, 0, 1_000_000) * 1048576,
      webhookPressureFactor: int('PRESSURE_WEBHOOK_FACTOR', 2, 1, 1_000_000),
      maxHeaderBytes: int('MAX_HEADER_BYTES', 16_384, 1024, 1_048_576),
      requestTimeoutMs: int('REQUEST_TIMEOUT_MS', 60_000, 1000, 3_600_000)
    },
    reconcileIntervalMs: int('RECONCILE_INTERVAL_MS', 5 * 60_000, 1000, 86_400_000),
    moves: { graceMs: int('MOVE_GRACE_MS', 24 * 3600_000, 0, 90 * 86_400_000), settleMs: int('MOVE_SETTLE_MS', 150, 0, 10_000) },
    messaging: {
      ratePerSecond: int('MESSAGE_RATE_PER_SECOND', 1, 0, 10_000),
      quietHoursStart: int('QUIET_HOURS_START', 21, 0, 23),
      quietHoursEnd: int('QUIET_HOURS_END', 8, 0, 23)
    },
    lifecycle: {
      backupDir: path.resolve(cwd, str('BACKUP_DIR') ?? path.join(dataDir, 'backups')),
      exportDir: path.resolve(cwd, str('EXPORT_DIR') ?? path.join(dataDir, 'exports')),
      backupKeep: int('BACKUP_KEEP', 7, 1, 3650),
      backupSchedule: cron('BACKUP_SCHEDULE', '0 3 * * *'),
      // Each backup holds one admin connection to its tenant's server: a twenty-fifth of the budget, 8 at most.
      backupConcurrency: int('BACKUP_CONCURRENCY', Math.max(1, Math.min(8, Math.floor(connectionBudget / 25))), 1, 64),
      restoreKeepOldHours: int('RESTORE_KEEP_OLD_HOURS', 72, 0, 24 * 365),
      exportLinkTtlHours: int('EXPORT_LINK_TTL_HOURS', 24, 1, 24 * 30),
      deletionGraceDays: int('DELETION_GRACE_DAYS', 30, 0, 365)
    }
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return Object.freeze(config)
}
