-- DropTable
DROP TABLE "LoginFailure";
