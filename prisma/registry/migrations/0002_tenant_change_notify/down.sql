DROP TRIGGER IF EXISTS "Tenant_notify_changed" ON "Tenant";
DROP FUNCTION IF EXISTS "notify_tenant_changed"();
