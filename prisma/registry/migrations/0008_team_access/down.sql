-- DropForeignKey
ALTER TABLE "Invitation" DROP CONSTRAINT "Invitation_tenantId_fkey";

-- DropIndex
DROP INDEX "Tenant_slug_key";

-- AlterTable
ALTER TABLE "Tenant" DROP COLUMN "slug";

-- DropTable
DROP TABLE "Invitation";

-- DropTable
DROP TABLE "PasswordResetToken";

-- DropTable
DROP TABLE "MailOutbox";
