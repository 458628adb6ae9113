// The signed-in admin, their organization and its tenant status.
import { Type } from '@sinclair/typebox'

export const MeSchema = Type.Object({
  admin: Type.Object({ id: Type.String(), email: Type.String(), firstName: Type.String(), lastName: Type.String(), role: Type.String() }),
  church: Type.Object({ id: Type.String(), name: Type.String() }),
  tenant: Type.Object({
    id: Type.String(),
    status: Type.String(),
    subscriptionStatus: Type.String(),
    schemaVersion: Type.String(),
    primaryPhoneNumber: Type.Union([Type.String(), Type.Null()]),
    timezone: Type.String(),
    deletionScheduledFor: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When the organization will be deleted, if its owner asked for that' }))
  })
})
