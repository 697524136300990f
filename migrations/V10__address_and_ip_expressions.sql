-- Built-in expressions for the ADDRESS and IP_ADDRESS domains (street addresses and IPv4
-- addresses, which the profiler's validators recognise in the data), in the sets they belong to:
-- all of them, and the HIPAA identifiers (addresses and IP addresses are two of them).
INSERT INTO profile_expressions (domain_name, expression_name, regular_expression, data_level_profiling, built_in) VALUES
    ('ADDRESS', 'Street address (column name)', '(?i)^((street|home|mailing|billing|shipping|postal|customer|work)_?)?(addr(ess)?|street)(_?(line_?)?[12])?$', false, true),
    ('IP_ADDRESS', 'IP address (column name)', '(?i)(^|_)(ip|ip_?addr(ess)?|ipv4|remote_?addr)($|_)', false, true),
    ('ADDRESS', 'Street address (data)', '(?i)^[0-9]{1,6}[a-z]? ([a-z0-9]+ ){1,5}(st|street|ave|avenue|rd|road|blvd|boulevard|ln|lane|dr|drive|ct|court|pl|place|way|ter|terrace|cir|circle|pkwy|parkway|hwy|highway)\.?([ ,].*)?$', true, true),
    ('IP_ADDRESS', 'IPv4 address (data)', '^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$', true, true);

INSERT INTO profile_set_expressions (profile_set_id, profile_expression_id)
SELECT s.profile_set_id, e.profile_expression_id
  FROM profile_sets s JOIN profile_expressions e ON e.built_in AND e.domain_name IN ('ADDRESS', 'IP_ADDRESS')
 WHERE s.built_in AND s.profile_set_name IN ('All built-in expressions', 'Health (HIPAA identifiers)');
