// pino options shared by the API, the worker and the CLI: secrets never reach the logs.
import type { LoggerOptions } from 'pino'

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  'req.headers["telnyx-signature-ed25519"]',
  'req.headers["stripe-signature"]',
  '*.password',
  '*.passwordHash',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.secret',
  '*.apiKey',
  '*.connectionString',
  '*.databaseUrl'
]

export function loggerOptions (level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      req: (req: { method: string, url: string, id: string, headers: Record<string, unknown> }) => ({ method: req.method, url: req.url, id: req.id }),
      err: (err: Error & { code?: string }) => ({ type: err.name, message: err.message, code: err.code, stack: err.stack })
    }
  }
}
