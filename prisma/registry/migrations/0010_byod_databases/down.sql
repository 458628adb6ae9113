-- AlterTable
ALTER TABLE "DatabaseServer" DROP COLUMN "adminDatabase",
DROP COLUMN "tenantDatabase";
