-- Every process caches registry rows it routes by: tenant records (status, subscription, where the
-- database lives) and phone number routes. A change is announced with NOTIFY, so every listening
-- process drops its copy at once instead of serving it until its cache entry expires
-- (src/registry/registry-changes.ts).

-- tenant_changed, payload the tenant id. Bookkeeping columns alone (lastAccessedAt, updatedAt)
-- change nothing a cache holds: no notice.
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

-- phone_number_changed, payload the number: assigned (a cached "nobody" must go), moved or released.
CREATE FUNCTION "notify_phone_number_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM pg_notify('phone_number_changed', OLD."phoneNumber");
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND (TG_OP = 'INSERT' OR NEW."phoneNumber" IS DISTINCT FROM OLD."phoneNumber") THEN
    PERFORM pg_notify('phone_number_changed', NEW."phoneNumber");
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "PhoneNumberRegistry_notify_changed" AFTER INSERT OR UPDATE OR DELETE ON "PhoneNumberRegistry"
  FOR EACH ROW EXECUTE FUNCTION "notify_phone_number_changed"();
