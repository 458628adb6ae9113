-- AlterTable
ALTER TABLE "Tenant" DROP COLUMN "subscriptionEventAt";
