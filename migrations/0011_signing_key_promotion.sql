-- The order in which an algorithm's keys became current: 1 for the first, each promotion the
-- next number. The signer orders keys by it, so rotations within one second (when every
-- time ties) still leave the first-promoted key signing until its successor's lead passed.
-- Existing keys are numbered by when they became current (previous before current).
ALTER TABLE signing_keys ADD COLUMN promotion INTEGER;

UPDATE signing_keys SET promotion = (
  SELECT count(*) FROM signing_keys k
  WHERE k.alg = signing_keys.alg AND k.status IN ('current', 'previous', 'revoked')
    AND (k.status = 'current', coalesce(k.current_until, 0), coalesce(k.current_since, k.created_at), k.rowid)
     <= (signing_keys.status = 'current', coalesce(signing_keys.current_until, 0),
         coalesce(signing_keys.current_since, signing_keys.created_at), signing_keys.rowid)
) WHERE status IN ('current', 'previous', 'revoked');

CREATE UNIQUE INDEX signing_keys_promotion ON signing_keys (alg, promotion);
