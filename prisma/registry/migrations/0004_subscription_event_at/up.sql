-- AlterTable
ALTER TABLE "Tenant" ADD COLUMN     "subscriptionEventAt" TIMESTAMP(3);

-- Until now the newest applied event was read from the audit trail: carry it over.
UPDATE "Tenant" t SET "subscriptionEventAt" = to_timestamp(a.created) AT TIME ZONE 'UTC'
FROM (
  SELECT "tenantId", max((detail->>'eventCreated')::bigint) AS created
  FROM "AuditLog" WHERE action = 'billing.stripe_event_applied' AND "tenantId" IS NOT NULL
  GROUP BY "tenantId"
) a
WHERE a."tenantId" = t.id;
