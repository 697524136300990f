-- Profiling: expressions that recognise a domain by a column's name or by its values, and named
-- sets of them that profile jobs use. Built-in expressions and sets (created_by NULL, built_in)
-- cannot be changed or deleted through the API; users add their own beside them.

CREATE TABLE profile_expressions (
    profile_expression_id bigserial PRIMARY KEY,
    domain_name           text NOT NULL,
    expression_name       text NOT NULL UNIQUE,
    -- A regular expression (Rust's regex syntax, which runs in linear time), searched in the column
    -- name, or with data_level_profiling in each sampled value; (?i) makes it ignore case.
    regular_expression    text NOT NULL,
    data_level_profiling  boolean NOT NULL DEFAULT false,
    created_by            text,
    built_in              boolean NOT NULL DEFAULT false
);

CREATE TABLE profile_sets (
    profile_set_id   bigserial PRIMARY KEY,
    profile_set_name text NOT NULL UNIQUE,
    description      text,
    created_by       text,
    created_time     timestamptz NOT NULL DEFAULT now(),
    built_in         boolean NOT NULL DEFAULT false
);

-- An expression used by a set cannot be deleted (RESTRICT); a set's membership goes with it.
CREATE TABLE profile_set_expressions (
    profile_set_id        bigint NOT NULL REFERENCES profile_sets ON DELETE CASCADE,
    profile_expression_id bigint NOT NULL REFERENCES profile_expressions ON DELETE RESTRICT,
    PRIMARY KEY (profile_set_id, profile_expression_id)
);
CREATE INDEX profile_set_expressions_expression ON profile_set_expressions (profile_expression_id);

-- Column names: anchored on word boundaries made of '_' (a column name's separator), so that
-- "lesson" is no SSN and "account_type" no account number. A name match is only a hint: a profile
-- run resolves it by the data when the column has enough values.
INSERT INTO profile_expressions (domain_name, expression_name, regular_expression, data_level_profiling, built_in) VALUES
    ('ACCOUNT_NO', 'Account number (column name)', '(?i)(^|_)(acc(oun)?t|acct)_?(no|num|number|nbr)($|_)|^iban$', false, true),
    ('CREDIT_CARD', 'Credit card (column name)', '(?i)(credit|debit)_?card|(^|_)(card|cc)_?(no|num|number|nbr)($|_)|^(card|pan|ccn)$', false, true),
    ('DOB', 'Date of birth (column name)', '(?i)(^|_)(dob|birth_?date|date_?of_?birth|birth_?day|born(_?on)?)($|_)', false, true),
    ('EMAIL', 'Email (column name)', '(?i)(^|_)e_?mail(_?addr(ess)?)?($|_)', false, true),
    ('FIRST_NAME', 'First name (column name)', '(?i)(^|_)(first|given|fore)_?name($|_)|^f_?name$', false, true),
    ('LAST_NAME', 'Last name (column name)', '(?i)(^|_)(last|family|sur)_?name($|_)|^l_?name$', false, true),
    ('FULL_NAME', 'Full name (column name)', '(?i)^((customer|person|contact|full|patient|employee|holder)_?)?name$', false, true),
    ('SSN', 'Social security number (column name)', '(?i)(^|_)(ssn|social_?security(_?(no|num|number))?)($|_)', false, true),
    ('TELEPHONE_NO', 'Telephone number (column name)', '(?i)(^|_)(phone|telephone|tel|mobile|cell|fax)(_?(no|num|number))?($|_)', false, true),
-- Values: the whole value must have the shape. Names are found in the data by the profiler's
-- name-list validator, since no regular expression tells a name from other capitalised words.
    ('ACCOUNT_NO', 'IBAN (data)', '^[A-Z]{2}[0-9]{2} ?([A-Z0-9]{4} ?){2,7}[A-Z0-9]{1,4}$', true, true),
    ('CREDIT_CARD', 'Credit card (data)', '^((4[0-9]{3}|5[1-5][0-9]{2}|2[2-7][0-9]{2}|6(011|5[0-9]{2}))[ -]?[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{1,4}|3[47][0-9]{2}[ -]?[0-9]{6}[ -]?[0-9]{5})$', true, true),
    ('DOB', 'Date (data)', '^(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$', true, true),
    ('EMAIL', 'Email (data)', '^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$', true, true),
    ('SSN', 'Social security number (data)', '^[0-8][0-9]{2}-?[0-9]{2}-?[0-9]{4}$', true, true),
    ('TELEPHONE_NO', 'US telephone number (data)', '^(\+?1[ .-]?)?(\([2-9][0-9]{2}\)|[2-9][0-9]{2})[ .-]?[2-9][0-9]{2}[ .-]?[0-9]{4}$', true, true);

INSERT INTO profile_sets (profile_set_name, description, built_in) VALUES
    ('All built-in expressions', 'Every built-in expression, at column-name and data level', true),
    ('Financial', 'Account and card numbers, social security numbers and the names of their holders', true),
    ('Health (HIPAA identifiers)', 'The HIPAA identifiers maskd can find: names, dates of birth, social security, telephone and account numbers, emails', true);

INSERT INTO profile_set_expressions (profile_set_id, profile_expression_id)
SELECT s.profile_set_id, e.profile_expression_id
  FROM profile_sets s JOIN profile_expressions e ON e.built_in
 WHERE s.profile_set_name = 'All built-in expressions'
    OR (s.profile_set_name = 'Financial'
        AND e.domain_name IN ('ACCOUNT_NO', 'CREDIT_CARD', 'SSN', 'FIRST_NAME', 'LAST_NAME', 'FULL_NAME'))
    OR (s.profile_set_name = 'Health (HIPAA identifiers)'
        AND e.domain_name IN ('FIRST_NAME', 'LAST_NAME', 'FULL_NAME', 'DOB', 'SSN', 'TELEPHONE_NO', 'ACCOUNT_NO', 'EMAIL'));
