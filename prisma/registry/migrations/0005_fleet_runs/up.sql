-- CreateEnum
CREATE TYPE "FleetDirection" AS ENUM ('UP', 'DOWN');

-- CreateEnum
CREATE TYPE "FleetRunStatus" AS ENUM ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'INTERRUPTED');

-- DropIndex
DROP INDEX "TenantMigration_tenantId_version_key";

-- AlterTable
ALTER TABLE "TenantMigration" ADD COLUMN     "attempts" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN     "durationMs" INTEGER,
ADD COLUMN     "fromVersion" TEXT,
ADD COLUMN     "runId" TEXT;

-- CreateTable
CREATE TABLE "FleetRun" (
    "id" TEXT NOT NULL,
    "direction" "FleetDirection" NOT NULL,
    "targetVersion" TEXT NOT NULL,
    "status" "FleetRunStatus" NOT NULL DEFAULT 'QUEUED',
    "activeSlot" INTEGER,
    "origin" TEXT NOT NULL,
    "options" JSONB NOT NULL,
    "progress" JSONB,
    "cancelRequested" BOOLEAN NOT NULL DEFAULT false,
    "error" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "FleetRun_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "FleetRun_activeSlot_key" ON "FleetRun"("activeSlot");

-- CreateIndex
CREATE INDEX "TenantMigration_tenantId_idx" ON "TenantMigration"("tenantId");

-- CreateIndex
CREATE UNIQUE INDEX "TenantMigration_runId_tenantId_key" ON "TenantMigration"("runId", "tenantId");

-- AddForeignKey
ALTER TABLE "TenantMigration" ADD CONSTRAINT "TenantMigration_runId_fkey" FOREIGN KEY ("runId") REFERENCES "FleetRun"("id") ON DELETE SET NULL ON UPDATE CASCADE;
