-- AlterEnum (renamed in place: existing rows keep their kind)
ALTER TYPE "ServerKind" RENAME VALUE 'BYOD' TO 'BYO';

-- DropIndex
DROP INDEX "AuditLog_serverId_idx";

-- DropIndex
DROP INDEX "AuditLog_action_createdAt_idx";

-- AlterTable
ALTER TABLE "Tenant" DROP COLUMN "writesFrozenAt";

-- AlterTable
ALTER TABLE "DatabaseServer" DROP COLUMN "checkedAt",
DROP COLUMN "sizeBytes";

-- AlterTable
ALTER TABLE "AuditLog" DROP COLUMN "after",
DROP COLUMN "before",
DROP COLUMN "serverId";

-- DropTable
DROP TABLE "TenantMove";

-- DropTable
DROP TABLE "HeldWebhook";

-- DropEnum
DROP TYPE "MoveState";
