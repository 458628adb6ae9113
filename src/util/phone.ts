// Phone numbers are stored and compared only in E.164, so every entry point (forms, CSV, webhooks)
// goes through normalizePhone.
import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js'

const E164 = /^\+[1-9]\d{1,14}$/

// libphonenumber extracts a number from free text ("call 555-1234 now"); a member's phone cell must
// be nothing but the number, so anything beyond digits and punctuation is junk, not a number.
const PHONE_CHARACTERS = /^\+?[\d\s().\-/]+$/

export function isE164 (s: string): boolean {
  return E164.test(s)
}

/**
 * E.164 form of `input`, or null when it is not a phone number.
 * "Possible" (right length for the country) rather than "valid" (assigned ranges): fictional
 * 555 numbers are used in tests and demos, and the carrier rejects unassigned numbers anyway.
 */
export function normalizePhone (input: string, defaultCountry = 'US'): string | null {
  const text = input.trim()
  if (!PHONE_CHARACTERS.test(text)) return null
  const country = isSupportedCountry(defaultCountry) ? (defaultCountry as CountryCode) : undefined
  const parsed = parsePhoneNumberFromString(text, country)
  if (!parsed || parsed.ext || !parsed.isPossible()) return null
  // A NANP area code never starts with 0 or 1; such a number is a typo that length alone accepts.
  if (parsed.countryCallingCode === '1' && !/^[2-9]/.test(parsed.nationalNumber)) return null
  return isE164(parsed.number) ? parsed.number : null
}
