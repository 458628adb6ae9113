-- DropForeignKey
ALTER TABLE "public"."Tenant" DROP CONSTRAINT "Tenant_churchId_fkey";

-- DropForeignKey
ALTER TABLE "public"."Tenant" DROP CONSTRAINT "Tenant_serverId_fkey";

-- DropForeignKey
ALTER TABLE "public"."PhoneNumberRegistry" DROP CONSTRAINT "PhoneNumberRegistry_tenantId_fkey";

-- DropForeignKey
ALTER TABLE "public"."AdminEmailIndex" DROP CONSTRAINT "AdminEmailIndex_tenantId_fkey";

-- DropForeignKey
ALTER TABLE "public"."TenantMigration" DROP CONSTRAINT "TenantMigration_tenantId_fkey";

-- DropTable
DROP TABLE "public"."Church";

-- DropTable
DROP TABLE "public"."Tenant";

-- DropTable
DROP TABLE "public"."DatabaseServer";

-- DropTable
DROP TABLE "public"."PhoneNumberRegistry";

-- DropTable
DROP TABLE "public"."AdminEmailIndex";

-- DropTable
DROP TABLE "public"."ProvisioningRequest";

-- DropTable
DROP TABLE "public"."TenantMigration";

-- DropTable
DROP TABLE "public"."AuditLog";

-- DropTable
DROP TABLE "public"."WebhookEvent";

-- DropTable
DROP TABLE "public"."Installation";

-- DropEnum
DROP TYPE "public"."SubscriptionStatus";

-- DropEnum
DROP TYPE "public"."TenantStatus";

-- DropEnum
DROP TYPE "public"."ServerKind";

-- DropEnum
DROP TYPE "public"."ServerStatus";

-- DropEnum
DROP TYPE "public"."ProvisioningState";

-- DropEnum
DROP TYPE "public"."MigrationStatus";
