-- AlterTable
ALTER TABLE "DatabaseServer" ADD COLUMN     "adminDatabase" TEXT NOT NULL DEFAULT 'postgres',
ADD COLUMN     "tenantDatabase" TEXT;
