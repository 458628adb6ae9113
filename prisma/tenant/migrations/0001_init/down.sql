-- DropForeignKey
ALTER TABLE "public"."RefreshToken" DROP CONSTRAINT "RefreshToken_adminId_fkey";

-- DropForeignKey
ALTER TABLE "public"."AdminMFA" DROP CONSTRAINT "AdminMFA_adminId_fkey";

-- DropForeignKey
ALTER TABLE "public"."MFARecoveryCode" DROP CONSTRAINT "MFARecoveryCode_adminId_fkey";

-- DropForeignKey
ALTER TABLE "public"."BranchMember" DROP CONSTRAINT "BranchMember_branchId_fkey";

-- DropForeignKey
ALTER TABLE "public"."BranchMember" DROP CONSTRAINT "BranchMember_memberId_fkey";

-- DropForeignKey
ALTER TABLE "public"."Message" DROP CONSTRAINT "Message_templateId_fkey";

-- DropForeignKey
ALTER TABLE "public"."Message" DROP CONSTRAINT "Message_recurringMessageId_fkey";

-- DropForeignKey
ALTER TABLE "public"."MessageRecipient" DROP CONSTRAINT "MessageRecipient_messageId_fkey";

-- DropForeignKey
ALTER TABLE "public"."MessageRecipient" DROP CONSTRAINT "MessageRecipient_memberId_fkey";

-- DropForeignKey
ALTER TABLE "public"."MessageQueue" DROP CONSTRAINT "MessageQueue_messageId_fkey";

-- DropForeignKey
ALTER TABLE "public"."RecurringMessage" DROP CONSTRAINT "RecurringMessage_templateId_fkey";

-- DropForeignKey
ALTER TABLE "public"."Conversation" DROP CONSTRAINT "Conversation_memberId_fkey";

-- DropForeignKey
ALTER TABLE "public"."ConversationMessage" DROP CONSTRAINT "ConversationMessage_conversationId_fkey";

-- DropForeignKey
ALTER TABLE "public"."ConsentLog" DROP CONSTRAINT "ConsentLog_memberId_fkey";

-- DropForeignKey
ALTER TABLE "public"."ChatConversation" DROP CONSTRAINT "ChatConversation_adminId_fkey";

-- DropForeignKey
ALTER TABLE "public"."ChatMessage" DROP CONSTRAINT "ChatMessage_conversationId_fkey";

-- DropForeignKey
ALTER TABLE "public"."NPSSurvey" DROP CONSTRAINT "NPSSurvey_adminId_fkey";

-- DropTable
DROP TABLE "public"."Admin";

-- DropTable
DROP TABLE "public"."RefreshToken";

-- DropTable
DROP TABLE "public"."AdminMFA";

-- DropTable
DROP TABLE "public"."MFARecoveryCode";

-- DropTable
DROP TABLE "public"."Member";

-- DropTable
DROP TABLE "public"."Branch";

-- DropTable
DROP TABLE "public"."BranchMember";

-- DropTable
DROP TABLE "public"."MessageTemplate";

-- DropTable
DROP TABLE "public"."Message";

-- DropTable
DROP TABLE "public"."MessageRecipient";

-- DropTable
DROP TABLE "public"."MessageQueue";

-- DropTable
DROP TABLE "public"."DeadLetterQueue";

-- DropTable
DROP TABLE "public"."RecurringMessage";

-- DropTable
DROP TABLE "public"."Conversation";

-- DropTable
DROP TABLE "public"."ConversationMessage";

-- DropTable
DROP TABLE "public"."ConsentLog";

-- DropTable
DROP TABLE "public"."ProcessedWebhookEvent";

-- DropTable
DROP TABLE "public"."Subscription";

-- DropTable
DROP TABLE "public"."OnboardingProgress";

-- DropTable
DROP TABLE "public"."AnalyticsEvent";

-- DropTable
DROP TABLE "public"."ChatConversation";

-- DropTable
DROP TABLE "public"."ChatMessage";

-- DropTable
DROP TABLE "public"."AgentAudit";

-- DropTable
DROP TABLE "public"."PlanningCenterIntegration";

-- DropTable
DROP TABLE "public"."DataExport";

-- DropTable
DROP TABLE "public"."AccountDeletionRequest";

-- DropTable
DROP TABLE "public"."NPSSurvey";

-- DropEnum
DROP TYPE "public"."AdminRole";

-- DropEnum
DROP TYPE "public"."MessageStatus";

-- DropEnum
DROP TYPE "public"."RecipientStatus";

-- DropEnum
DROP TYPE "public"."Direction";

-- DropEnum
DROP TYPE "public"."ConsentEvent";

-- DropEnum
DROP TYPE "public"."DataExportStatus";
