-- DropForeignKey
ALTER TABLE "TenantMigration" DROP CONSTRAINT "TenantMigration_runId_fkey";

-- DropIndex
DROP INDEX "TenantMigration_tenantId_idx";

-- DropIndex
DROP INDEX "TenantMigration_runId_tenantId_key";

-- AlterTable
ALTER TABLE "TenantMigration" DROP COLUMN "attempts",
DROP COLUMN "durationMs",
DROP COLUMN "fromVersion",
DROP COLUMN "runId";

-- DropTable
DROP TABLE "FleetRun";

-- DropEnum
DROP TYPE "FleetDirection";

-- DropEnum
DROP TYPE "FleetRunStatus";

-- CreateIndex
CREATE UNIQUE INDEX "TenantMigration_tenantId_version_key" ON "TenantMigration"("tenantId", "version");
