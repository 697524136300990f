-- Built-in expressions at both levels for every built-in domain. The last three domains get theirs,
-- in the set of all built-in expressions:
-- - NUMBER: personal figures (salary, income, age). A number alone is no personal data, so the
--   profiler counts the data-level expression only in a column whose name matches too (the
--   domain is not shown by values alone): `salary` holding numbers is found, `amount` is not.
-- - NULL_VALUE: credentials, which test data should not carry at all: password hashes in the
--   crypt and PHC formats (bcrypt, sha-crypt, argon2, scrypt, PBKDF2) and columns named so.
-- - FREE_TEXT: free text carrying contact details: a word next to an email address or a US
--   telephone number, so that neither a column of emails nor one of phone numbers is FREE_TEXT.
-- And the name domains get the shape of their values at data level, in every built-in set with
-- their column-name expressions; the name-list validator decides in their place, as it does for
-- every built-in data-level expression of a domain it checks.
INSERT INTO profile_expressions (domain_name, expression_name, regular_expression, data_level_profiling, built_in) VALUES
    ('NUMBER', 'Personal figure (column name)', '(?i)(^|_)(salary|salaries|income|wages?|pay_?rate|compensation|bonus|net_?worth|credit_?score|age)($|_)', false, true),
    ('NUMBER', 'Number (data, with a matching column name)', '^[+-]?[0-9]{1,15}(\.[0-9]{1,6})?$', true, true),
    ('NULL_VALUE', 'Credential (column name)', '(?i)(^|_)(password|passwd|pwd|pass_?hash|secret|security_?answer|pin|api_?key|access_?token|refresh_?token)($|_)', false, true),
    ('NULL_VALUE', 'Password hash (data)', '^(\$2[abxy]?\$[0-9]{2}\$[./A-Za-z0-9]{53}|\$(5|6)\$(rounds=[0-9]+\$)?[^$\s]+\$[./A-Za-z0-9]+|\$(argon2(id|i|d)|scrypt|pbkdf2(-sha(1|256|512))?)\$\S+|(pbkdf2_sha(1|256)|argon2|bcrypt(_sha256)?)\$\S+)$', true, true),
    ('FREE_TEXT', 'Free text (column name)', '(?i)(^|_)(notes?|comments?|remarks?|memo|free_?text|narrative|message)($|_)', false, true),
    ('FREE_TEXT', 'Free text with contact details (data)', '(?i)[a-z]{2,}\s(.*\s)?([a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}|(\+?1[ .-]?)?(\([2-9][0-9]{2}\)|[2-9][0-9]{2})[ .-]?[2-9][0-9]{2}[ .-][0-9]{4})($|[^0-9])|(^|[^0-9])([a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}|(\+?1[ .-]?)?(\([2-9][0-9]{2}\)|[2-9][0-9]{2})[ .-]?[2-9][0-9]{2}[ .-][0-9]{4})\s(.*\s)?[a-z]{2,}', true, true),
    ('FIRST_NAME', 'First name shape (data)', '^[A-Z][a-z]+([-''][A-Z]?[a-z]+)?$', true, true),
    ('LAST_NAME', 'Last name shape (data)', '^[A-Z][a-z]*([-'']?[A-Z]?[a-z]+)*$', true, true),
    ('FULL_NAME', 'Full name shape (data)', '^[A-Z][a-z]+([-''][A-Z]?[a-z]+)?( [A-Z]\.?)?( [A-Z][a-z]*([-'']?[A-Z]?[a-z]+)*)+$', true, true);

INSERT INTO profile_set_expressions (profile_set_id, profile_expression_id)
SELECT s.profile_set_id, e.profile_expression_id
  FROM profile_sets s JOIN profile_expressions e ON e.built_in AND e.data_level_profiling
 WHERE s.built_in
   AND (e.domain_name IN ('NUMBER', 'NULL_VALUE', 'FREE_TEXT')
        AND s.profile_set_name = 'All built-in expressions'
     OR e.domain_name IN ('FIRST_NAME', 'LAST_NAME', 'FULL_NAME')
        AND EXISTS (SELECT FROM profile_set_expressions x
                      JOIN profile_expressions n USING (profile_expression_id)
                     WHERE x.profile_set_id = s.profile_set_id AND n.domain_name = e.domain_name));
INSERT INTO profile_set_expressions (profile_set_id, profile_expression_id)
SELECT s.profile_set_id, e.profile_expression_id
  FROM profile_sets s JOIN profile_expressions e ON e.built_in AND NOT e.data_level_profiling
 WHERE s.built_in AND s.profile_set_name = 'All built-in expressions'
   AND e.domain_name IN ('NUMBER', 'NULL_VALUE', 'FREE_TEXT');
