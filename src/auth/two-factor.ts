// TOTP two-factor (RFC 6238, otplib): enrollment confirmed by a first code, ten single-use recovery
// codes stored as keyed hashes, the secret stored encrypted with its key id. A code works once: the
// newest accepted time step is recorded and only a later step is accepted (RFC 6238 section 5.2).
// Every attempt is counted before its code is checked, so 5 wrong codes in 15 minutes lock the
// sign-in however many requests arrive together.
import { createHmac, randomInt } from 'node:crypto'
import { generateSecret, generateURI, verify } from 'otplib'
import type { SecretBox } from '../util/secret-box.js'
import type { TenantPrismaClient } from '../tenancy/tenant-pool.js'
import { ERRORS } from '../errors.js'
import { parseChallenge } from './mfa-challenges.js'

export const TOTP_CODE_PATTERN = '^(?:[0-9]{6}|[A-Za-z2-9]{5}-?[A-Za-z2-9]{5})$'
const LOCK_WINDOW = '15 minutes'
const MAX_FAILURES = 5
const RECOVERY_CODE_COUNT = 10
// Base32 without the look-alikes 0/O and 1/I/L.
const RECOVERY_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789'

export interface TwoFactorDeps { secretBox: SecretBox, recoveryKey: Buffer, issuer: string }

export function createTwoFactor (deps: TwoFactorDeps) {
  const { secretBox } = deps
  const recoveryHash = (code: string): string =>
    createHmac('sha256', deps.recoveryKey).update(`mfa-recovery:${code.toUpperCase().replace('-', '')}`).digest('hex')

  async function status (db: TenantPrismaClient, adminId: string) {
    const [mfa, unused] = await Promise.all([
      db.adminMFA.findUnique({ where: { adminId } }),
      db.mFARecoveryCode.count({ where: { adminId, usedAt: null } })
    ])
    return { enabled: mfa?.enabledAt != null, enrollmentPending: mfa !== null && mfa.enabledAt === null, recoveryCodesLeft: mfa?.enabledAt != null ? unused : 0 }
  }

  async function beginEnrollment (db: TenantPrismaClient, admin: { id: string, email: string }) {
    const current = await db.adminMFA.findUnique({ where: { adminId: admin.id } })
    if (current?.enabledAt != null) throw new ERRORS.MfaAlreadyEnabled()
    const secret = generateSecret()
    const sealed = { secretEncrypted: secretBox.encrypt(secret), keyId: secretBox.keyId, lastUsedStep: 0, enabledAt: null }
    await db.adminMFA.upsert({ where: { adminId: admin.id }, create: { adminId: admin.id, ...sealed }, update: sealed })
    return { secret, otpauthUri: generateURI({ issuer: deps.issuer, label: admin.email, secret }) }
  }

  /** The time step a TOTP code matches (one step of clock drift either way), or null. */
  async function matchStep (secretEncrypted: string, code: string): Promise<number | null> {
    if (!/^\d{6}$/.test(code)) return null
    const result = await verify({ secret: secretBox.decrypt(secretEncrypted), token: code, epochTolerance: 30 })
    // The functional API's result type also covers HOTP, which has no time step.
    return result.valid ? (result as { timeStep?: number }).timeStep ?? null : null
  }

  /** Atomically moves the last used step forward; false when this step (or a later one) was used. */
  async function claimStep (db: TenantPrismaClient, adminId: string, step: number, enable = false): Promise<boolean> {
    const rows = enable
      ? await db.$queryRaw<unknown[]>`UPDATE "AdminMFA" SET "lastUsedStep" = ${step}, "enabledAt" = now(), "updatedAt" = now() WHERE "adminId" = ${adminId} AND "enabledAt" IS NULL AND "lastUsedStep" < ${step} RETURNING id`
      : await db.$queryRaw<unknown[]>`UPDATE "AdminMFA" SET "lastUsedStep" = ${step}, "updatedAt" = now() WHERE "adminId" = ${adminId} AND "enabledAt" IS NOT NULL AND "lastUsedStep" < ${step} RETURNING id`
    return rows.length === 1
  }

  async function newRecoveryCodes (db: TenantPrismaClient, adminId: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => {
      const chars = Array.from({ length: 10 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]).join('')
      return `${chars.slice(0, 5)}-${chars.slice(5)}`
    })
    await db.mFARecoveryCode.deleteMany({ where: { adminId } })
    await db.mFARecoveryCode.createMany({ data: codes.map((code) => ({ adminId, codeHash: recoveryHash(code) })) })
    return codes
  }

  async function confirmEnrollment (db: TenantPrismaClient, adminId: string, code: string): Promise<{ recoveryCodes: string[] }> {
    const mfa = await db.adminMFA.findUnique({ where: { adminId } })
    if (mfa === null) throw new ERRORS.MfaNotEnrolled()
    if (mfa.enabledAt !== null) throw new ERRORS.MfaAlreadyEnabled()
    const step = await matchStep(mfa.secretEncrypted, code)
    if (step === null || !await claimStep(db, adminId, step, true)) throw new ERRORS.MfaCodeInvalid()
    return { recoveryCodes: await newRecoveryCodes(db, adminId) }
  }

  async function disable (db: TenantPrismaClient, adminId: string, requiredByOrganization: boolean): Promise<void> {
    if (requiredByOrganization) throw new ERRORS.MfaRequiredByOrganization()
    await db.$transaction([db.mFARecoveryCode.deleteMany({ where: { adminId } }), db.adminMFA.deleteMany({ where: { adminId } })])
  }

  /** Checks one code: 'ok', 'wrong' or 'used' (a right code for a time step already used). */
  async function checkCode (db: TenantPrismaClient, adminId: string, code: string): Promise<'ok' | 'wrong' | 'used'> {
    const mfa = await db.adminMFA.findUnique({ where: { adminId } })
    if (mfa?.enabledAt == null) return 'wrong'
    if (/^\d{6}$/.test(code)) {
      const step = await matchStep(mfa.secretEncrypted, code)
      if (step === null) return 'wrong'
      return await claimStep(db, adminId, step) ? 'ok' : 'used'
    }
    const used = await db.mFARecoveryCode.updateMany({ where: { adminId, codeHash: recoveryHash(code), usedAt: null }, data: { usedAt: new Date() } })
    return used.count === 1 ? 'ok' : 'wrong'
  }

  /**
   * Takes one attempt before the code is looked at, in one atomic statement: at most 5 unsettled
   * attempts per 15 minutes, however many arrive at once. A code that was not wrong gives it back.
   */
  async function takeAttempt (db: TenantPrismaClient, adminId: string): Promise<boolean> {
    const rows = await db.$queryRaw<unknown[]>`
      UPDATE "AdminMFA" SET
        "failedAttempts" = CASE WHEN "failedSince" IS NULL OR "failedSince" < now() - ${LOCK_WINDOW}::interval THEN 1 ELSE "failedAttempts" + 1 END,
        "failedSince" = CASE WHEN "failedSince" IS NULL OR "failedSince" < now() - ${LOCK_WINDOW}::interval THEN now() ELSE "failedSince" END
      WHERE "adminId" = ${adminId} AND ("failedSince" IS NULL OR "failedSince" < now() - ${LOCK_WINDOW}::interval OR "failedAttempts" < ${MAX_FAILURES})
      RETURNING id`
    return rows.length === 1
  }

  async function giveBack (db: TenantPrismaClient, adminId: string): Promise<void> {
    await db.$executeRaw`UPDATE "AdminMFA" SET "failedAttempts" = GREATEST("failedAttempts" - 1, 0) WHERE "adminId" = ${adminId}`
  }

  /** The second step of a sign-in: the admin id when the code is right, else a coded error. */
  async function completeChallenge (db: TenantPrismaClient, challenge: string, code: string): Promise<string> {
    const { secretHash } = parseChallenge(challenge)
    const row = await db.mFAChallenge.findUnique({ where: { tokenHash: secretHash } })
    if (row === null || row.usedAt !== null || row.expiresAt.getTime() <= Date.now()) throw new ERRORS.MfaChallengeInvalid()
    if (!await takeAttempt(db, row.adminId)) throw new ERRORS.MfaLocked()
    const outcome = await checkCode(db, row.adminId, code)
    if (outcome !== 'wrong') await giveBack(db, row.adminId)
    if (outcome !== 'ok') throw new ERRORS.MfaCodeInvalid()
    const claimed = await db.mFAChallenge.updateMany({ where: { id: row.id, usedAt: null }, data: { usedAt: new Date() } })
    if (claimed.count !== 1) throw new ERRORS.MfaChallengeInvalid()
    return row.adminId
  }

  return { status, beginEnrollment, confirmEnrollment, disable, completeChallenge, newRecoveryCodes }
}

export type TwoFactor = ReturnType<typeof createTwoFactor>
