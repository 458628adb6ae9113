-- Every process caches tenant records (status, subscription, where the database lives). A change to
-- a "Tenant" row is announced on channel tenant_changed with the tenant id, so every listening
-- process drops its copy at once instead of serving it until its cache entry expires.
-- Bookkeeping columns alone (lastAccessedAt, updatedAt) change nothing a cache holds: no notice.
CREATE FUNCTION "notify_tenant_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('tenant_changed', OLD.id);
  ELSIF (to_jsonb(NEW) - 'lastAccessedAt' - 'updatedAt') IS DISTINCT FROM (to_jsonb(OLD) - 'lastAccessedAt' - 'updatedAt') THEN
    PERFORM pg_notify('tenant_changed', NEW.id);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "Tenant_notify_changed" AFTER UPDATE OR DELETE ON "Tenant"
  FOR EACH ROW EXECUTE FUNCTION "notify_tenant_changed"();
