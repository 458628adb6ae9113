// TOTP two-factor: enrollment, the sign-in challenge, single-use codes (100 concurrent submissions of
// one code, one success), recovery codes, the lock after 5 wrong codes, and organizations that require it.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { generate } from 'otplib'
import { build } from '../helper.js'
import { addTeammate, bearer, PASSWORD, signUp } from '../helpers/team.js'

// One app (and registry) for the whole file: each test works in organizations of its own.
const app = await build(t)

const STEP = 30
/** Starts a test early in a time step, so that a code for the previous step is still valid too. */
async function freshStep (): Promise<number> {
  const into = (Date.now() / 1000) % STEP
  if (into > 12) await new Promise((resolve) => setTimeout(resolve, (STEP - into + 0.5) * 1000))
  return Math.floor(Date.now() / 1000 / STEP) * STEP + 1
}
// Codes for this step and the next stay valid for at least 30 s from now (one step of drift allowed).
const nowSeconds = (): number => Math.floor(Date.now() / 1000)
const code = async (secret: string, epoch: number): Promise<string> => await generate({ secret, epoch })

async function enroll (app: FastifyInstance, accessToken: string, epoch: number) {
  const started = await app.inject({ method: 'POST', url: '/api/account/mfa', headers: bearer(accessToken) })
  const { secret, otpauthUri } = started.json() as { secret: string, otpauthUri: string }
  const confirmed = await app.inject({ method: 'POST', url: '/api/account/mfa/confirm', headers: bearer(accessToken), payload: { code: await code(secret, epoch) } })
  return { started, secret, otpauthUri, confirmed }
}
const login = async (app: FastifyInstance, email: string) => await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: PASSWORD } })
// Each submission from an address of its own: the per-address ceiling of the auth routes is not under test.
let address = 0
const submit = async (app: FastifyInstance, challenge: string, value: string) =>
  await app.inject({ method: 'POST', url: '/api/auth/mfa', payload: { challenge, code: value }, remoteAddress: `10.9.${Math.floor(++address / 250)}.${address % 250}` })

t.test('enrollment gives a secret and an otpauth URI, is confirmed by a code, stores the secret encrypted', async (t) => {
  const owner = await signUp(app, 'Totp Church')
  const now = nowSeconds()
  const started = await app.inject({ method: 'POST', url: '/api/account/mfa', headers: bearer(owner.accessToken) })
  t.equal(started.statusCode, 201)
  const { secret, otpauthUri } = started.json()
  t.match(otpauthUri, /^otpauth:\/\/totp\/Church%20SMS:/)
  t.ok(otpauthUri.includes(`secret=${secret as string}`))
  const stored = await app.pool.withTenant(owner.tenantId, async (db) => await db.adminMFA.findFirstOrThrow())
  t.notOk(stored.secretEncrypted.includes(secret), 'the secret is encrypted')
  t.equal(stored.keyId, 'k1')
  t.equal(app.secretBox.decrypt(stored.secretEncrypted), secret)
  t.equal((await app.inject({ method: 'POST', url: '/api/account/mfa/confirm', headers: bearer(owner.accessToken), payload: { code: '000000' } })).statusCode, 401)
  t.equal((await app.inject({ method: 'POST', url: '/api/account/mfa/confirm', headers: bearer(owner.accessToken), payload: { code: '12345' } })).statusCode, 400, 'wrong length')
  const confirmed = await app.inject({ method: 'POST', url: '/api/account/mfa/confirm', headers: bearer(owner.accessToken), payload: { code: await code(secret, now) } })
  t.equal(confirmed.statusCode, 200)
  const codes = confirmed.json().recoveryCodes as string[]
  t.equal(new Set(codes).size, 10)
  const hashes = await app.pool.withTenant(owner.tenantId, async (db) => await db.mFARecoveryCode.findMany())
  t.equal(hashes.length, 10)
  t.notOk(hashes.some((h) => codes.includes(h.codeHash)), 'recovery codes are stored hashed')
  t.match((await app.inject({ method: 'GET', url: '/api/account/mfa', headers: bearer(owner.accessToken) })).json(), { enabled: true, recoveryCodesLeft: 10 })
  t.equal((await app.inject({ method: 'POST', url: '/api/account/mfa', headers: bearer(owner.accessToken) })).json().code, 'MFA_ALREADY_ENABLED')
})

t.test('login answers MFA_REQUIRED; a code finishes it once; 100 concurrent submissions of one code give one success', async (t) => {
  const owner = await signUp(app, 'Replay Church')
  const now = await freshStep()
  const { secret, confirmed } = await enroll(app, owner.accessToken, now - STEP)

  const first = await login(app, owner.email)
  t.equal(first.statusCode, 401)
  t.equal(first.json().code, 'MFA_REQUIRED')
  t.notOk('accessToken' in first.json())
  const current = await code(secret, now)
  const done = await submit(app, first.json().challenge, current)
  t.equal(done.statusCode, 200, done.body)
  t.equal((await app.inject({ method: 'GET', url: '/api/me', headers: bearer(done.json().accessToken) })).statusCode, 200)
  const replay = await submit(app, (await login(app, owner.email)).json().challenge, current)
  t.equal(replay.json().code, 'MFA_CODE_INVALID', 'the same code in a new sign-in is refused')

  const challenges = await Promise.all(Array.from({ length: 5 }, async () => (await login(app, owner.email)).json().challenge as string))
  const next = await code(secret, now + STEP)
  const results = await Promise.all(Array.from({ length: 100 }, async (_v, i) => await submit(app, challenges[i % 5] as string, next)))
  const outcomes = results.map((r) => `${r.statusCode} ${String(r.json().code)}`)
  t.equal(results.filter((r) => r.statusCode === 200).length, 1, `exactly one success: ${[...new Set(outcomes)].join(', ')}`)
  // The others: the code was used, or (while 5 attempts were still being checked) a moment's lock.
  t.ok(results.every((r) => r.statusCode === 200 || ['MFA_CODE_INVALID', 'MFA_LOCKED'].includes(r.json().code)))
  const afterwards = await submit(app, (await login(app, owner.email)).json().challenge, (confirmed.json().recoveryCodes as string[])[0] ?? '')
  t.equal(afterwards.statusCode, 200, `a replayed right code leaves no lock behind: ${afterwards.body}`)
  t.equal((await submit(app, 'not-a-challenge', next)).statusCode, 401)
})

t.test('recovery codes work once; five wrong codes lock sign-in for 15 minutes', async (t) => {
  const owner = await signUp(app, 'Lock Church')
  const now = nowSeconds()
  const { secret, confirmed } = await enroll(app, owner.accessToken, now)
  const [recovery] = confirmed.json().recoveryCodes as string[]
  const viaRecovery = await submit(app, (await login(app, owner.email)).json().challenge, (recovery ?? '').toLowerCase())
  t.equal(viaRecovery.statusCode, 200)
  t.equal((await submit(app, (await login(app, owner.email)).json().challenge, recovery ?? '')).statusCode, 401, 'a recovery code works once')
  t.equal((await submit(app, (await login(app, owner.email)).json().challenge, '1234567')).statusCode, 400, 'wrong length')

  const challenge = (await login(app, owner.email)).json().challenge as string
  const wrong = String((Number(await code(secret, now + STEP)) + 1) % 1_000_000).padStart(6, '0')
  // The reused recovery code above was the first wrong code; three more here, the fifth below.
  for (let i = 0; i < 3; i++) t.equal((await submit(app, challenge, wrong)).json().code, 'MFA_CODE_INVALID')
  t.equal((await submit(app, (await login(app, owner.email)).json().challenge, wrong)).json().code, 'MFA_CODE_INVALID', 'the fifth, from a new sign-in')
  const locked = await submit(app, (await login(app, owner.email)).json().challenge, await code(secret, now + STEP))
  t.equal(locked.statusCode, 429)
  t.equal(locked.json().code, 'MFA_LOCKED')
})

t.test('owners can require two-factor: until they enroll, others open only their own account', async (t) => {
  const owner = await signUp(app, 'Strict Church')
  const staff = await addTeammate(app, owner.accessToken, 'STAFF')
  t.equal((await app.inject({ method: 'PUT', url: '/api/organization/security', headers: bearer(staff.accessToken), payload: { requireTwoFactor: true } })).statusCode, 403)
  const set = await app.inject({ method: 'PUT', url: '/api/organization/security', headers: bearer(owner.accessToken), payload: { requireTwoFactor: true } })
  t.same(set.json(), { requireTwoFactor: true })

  const signedIn = await login(app, staff.email)
  t.equal(signedIn.statusCode, 200)
  const token = signedIn.json().accessToken as string
  const blocked = await app.inject({ method: 'GET', url: '/api/conversations', headers: bearer(token) })
  t.equal(blocked.statusCode, 403)
  t.equal(blocked.json().code, 'MFA_ENROLLMENT_REQUIRED')
  t.equal((await app.inject({ method: 'GET', url: '/api/account/mfa', headers: bearer(token) })).json().requiredByOrganization, true)
  const now = nowSeconds()
  t.equal((await enroll(app, token, now)).confirmed.statusCode, 200)
  const refreshed = await app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: signedIn.json().refreshToken } })
  t.equal((await app.inject({ method: 'GET', url: '/api/conversations', headers: bearer(refreshed.json().accessToken) })).statusCode, 200)
  const off = await app.inject({ method: 'DELETE', url: '/api/account/mfa', headers: bearer(token), payload: { password: PASSWORD } })
  t.equal(off.json().code, 'MFA_REQUIRED_BY_ORGANIZATION')
})
