-- CreateTable
CREATE TABLE "TenantDataKey" (
    "tenantId" TEXT NOT NULL,
    "keyEncrypted" TEXT NOT NULL,
    "encryptionKeyId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TenantDataKey_pkey" PRIMARY KEY ("tenantId")
);

-- CreateTable
CREATE TABLE "TenantBackup" (
    "id" TEXT NOT NULL,
    "tenantId" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'RUNNING',
    "kind" TEXT NOT NULL,
    "schemaVersion" TEXT NOT NULL,
    "storageKey" TEXT NOT NULL,
    "bytes" BIGINT,
    "tables" JSONB,
    "error" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completedAt" TIMESTAMP(3),

    CONSTRAINT "TenantBackup_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TenantRestore" (
    "id" TEXT NOT NULL,
    "tenantId" TEXT NOT NULL,
    "backupId" TEXT NOT NULL,
    "asNew" BOOLEAN NOT NULL DEFAULT false,
    "state" TEXT NOT NULL DEFAULT 'REQUESTED',
    "serverId" TEXT NOT NULL,
    "databaseName" TEXT NOT NULL,
    "oldDatabaseName" TEXT,
    "dropAfter" TIMESTAMP(3),
    "lockedUntil" TIMESTAMP(3),
    "error" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "TenantRestore_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TenantDeletion" (
    "tenantId" TEXT NOT NULL,
    "requestedBy" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "steps" JSONB NOT NULL DEFAULT '[]',
    "plan" JSONB,
    "removed" JSONB NOT NULL DEFAULT '{}',
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completedAt" TIMESTAMP(3),

    CONSTRAINT "TenantDeletion_pkey" PRIMARY KEY ("tenantId")
);

-- CreateIndex
CREATE INDEX "TenantBackup_tenantId_createdAt_idx" ON "TenantBackup"("tenantId", "createdAt");

-- CreateIndex
CREATE INDEX "TenantRestore_tenantId_idx" ON "TenantRestore"("tenantId");

-- CreateIndex
CREATE INDEX "TenantRestore_state_dropAfter_idx" ON "TenantRestore"("state", "dropAfter");
