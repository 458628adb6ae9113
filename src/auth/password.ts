// argon2id password hashing (OWASP's minimum parameters: 19 MiB, 2 passes, 1 lane).
import { hash, verify } from '@node-rs/argon2'

// @node-rs/argon2 exports Algorithm as a const enum, which isolated modules cannot inline.
const ARGON2ID = 2
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 }

export async function hashPassword (password: string): Promise<string> {
  return await hash(password, OPTIONS)
}

export async function verifyPassword (passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password)
  } catch {
    return false
  }
}

// Verifying against this when the email is unknown makes "no such admin" cost what "wrong password" costs.
let dummy: Promise<string> | undefined
export async function burnVerify (password: string): Promise<false> {
  dummy ??= hashPassword('dummy password that never matches anything')
  await verifyPassword(await dummy, password)
  return false
}
