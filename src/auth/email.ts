// Emails are compared in one normalized form, and the registry only ever sees their keyed hash.
import { createHmac } from 'node:crypto'

export function normalizeEmail (email: string): string {
  return email.trim().normalize('NFC').toLowerCase()
}

export function hashEmail (key: Buffer, email: string): string {
  return createHmac('sha256', key).update(normalizeEmail(email)).digest('hex')
}
