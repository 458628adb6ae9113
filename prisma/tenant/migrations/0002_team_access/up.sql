-- AlterTable
ALTER TABLE "AdminMFA" ADD COLUMN     "failedAttempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "failedSince" TIMESTAMP(3),
ADD COLUMN     "keyId" TEXT NOT NULL DEFAULT 'k1',
ADD COLUMN     "lastUsedStep" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "MFAChallenge" (
    "id" TEXT NOT NULL,
    "adminId" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "usedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "MFAChallenge_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OrganizationSettings" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "requireTwoFactor" BOOLEAN NOT NULL DEFAULT false,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "OrganizationSettings_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "MFAChallenge_tokenHash_key" ON "MFAChallenge"("tokenHash");

-- CreateIndex
CREATE INDEX "MFAChallenge_adminId_createdAt_idx" ON "MFAChallenge"("adminId", "createdAt");

-- AddForeignKey
ALTER TABLE "MFAChallenge" ADD CONSTRAINT "MFAChallenge_adminId_fkey" FOREIGN KEY ("adminId") REFERENCES "Admin"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The settings row exists from the start (cloned with the template), so readers never create it.
ALTER TABLE "OrganizationSettings" ADD CONSTRAINT "OrganizationSettings_single_row" CHECK ("id" = 1);
INSERT INTO "OrganizationSettings" ("id", "updatedAt") VALUES (1, CURRENT_TIMESTAMP);
