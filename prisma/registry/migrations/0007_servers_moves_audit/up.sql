-- CreateEnum
CREATE TYPE "MoveState" AS ENUM ('REQUESTED', 'TARGET_CREATED', 'SYNCING', 'FROZEN', 'SWITCHED', 'DONE', 'ROLLED_BACK');

-- AlterEnum (renamed in place: existing rows keep their kind)
ALTER TYPE "ServerKind" RENAME VALUE 'BYO' TO 'BYOD';

-- AlterTable
ALTER TABLE "Tenant" ADD COLUMN     "writesFrozenAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "DatabaseServer" ADD COLUMN     "checkedAt" TIMESTAMP(3),
ADD COLUMN     "sizeBytes" BIGINT NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "AuditLog" ADD COLUMN     "after" JSONB,
ADD COLUMN     "before" JSONB,
ADD COLUMN     "serverId" TEXT;

-- CreateTable
CREATE TABLE "TenantMove" (
    "id" TEXT NOT NULL,
    "tenantId" TEXT NOT NULL,
    "liveTenantId" TEXT,
    "fromServerId" TEXT NOT NULL,
    "toServerId" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "state" "MoveState" NOT NULL DEFAULT 'REQUESTED',
    "actor" TEXT NOT NULL,
    "error" TEXT,
    "lockedUntil" TIMESTAMP(3),
    "dropOldAfter" TIMESTAMP(3),
    "freezeMs" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "TenantMove_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "HeldWebhook" (
    "id" TEXT NOT NULL,
    "tenantId" TEXT NOT NULL,
    "event" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "HeldWebhook_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "TenantMove_liveTenantId_key" ON "TenantMove"("liveTenantId");

-- CreateIndex
CREATE INDEX "TenantMove_tenantId_idx" ON "TenantMove"("tenantId");

-- CreateIndex
CREATE INDEX "TenantMove_state_idx" ON "TenantMove"("state");

-- CreateIndex
CREATE INDEX "HeldWebhook_tenantId_createdAt_idx" ON "HeldWebhook"("tenantId", "createdAt");

-- CreateIndex
CREATE INDEX "AuditLog_serverId_idx" ON "AuditLog"("serverId");

-- CreateIndex
CREATE INDEX "AuditLog_action_createdAt_idx" ON "AuditLog"("action", "createdAt");
