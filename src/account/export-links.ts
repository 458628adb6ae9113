// Signed, expiring download links for exports: whoever holds the link may download until it expires,
// without a session (a link opened from an email or another device). The signature binds tenant,
// export and expiry under a key derived from JWT_SECRET for this one use.
import { createHmac, timingSafeEqual } from 'node:crypto'

export interface ExportLink { tenantId: string, exportId: string, expires: number }

export function createExportLinks (opts: { secret: string, publicUrl: string }) {
  const key = createHmac('sha256', opts.secret).update('church-sms export download links').digest()
  const sign = (link: ExportLink): string => createHmac('sha256', key).update(`${link.tenantId}.${link.exportId}.${link.expires}`).digest('base64url')

  return {
    url (link: ExportLink): string {
      const query = new URLSearchParams({ tenant: link.tenantId, expires: String(link.expires), signature: sign(link) })
      return `${opts.publicUrl}/downloads/exports/${encodeURIComponent(link.exportId)}?${query.toString()}`
    },
    /** True when the signature is ours and the link has not expired at `now`. */
    verify (link: ExportLink, signature: string, now = Date.now()): boolean {
      const expected = Buffer.from(sign(link))
      const given = Buffer.from(signature)
      return given.length === expected.length && timingSafeEqual(given, expected) && link.expires > now
    }
  }
}

export type ExportLinks = ReturnType<typeof createExportLinks>
