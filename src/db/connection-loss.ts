// Errors that say the database server went away (killed, restarting, unreachable) rather than that
// the statement was wrong: what was under way may or may not have committed, and the same work is
// worth trying again once the server answers. Codes: node's socket errors, pg's own messages for a
// connection that died, and PostgreSQL's shutdown / starting-up / recovery answers (class 57P, 08).
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH'])
const SERVER_CODES = new Set(['57P01', '57P02', '57P03', '57P05'])
const MESSAGES = /Connection terminated|connection timeout|Client has encountered a connection error|the database system is (starting up|shutting down|in recovery mode)|terminating connection/i

export function isConnectionLoss (error: unknown): boolean {
  const e = error as { code?: unknown, message?: unknown, errors?: unknown[], cause?: unknown } | null
  if (e === null || typeof e !== 'object') return false
  const code = typeof e.code === 'string' ? e.code : ''
  if (SOCKET_CODES.has(code) || SERVER_CODES.has(code) || code.startsWith('08')) return true
  if (typeof e.message === 'string' && MESSAGES.test(e.message)) return true
  // AggregateError (a refused connection to both ::1 and 127.0.0.1) and wrapped causes.
  if (Array.isArray(e.errors) && e.errors.some(isConnectionLoss)) return true
  return e.cause !== undefined && e.cause !== error && isConnectionLoss(e.cause)
}
