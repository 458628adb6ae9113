DROP TRIGGER IF EXISTS "PhoneNumberRegistry_notify_changed" ON "PhoneNumberRegistry";
DROP FUNCTION IF EXISTS "notify_phone_number_changed"();
DROP TRIGGER IF EXISTS "Tenant_notify_changed" ON "Tenant";
DROP FUNCTION IF EXISTS "notify_tenant_changed"();
