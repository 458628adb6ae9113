-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "SubscriptionStatus" AS ENUM ('TRIALING', 'ACTIVE', 'PAST_DUE', 'CANCELED', 'UNPAID', 'INCOMPLETE');

-- CreateEnum
CREATE TYPE "TenantStatus" AS ENUM ('PROVISIONING', 'ACTIVE', 'SUSPENDED', 'DELETION_SCHEDULED', 'DELETED', 'FAILED');

-- CreateEnum
CREATE TYPE "ServerKind" AS ENUM ('SHARED', 'DEDICATED', 'BYO');

-- CreateEnum
CREATE TYPE "ServerStatus" AS ENUM ('ACTIVE', 'DRAINING', 'DISABLED');

-- CreateEnum
CREATE TYPE "ProvisioningState" AS ENUM ('REQUESTED', 'CUSTOMER_CREATED', 'CHURCH_CREATED', 'DATABASE_CREATED', 'SCHEMA_VERIFIED', 'ADMIN_CREATED', 'ACTIVE', 'FAILED', 'ROLLED_BACK');

-- CreateEnum
CREATE TYPE "MigrationStatus" AS ENUM ('PENDING', 'RUNNING', 'APPLIED', 'FAILED');

-- CreateTable
CREATE TABLE "Church" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "stripeCustomerId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Church_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Tenant" (
    "id" TEXT NOT NULL,
    "churchId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "serverId" TEXT NOT NULL,
    "databaseName" TEXT NOT NULL,
    "databaseHost" TEXT NOT NULL,
    "databasePort" INTEGER NOT NULL,
    "databaseUser" TEXT NOT NULL,
    "databasePasswordEncrypted" TEXT NOT NULL,
    "encryptionKeyId" TEXT NOT NULL,
    "subscriptionStatus" "SubscriptionStatus" NOT NULL DEFAULT 'TRIALING',
    "subscriptionPlan" TEXT NOT NULL DEFAULT 'starter',
    "stripeSubscriptionId" TEXT,
    "trialEndsAt" TIMESTAMP(3),
    "primaryPhoneNumber" TEXT,
    "status" "TenantStatus" NOT NULL DEFAULT 'PROVISIONING',
    "schemaVersion" TEXT NOT NULL,
    "timezone" TEXT NOT NULL DEFAULT 'America/Chicago',
    "deletionScheduledAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "lastAccessedAt" TIMESTAMP(3),

    CONSTRAINT "Tenant_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DatabaseServer" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "port" INTEGER NOT NULL,
    "adminUser" TEXT NOT NULL,
    "adminPasswordEncrypted" TEXT NOT NULL,
    "encryptionKeyId" TEXT NOT NULL,
    "kind" "ServerKind" NOT NULL DEFAULT 'SHARED',
    "status" "ServerStatus" NOT NULL DEFAULT 'ACTIVE',
    "connectionBudget" INTEGER NOT NULL DEFAULT 80,
    "maxTenants" INTEGER NOT NULL DEFAULT 5000,
    "tenantCount" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "DatabaseServer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PhoneNumberRegistry" (
    "phoneNumber" TEXT NOT NULL,
    "tenantId" TEXT NOT NULL,
    "telnyxNumberId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PhoneNumberRegistry_pkey" PRIMARY KEY ("phoneNumber")
);

-- CreateTable
CREATE TABLE "AdminEmailIndex" (
    "id" TEXT NOT NULL,
    "emailHash" TEXT NOT NULL,
    "tenantId" TEXT NOT NULL,
    "adminId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AdminEmailIndex_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ProvisioningRequest" (
    "id" TEXT NOT NULL,
    "idempotencyKey" TEXT,
    "requestHash" TEXT NOT NULL,
    "emailHash" TEXT NOT NULL,
    "tenantId" TEXT NOT NULL,
    "churchId" TEXT,
    "serverId" TEXT,
    "state" "ProvisioningState" NOT NULL DEFAULT 'REQUESTED',
    "stripeCustomerId" TEXT,
    "stripeSubscriptionId" TEXT,
    "trialEndsAt" TIMESTAMP(3),
    "result" JSONB,
    "error" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lockedUntil" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ProvisioningRequest_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TenantMigration" (
    "id" TEXT NOT NULL,
    "tenantId" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "status" "MigrationStatus" NOT NULL DEFAULT 'PENDING',
    "error" TEXT,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "TenantMigration_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditLog" (
    "id" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "tenantId" TEXT,
    "detail" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AuditLog_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "WebhookEvent" (
    "id" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "processedAt" TIMESTAMP(3),

    CONSTRAINT "WebhookEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Installation" (
    "id" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Installation_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Church_stripeCustomerId_key" ON "Church"("stripeCustomerId");

-- CreateIndex
CREATE UNIQUE INDEX "Tenant_churchId_key" ON "Tenant"("churchId");

-- CreateIndex
CREATE UNIQUE INDEX "Tenant_databaseName_key" ON "Tenant"("databaseName");

-- CreateIndex
CREATE UNIQUE INDEX "Tenant_stripeSubscriptionId_key" ON "Tenant"("stripeSubscriptionId");

-- CreateIndex
CREATE UNIQUE INDEX "Tenant_primaryPhoneNumber_key" ON "Tenant"("primaryPhoneNumber");

-- CreateIndex
CREATE INDEX "Tenant_status_idx" ON "Tenant"("status");

-- CreateIndex
CREATE INDEX "Tenant_subscriptionPlan_idx" ON "Tenant"("subscriptionPlan");

-- CreateIndex
CREATE INDEX "Tenant_createdAt_idx" ON "Tenant"("createdAt");

-- CreateIndex
CREATE INDEX "Tenant_serverId_idx" ON "Tenant"("serverId");

-- CreateIndex
CREATE INDEX "Tenant_schemaVersion_idx" ON "Tenant"("schemaVersion");

-- CreateIndex
CREATE UNIQUE INDEX "DatabaseServer_name_key" ON "DatabaseServer"("name");

-- CreateIndex
CREATE INDEX "PhoneNumberRegistry_tenantId_idx" ON "PhoneNumberRegistry"("tenantId");

-- CreateIndex
CREATE INDEX "AdminEmailIndex_emailHash_idx" ON "AdminEmailIndex"("emailHash");

-- CreateIndex
CREATE UNIQUE INDEX "AdminEmailIndex_emailHash_tenantId_key" ON "AdminEmailIndex"("emailHash", "tenantId");

-- CreateIndex
CREATE UNIQUE INDEX "ProvisioningRequest_idempotencyKey_key" ON "ProvisioningRequest"("idempotencyKey");

-- CreateIndex
CREATE UNIQUE INDEX "ProvisioningRequest_tenantId_key" ON "ProvisioningRequest"("tenantId");

-- CreateIndex
CREATE INDEX "ProvisioningRequest_state_updatedAt_idx" ON "ProvisioningRequest"("state", "updatedAt");

-- CreateIndex
CREATE INDEX "TenantMigration_status_idx" ON "TenantMigration"("status");

-- CreateIndex
CREATE UNIQUE INDEX "TenantMigration_tenantId_version_key" ON "TenantMigration"("tenantId", "version");

-- CreateIndex
CREATE INDEX "AuditLog_tenantId_idx" ON "AuditLog"("tenantId");

-- CreateIndex
CREATE INDEX "AuditLog_createdAt_idx" ON "AuditLog"("createdAt");

-- AddForeignKey
ALTER TABLE "Tenant" ADD CONSTRAINT "Tenant_churchId_fkey" FOREIGN KEY ("churchId") REFERENCES "Church"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Tenant" ADD CONSTRAINT "Tenant_serverId_fkey" FOREIGN KEY ("serverId") REFERENCES "DatabaseServer"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PhoneNumberRegistry" ADD CONSTRAINT "PhoneNumberRegistry_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AdminEmailIndex" ADD CONSTRAINT "AdminEmailIndex_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TenantMigration" ADD CONSTRAINT "TenantMigration_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;
