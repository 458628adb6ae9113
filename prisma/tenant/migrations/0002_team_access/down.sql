-- DropForeignKey
ALTER TABLE "MFAChallenge" DROP CONSTRAINT "MFAChallenge_adminId_fkey";

-- AlterTable
ALTER TABLE "AdminMFA" DROP COLUMN "failedAttempts",
DROP COLUMN "failedSince",
DROP COLUMN "keyId",
DROP COLUMN "lastUsedStep";

-- DropTable
DROP TABLE "MFAChallenge";

-- DropTable
DROP TABLE "OrganizationSettings";
