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

/** Invitation tokens travel in the path (GET /api/invitations/:token): they never reach the logs. */
export const redactUrl = (url: string): string => url.replace(/(\/api\/invitations\/)[A-Za-z0-9_-]{43}/, '$1[redacted]')

export function loggerOptions (level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      req: (req: { method: string, url: string, id: string, headers: Record<string, unknown> }) => ({ method: req.method, url: redactUrl(req.url), id: req.id }),
      err: (err: Error & { code?: string }) => ({ type: err.name, message: err.message, code: err.code, stack: err.stack })
    }
  }
}
