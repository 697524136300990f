-- The profiling corpus: four tables of fake personal data and decoys, about 55 columns, whose
-- ground truth is truth.csv beside this file. `SELECT corpus_make('schema', rows)` creates them in
-- `schema` with `rows` rows each (decoys with sensitive-looking names, personal data under names
-- that say nothing). Used by tests/api/profile_quality.rs and bench/bench.py profile.

-- `body` with its Luhn check digit appended.
CREATE OR REPLACE FUNCTION corpus_luhn(body text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    s int := 0;
    d int;
    n int := length(body);
BEGIN
    FOR i IN 1..n LOOP
        d := substr(body, n - i + 1, 1)::int;
        IF i % 2 = 1 THEN
            d := d * 2;
            IF d > 9 THEN d := d - 9; END IF;
        END IF;
        s := s + d;
    END LOOP;
    RETURN body || ((10 - s % 10) % 10)::text;
END $$;

CREATE OR REPLACE FUNCTION corpus_make(schema text, rows int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    firsts text[] := ARRAY['James','Mary','John','Patricia','Robert','Jennifer','Michael','Linda',
        'William','Elizabeth','David','Barbara','Richard','Susan','Joseph','Jessica','Thomas','Sarah',
        'Charles','Karen','Christopher','Nancy','Daniel','Lisa','Matthew','Betty','Anthony','Margaret'];
    lasts text[] := ARRAY['Smith','Johnson','Williams','Jones','Garcia','Miller','Davis','Rodriguez',
        'Martinez','Hernandez','Lopez','Gonzalez','Wilson','Anderson','Taylor','Moore','Jackson',
        'Martin','Lee','Perez','Thompson','Harris','Sanchez','Clark','Ramirez','Lewis','Robinson'];
    streets text[] := ARRAY['Main','Oak','Maple','Cedar','Pine','Elm','Washington','Lake','Hill',
        'Park','Walnut','Sunset','Ridge','Church','Spring','Highland','Meadow','Forest','River','Willow'];
    suffixes text[] := ARRAY['St','Ave','Rd','Blvd','Ln','Dr','Ct','Way','Street','Avenue'];
    areas text[] := ARRAY['212','415','312','617','202','305','713','206','503','404','512','303'];
    products text[] := ARRAY['Deluxe Widget','Basic Gadget','Super Gizmo','Travel Mug','Desk Lamp',
        'Garden Hose','Phone Case','Yoga Mat','Coffee Grinder','Water Bottle'];
    notes text[] := ARRAY['please deliver after five','leave at the front desk',
        'thanks for the quick service','call before delivery','gift wrap requested',
        'fragile handle with care','second attempt tomorrow','no signature needed'];
BEGIN
    EXECUTE format($q$
        CREATE TABLE %1$I.crm_customers (
            id bigint PRIMARY KEY, first_name text, last_name text, full_name text, email text,
            phone text, ssn text, dob date, street text, ip text, card text, contact text, c7 text,
            created_at timestamptz, status text, notes text, credential text)$q$, schema);
    EXECUTE format($q$
        INSERT INTO %1$I.crm_customers
        SELECT g, f, l, f || ' ' || l, lower(f) || '.' || lower(l) || g || '@example.com',
               '(' || $3[1 + g %% 12] || ') ' || (2 + g %% 8)::text || lpad((12 + (g / 8) %% 88)::text, 2, '0') || '-' || lpad((g %% 10000)::text, 4, '0'),
               lpad((1 + (g * 7) %% 664)::text, 3, '0') || '-' || lpad((1 + g %% 99)::text, 2, '0') || '-' || lpad((1 + (g * 13) %% 9998)::text, 4, '0'),
               date '1940-01-01' + (g * 37) %% 24000,
               (100 + g %% 9000)::text || ' ' || $4[1 + g %% 20] || ' ' || $5[1 + (g / 20) %% 10],
               CASE WHEN g %% 2 = 0 THEN '10.' || (g %% 256) || '.' || ((g / 256) %% 256) || '.' || (1 + g %% 254)
                    ELSE '93.' || (g %% 256) || '.' || ((g / 7) %% 256) || '.' || (1 + g %% 254) END,
               corpus_luhn('4' || lpad(((g::bigint * 7919) %% 100000000000000)::text, 14, '0')),
               lower(l) || '_' || g || '@mail.example.org',
               lpad((1 + (g * 11) %% 664)::text, 3, '0') || '-' || lpad((1 + (g * 3) %% 99)::text, 2, '0') || '-' || lpad((1 + (g * 17) %% 9998)::text, 4, '0'),
               now() - g * interval '1 minute',
               (ARRAY['active','pending','closed'])[1 + g %% 3],
               $6[1 + g %% 8],
               '$2b$12$' || left(md5(g::text) || md5('salt' || g), 53)
          FROM generate_series(1, $2) g,
               LATERAL (SELECT $1[1 + g %% 28] AS f, $7[1 + (g / 28) %% 27] AS l) n$q$, schema)
        USING firsts, rows, areas, streets, suffixes, notes, lasts;

    EXECUTE format($q$
        CREATE TABLE %1$I.crm_orders (
            id bigint PRIMARY KEY, order_no text, invoice_no text, amount numeric(10, 2),
            ordered_on date, sku text, name text, tracking uuid, shipping_address text,
            customer_email text, gift_message text, quantity int, delivery_note text)$q$, schema);
    EXECUTE format($q$
        INSERT INTO %1$I.crm_orders
        SELECT g,
               -- A Visa-like 16-digit number whose check digit is wrong.
               left(c, 15) || ((right(c, 1)::int + 1) %% 10)::text,
               (100000000 + g)::text,
               (g * 13 %% 100000) / 100.0,
               current_date - g %% 700,
               'SKU-' || lpad((g %% 99999)::text, 5, '0') || '-' || (ARRAY['BLK','WHT','RED'])[1 + g %% 3],
               $1[1 + g %% 10],
               md5(g::text)::uuid,
               (10 + g %% 990)::text || ' ' || $3[1 + (g / 3) %% 20] || ' ' || $4[1 + g %% 10],
               'buyer' || g || '@shop.example.net',
               $5[1 + (g / 2) %% 8],
               1 + g %% 9,
               CASE g %% 2
                   WHEN 0 THEN 'Call ' || $6[1 + g %% 28] || ' at (' || $7[1 + g %% 12] || ') 555-' || lpad((g %% 10000)::text, 4, '0') || ' before delivery'
                   ELSE 'Questions to ' || lower($6[1 + g %% 28]) || g || '@mail.example.com please' END
          FROM generate_series(1, $2) g,
               LATERAL (SELECT corpus_luhn('4' || lpad(((g::bigint * 104729) %% 100000000000000)::text, 14, '0')) AS c) v$q$, schema)
        USING products, rows, streets, suffixes, notes, firsts, areas;

    EXECUTE format($q$
        CREATE TABLE %1$I.crm_employees (
            id bigint PRIMARY KEY, fname text, surname text, work_phone text, home_ip text,
            birth text, badge_no text, hired_on date, department text, salary numeric(10, 2),
            manager_id bigint, ssn_verified boolean, email_sent_at timestamptz, phone_model text,
            last_login timestamptz)$q$, schema);
    EXECUTE format($q$
        INSERT INTO %1$I.crm_employees
        SELECT g, $1[1 + (g * 5) %% 28], $6[1 + (g * 3) %% 27],
               $3[1 + (g / 3) %% 12] || '-' || (2 + g %% 8)::text || lpad((12 + (g / 5) %% 88)::text, 2, '0') || '-' || lpad(((g * 7) %% 10000)::text, 4, '0'),
               '192.168.' || (g %% 256) || '.' || (1 + (g / 3) %% 254),
               to_char(date '1945-06-01' + (g * 53) %% 22000, 'MM/DD/YYYY'),
               'B' || lpad(g::text, 6, '0'),
               current_date - g %% 1800,
               (ARRAY['Sales','Engineering','Support','Finance','Legal'])[1 + g %% 5],
               40000 + (g * 97) %% 90000,
               1 + g %% 50,
               g %% 2 = 0,
               now() - (g %% 30) * interval '1 day',
               (ARRAY['iPhone 15','Pixel 8','Galaxy S24','Moto G'])[1 + g %% 4],
               now() - (g %% 500) * interval '1 hour'
          FROM generate_series(1, $2) g$q$, schema)
        USING firsts, rows, areas, streets, suffixes, lasts;

    EXECUTE format($q$
        CREATE TABLE %1$I.crm_payments (
            id bigint PRIMARY KEY, card_number text, cardholder text, amount numeric(10, 2),
            currency text, paid_at timestamptz, auth_code text, iban text, reference uuid, memo text)$q$, schema);
    EXECUTE format($q$
        INSERT INTO %1$I.crm_payments
        SELECT g,
               CASE g %% 3
                   WHEN 0 THEN corpus_luhn('5' || (1 + g %% 5)::text || lpad(((g::bigint * 7907) %% 10000000000000)::text, 13, '0'))
                   WHEN 1 THEN corpus_luhn('4' || lpad(((g::bigint * 7901) %% 100000000000000)::text, 14, '0'))
                   ELSE corpus_luhn('37' || lpad(((g::bigint * 7877) %% 1000000000000)::text, 12, '0')) END,
               $1[1 + (g * 7) %% 28] || ' ' || $3[1 + (g * 11) %% 27],
               (g * 31 %% 500000) / 100.0,
               'USD',
               now() - g * interval '5 minutes',
               upper(substr(md5(g::text), 1, 6)),
               'DE' || lpad((10 + g %% 89)::text, 2, '0') || lpad(((g::bigint * 48271) %% 1000000000000000000)::text, 18, '0'),
               md5('ref' || g)::uuid,
               $4[1 + (g / 3) %% 8]
          FROM generate_series(1, $2) g$q$, schema)
        USING firsts, rows, lasts, notes;
END $$;
