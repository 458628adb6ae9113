// Cheaper SCRAM-SHA-256 logins for node-pg, for a process that opens thousands of short connections
// with one credential (a fleet run or `verify`: the server's admin role, one connection per tenant
// database). pg derives the salted password with PBKDF2 on every login (4096 rounds for an admin role
// created by initdb: ~2.5 ms of CPU) and makes five WebCrypto calls whose job and key-object overhead
// cost about 1 ms more. Measured in a loop of connect + end: 4.4-6 ms of Node CPU per login before,
// 1.4 ms after (bench/fleet.ts prints CPU per tenant).
//
// The salted password depends only on the password, the role's salt and its iteration count, which
// the server sends in every exchange: it is kept in memory (like the password itself, which this
// process holds to connect at all) for roles whose stretching is expensive. Everything per login is
// unchanged: a fresh client nonce, the client proof over this exchange, and pg still checks the
// server's signature. HMAC and SHA-256 run through node:crypto's synchronous functions (microseconds).
//
// This replaces functions of pg's internal module pg/lib/crypto/utils.js, which pg's SASL code calls
// through the module object at each login. If a pg release moves them, install() changes nothing and
// logins keep working at the old cost; test/db/scram-keys.test.ts fails so that someone looks.
import { createHash, createHmac } from 'node:crypto'
import { createRequire } from 'node:module'

interface PgCryptoUtils {
  deriveKey: (password: string, salt: Uint8Array, iterations: number) => Promise<ArrayBuffer | Buffer>
  hmacSha256: (key: ArrayBuffer | Buffer, message: string) => Promise<ArrayBuffer | Buffer>
  sha256: (data: ArrayBuffer | Buffer) => Promise<ArrayBuffer | Buffer>
}

/** Below this many rounds a derivation costs less than the lookup is worth (tenant roles use 16). */
const CACHE_MIN_ITERATIONS = 256
/** One entry per (role password, salt): a handful of servers' admin roles. */
const CACHE_MAX_ENTRIES = 64

const stats = { derived: 0, reused: 0 }
let installed = false

const bytes = (data: ArrayBuffer | Buffer): Buffer => Buffer.isBuffer(data) ? data : Buffer.from(data)

/** Installs the cache once per process; true when pg's functions were found and replaced. */
export function installScramKeyCache (): boolean {
  if (installed) return true
  let utils: Partial<PgCryptoUtils>
  try {
    utils = createRequire(import.meta.url)('pg/lib/crypto/utils.js') as Partial<PgCryptoUtils>
  } catch {
    return false
  }
  const original = utils.deriveKey
  if (typeof original !== 'function' || typeof utils.hmacSha256 !== 'function' || typeof utils.sha256 !== 'function') return false
  const keys = new Map<string, Promise<ArrayBuffer | Buffer>>()
  utils.deriveKey = async (password, salt, iterations) => {
    if (iterations < CACHE_MIN_ITERATIONS) {
      stats.derived++
      return await original(password, salt, iterations)
    }
    // The password only as a digest in the key, so the map holds no second plain copy of it.
    const id = `${createHash('sha256').update(password).digest('base64')}:${Buffer.from(salt).toString('base64')}:${iterations}`
    let key = keys.get(id)
    if (key === undefined) {
      stats.derived++
      key = original(password, salt, iterations)
      // A failed derivation is not kept: the next login tries again.
      key.catch(() => { keys.delete(id) })
      keys.set(id, key)
      if (keys.size > CACHE_MAX_ENTRIES) keys.delete(keys.keys().next().value as string)
    } else {
      stats.reused++
    }
    return await key
  }
  utils.hmacSha256 = async (key, message) => createHmac('sha256', bytes(key)).update(message).digest()
  utils.sha256 = async (data) => createHash('sha256').update(bytes(data)).digest()
  installed = true
  return true
}

/** Derivations run and reused since start (for the test that the cache is in place). */
export const scramKeyStats = (): { derived: number, reused: number } => ({ ...stats })
