-- Login throttling: failed logins counted per key, where a key is a client address alone
-- ("10.0.0.7") or a client address and a username ("10.0.0.7 alice"). Shared by every instance.
CREATE TABLE login_failures (
    key           text PRIMARY KEY,
    -- Failures in a row: they are counted until expire_time, then start again from 1.
    failures      integer NOT NULL,
    -- Logins for this key are answered 429 until then.
    blocked_until timestamptz,
    -- When the failures are forgotten: a quiet period after the last failure or the end of its
    -- block, whichever is later. Rows past it are deleted.
    expire_time   timestamptz NOT NULL
);
CREATE INDEX login_failures_expire_time ON login_failures (expire_time);
