-- DropTable
DROP TABLE "TenantDataKey";

-- DropTable
DROP TABLE "TenantBackup";

-- DropTable
DROP TABLE "TenantRestore";

-- DropTable
DROP TABLE "TenantDeletion";
