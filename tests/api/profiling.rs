//! Profile expressions and profile sets: the built-in ones, read-only; a user's own, with their
//! regular expressions checked when saved.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestApp, spawn_app};

fn list(body: &Value) -> &Vec<Value> {
    body["responseList"].as_array().unwrap()
}

/// The built-in expression of `domain` at the given level.
fn built_in<'a>(expressions: &'a [Value], domain: &str, data_level: bool) -> &'a Value {
    expressions
        .iter()
        .find(|e| {
            e["domainName"] == domain
                && e["dataLevelProfiling"] == data_level
                && e["createdBy"].is_null()
        })
        .unwrap_or_else(|| panic!("no built-in expression for {domain} (data level {data_level})"))
}

fn regex_of(e: &Value) -> regex::Regex {
    regex::Regex::new(e["regularExpression"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn built_in_expressions_find_names_and_values_and_spare_the_decoys() {
    let app = spawn_app().await;
    let expressions = app.get("/profile-expressions").await;
    assert_eq!(expressions.status, StatusCode::OK);
    let expressions = list(&expressions.body).clone();
    // Column names: (domain, names it finds, names it leaves alone).
    let names: [(&str, &[&str], &[&str]); 14] = [
        (
            "ACCOUNT_NO",
            &["account_number", "acct_no", "AccountNumber", "iban"],
            &["account_type", "accounting"],
        ),
        (
            "CREDIT_CARD",
            &["credit_card", "card_number", "cc_num", "DebitCard", "pan"],
            &["card_type", "discard", "scan"],
        ),
        (
            "DOB",
            &["dob", "birth_date", "date_of_birth", "Birthday", "born_on"],
            &["doble", "reborn", "created_at"],
        ),
        (
            "EMAIL",
            &["email", "e_mail", "customer_email", "EmailAddress"],
            &["mailbox_size", "female"],
        ),
        (
            "FIRST_NAME",
            &["first_name", "given_name", "FirstName", "fname"],
            &["name", "last_name"],
        ),
        (
            "LAST_NAME",
            &["last_name", "surname", "family_name", "lname"],
            &["first_name", "last_updated"],
        ),
        (
            "FULL_NAME",
            &["name", "full_name", "customer_name", "ContactName"],
            &["product_name", "file_name", "username"],
        ),
        (
            "SSN",
            &[
                "ssn",
                "customer_ssn",
                "social_security_number",
                "SocialSecurity",
            ],
            &["lesson", "classname", "session_id"],
        ),
        (
            "TELEPHONE_NO",
            &["phone", "telephone", "mobile_number", "cell", "fax_no"],
            &["cellar", "telemetry", "headphones"],
        ),
        (
            "ADDRESS",
            &[
                "address",
                "street",
                "home_address",
                "ShippingAddress",
                "address_line_1",
            ],
            &["email_address_verified_at", "addressee_count"],
        ),
        (
            "IP_ADDRESS",
            &["ip", "ip_address", "remote_addr", "client_ipv4"],
            &["zip", "ship_to", "tip"],
        ),
        (
            "NUMBER",
            &["salary", "annual_income", "Bonus", "age", "credit_score"],
            &["amount", "page", "usage", "quantity"],
        ),
        (
            "NULL_VALUE",
            &[
                "password",
                "password_hash",
                "api_key",
                "pin",
                "SecurityAnswer",
            ],
            &["passenger", "spinner", "keyboard"],
        ),
        (
            "FREE_TEXT",
            &["notes", "comment", "gift_message", "memo", "Remarks"],
            &["denote", "annotation", "messages_sent"],
        ),
    ];
    for (domain, found, spared) in names {
        let r = regex_of(built_in(&expressions, domain, false));
        for n in found {
            assert!(r.is_match(n), "{domain} finds the column name {n}");
        }
        for n in spared {
            assert!(!r.is_match(n), "{domain} spares the column name {n}");
        }
    }
    // Values: (domain, values it finds, values it leaves alone).
    let values: [(&str, &[&str], &[&str]); 14] = [
        (
            "ACCOUNT_NO",
            &["DE89370400440532013000", "GB29 NWBK 6016 1331 9268 19"],
            &["12345", "Deluxe Widget"],
        ),
        (
            "CREDIT_CARD",
            &[
                "4111111111111111",
                "5500-0000-0000-0004",
                "3400 000000 00009",
            ],
            &["1234", "SKU-88213-BLK"],
        ),
        (
            "DOB",
            &["1980-02-29", "2001-12-31"],
            &["29/02/1980", "1980-13-01", "yesterday"],
        ),
        (
            "EMAIL",
            &["jane.doe@example.com", "x+tag@mail.co.uk"],
            &["jane.doe@", "@example.com", "not an email"],
        ),
        (
            "SSN",
            &["123-45-6789", "123456789"],
            &["1234-56-789", "999-45-6789"],
        ),
        (
            "TELEPHONE_NO",
            &[
                "(212) 555-0123",
                "212-555-0123",
                "+1 212 555 0123",
                "2125550123",
            ],
            &["555-0123", "112-555-0123"],
        ),
        (
            "ADDRESS",
            &[
                "123 Main St",
                "4500 North Oak Avenue Apt 4B",
                "77 Sunset Blvd., Suite 200",
            ],
            &["Deluxe Widget", "2 for 1", "Main St"],
        ),
        (
            "IP_ADDRESS",
            &["10.0.0.1", "192.168.1.254", "93.184.216.34"],
            &["999.1.1.1", "010.1.2.3", "1.2.3"],
        ),
        (
            "NUMBER",
            &["85000.00", "-12", "42"],
            &["1e5", "12 000", "N/A"],
        ),
        (
            "NULL_VALUE",
            &[
                "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
                "$6$rounds=5000$saltsalt$6Zk9t0Zk9t0Zk9t0Zk9t0",
                "pbkdf2_sha256$600000$salt$hash=",
            ],
            &[
                "hunter2",
                "$2b$12$short",
                "5f4dcc3b5aa765d61d8327deb882cf99",
            ],
        ),
        (
            "FREE_TEXT",
            &[
                "Call Mary at (212) 555-0123 before delivery",
                "questions to jane.doe@example.com please",
                "212-555-0123 after five",
            ],
            &[
                "jane.doe@example.com",
                "(212) 555-0123",
                "order 4532015112830366 delayed",
                "please deliver after five",
            ],
        ),
        ("FIRST_NAME", &["Mary", "Jean-Luc"], &["mary", "MARY"]),
        (
            "LAST_NAME",
            &["Smith", "O'Brien", "McDonald"],
            &["smith", "SMITH"],
        ),
        (
            "FULL_NAME",
            &["Mary Smith", "John Q. Public", "Anne-Marie O'Neil"],
            &["Mary", "deluxe widget"],
        ),
    ];
    for (domain, found, spared) in values {
        let r = regex_of(built_in(&expressions, domain, true));
        for v in found {
            assert!(r.is_match(v), "{domain} finds the value {v}");
        }
        for v in spared {
            assert!(!r.is_match(v), "{domain} spares the value {v}");
        }
    }
    // Every built-in domain has built-in expressions at both levels.
    for d in list(&app.get("/domains").await.body) {
        let d = d["domainName"].as_str().unwrap();
        built_in(&expressions, d, false);
        built_in(&expressions, d, true);
    }
    // The built-in sets, each naming built-in expressions only.
    let sets = app.get("/profile-sets").await.body;
    let names: Vec<&str> = list(&sets)
        .iter()
        .map(|s| s["profileSetName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "All built-in expressions",
            "Financial",
            "Health (HIPAA identifiers)"
        ]
    );
    let all = &list(&sets)[0];
    assert_eq!(
        all["profileExpressionIds"].as_array().unwrap().len(),
        expressions.len()
    );
    let domains_of = |set: &Value| -> Vec<String> {
        let mut d: Vec<String> = set["profileExpressionIds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| {
                expressions
                    .iter()
                    .find(|e| e["profileExpressionId"] == *id)
                    .unwrap()["domainName"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        d.dedup();
        d
    };
    assert!(domains_of(&list(&sets)[1]).contains(&"CREDIT_CARD".to_owned()));
    assert!(!domains_of(&list(&sets)[1]).contains(&"DOB".to_owned()));
    assert!(domains_of(&list(&sets)[2]).contains(&"DOB".to_owned()));
}

async fn create_expression(app: &TestApp, body: Value) -> crate::common::app::Answer {
    app.post("/profile-expressions", body).await
}

#[tokio::test]
async fn a_users_expressions_are_checked_and_the_built_in_ones_are_read_only() {
    let app = spawn_app().await;
    let made = create_expression(
        &app,
        json!({"domainName": "EMAIL", "expressionName": "Work email", "regularExpression": "(?i)@corp\\.example$",
               "dataLevelProfiling": true, "profileExpressionId": 1, "createdBy": "someone"}),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{made:?}");
    assert_eq!(
        made.body["createdBy"], "admin",
        "a POST ignores read-only fields"
    );
    assert_ne!(made.body["profileExpressionId"], 1);
    let id = made.body["profileExpressionId"].as_i64().unwrap();
    let path = format!("/profile-expressions/{id}");

    // Bad input: each a 400 (or 409) naming what is wrong, and nothing is stored.
    let before = app.get("/profile-expressions").await.body["_pageInfo"]["total"].clone();
    for (body, status, says) in [
        (
            json!({"domainName": "EMAIL", "expressionName": "x", "regularExpression": "(unclosed"}),
            StatusCode::BAD_REQUEST,
            "unclosed group",
        ),
        (
            json!({"domainName": "EMAIL", "expressionName": "x", "regularExpression": "(?=look)ahead"}),
            StatusCode::BAD_REQUEST,
            "look-around",
        ),
        (
            json!({"domainName": "EMAIL", "expressionName": "x", "regularExpression": "a{1000}{1000}"}),
            StatusCode::BAD_REQUEST,
            "regularExpression is not valid",
        ),
        (
            json!({"domainName": "NO_SUCH", "expressionName": "x", "regularExpression": "x"}),
            StatusCode::BAD_REQUEST,
            "NO_SUCH",
        ),
        (
            json!({"domainName": "EMAIL", "expressionName": "x"}),
            StatusCode::BAD_REQUEST,
            "regularExpression is required",
        ),
        (
            json!({"domainName": "EMAIL", "expressionName": "x", "regularExpression": "x", "colour": 1}),
            StatusCode::BAD_REQUEST,
            "colour",
        ),
        (
            json!({"domainName": "EMAIL", "expressionName": "Work email", "regularExpression": "x"}),
            StatusCode::CONFLICT,
            "already exists",
        ),
    ] {
        let a = create_expression(&app, body.clone()).await;
        assert_eq!(a.status, status, "{body}: {a:?}");
        assert!(a.error_message().contains(says), "{body}: {a:?}");
    }
    assert_eq!(
        app.get("/profile-expressions").await.body["_pageInfo"]["total"],
        before
    );

    // The whole object back changes nothing; a field changes; a bad regex changes nothing.
    let read = app.get(&path).await.body;
    let put = app.put(&path, read.clone()).await;
    assert_eq!((put.status, &put.body), (StatusCode::OK, &read));
    let put = app
        .put(
            &path,
            json!({"regularExpression": "@corp\\.example\\.com$"}),
        )
        .await;
    assert_eq!(
        put.body["regularExpression"], "@corp\\.example\\.com$",
        "{put:?}"
    );
    let bad = app.put(&path, json!({"regularExpression": "[z-a]"})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.get(&path).await.body["regularExpression"],
        "@corp\\.example\\.com$"
    );

    // Built-in expressions cannot change or go.
    let first = app.get("/profile-expressions/1").await.body;
    assert!(first["createdBy"].is_null());
    for a in [
        app.put("/profile-expressions/1", json!({"regularExpression": "x"}))
            .await,
        app.delete("/profile-expressions/1").await,
    ] {
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{a:?}");
        assert!(a.error_message().contains("built in"), "{a:?}");
    }
    assert_eq!(app.get("/profile-expressions/1").await.body, first);
    assert_eq!(
        app.delete("/profile-expressions/999999").await.status,
        StatusCode::NOT_FOUND
    );

    // Eight clients create the same name at once: one expression.
    let creates = (0..8).map(|_| {
        create_expression(
            &app,
            json!({"domainName": "SSN", "expressionName": "Raced", "regularExpression": "^x$"}),
        )
    });
    let answers = futures_util::future::join_all(creates).await;
    let created = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .count();
    let conflicts = answers
        .iter()
        .filter(|a| a.status == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (1, 7));

    assert_eq!(app.delete(&path).await.status, StatusCode::OK);
    assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_users_profile_sets_hold_expressions_that_cannot_go_while_used() {
    let app = spawn_app().await;
    let own = create_expression(
        &app,
        json!({"domainName": "ACCOUNT_NO", "expressionName": "Policy number", "regularExpression": "(?i)^policy_?(no|number)$"}),
    )
    .await
    .body["profileExpressionId"]
        .as_i64()
        .unwrap();
    let made = app
        .post(
            "/profile-sets",
            json!({"profileSetName": "Insurance", "profileExpressionIds": [own, 2, "1", 2], "description": "policies",
                   "profileTypeExpressionIds": [], "classifierIds": []}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{made:?}");
    assert_eq!(
        made.body["profileExpressionIds"],
        json!([1, 2, own]),
        "ids once each, in order"
    );
    assert_eq!(made.body["createdBy"], "admin");
    let id = made.body["profileSetId"].as_i64().unwrap();
    let path = format!("/profile-sets/{id}");
    assert_eq!(app.get(&path).await.body, made.body);

    // Refusals change nothing.
    for (body, status, says) in [
        (
            json!({"profileExpressionIds": [1, 424242]}),
            StatusCode::NOT_FOUND,
            "424242",
        ),
        (
            json!({"profileTypeExpressionIds": [1]}),
            StatusCode::BAD_REQUEST,
            "profileTypeExpressionIds",
        ),
        (
            json!({"classifierIds": [3]}),
            StatusCode::BAD_REQUEST,
            "classifierIds",
        ),
        (
            json!({"profileSetName": "Financial"}),
            StatusCode::CONFLICT,
            "already exists",
        ),
        (
            json!({"createdBy": "mallory"}),
            StatusCode::BAD_REQUEST,
            "createdBy",
        ),
    ] {
        let a = app.put(&path, body.clone()).await;
        assert_eq!(a.status, status, "{body}: {a:?}");
        assert!(a.error_message().contains(says), "{body}: {a:?}");
        assert_eq!(app.get(&path).await.body, made.body, "{body}");
    }
    let bad = app
        .post(
            "/profile-sets",
            json!({"profileSetName": "Bad", "profileExpressionIds": [99999]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::NOT_FOUND, "{bad:?}");
    assert_eq!(app.get("/profile-sets").await.body["_pageInfo"]["total"], 4);

    // The whole object back changes nothing; new ids replace the old ones.
    let put = app.put(&path, made.body.clone()).await;
    assert_eq!((put.status, &put.body), (StatusCode::OK, &made.body));
    let put = app
        .put(
            &path,
            json!({"profileExpressionIds": [own, 3], "description": null}),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{put:?}");
    assert_eq!(
        (
            put.body["profileExpressionIds"].clone(),
            put.body["description"].clone()
        ),
        (json!([3, own]), Value::Null)
    );
    assert_eq!(app.get(&path).await.body, put.body);

    // An expression in use cannot go; once its set is gone, it can.
    let in_use = app.delete(&format!("/profile-expressions/{own}")).await;
    assert_eq!(in_use.status, StatusCode::CONFLICT, "{in_use:?}");
    assert!(in_use.error_message().contains("profile set"), "{in_use:?}");
    let built_in_set = app
        .put("/profile-sets/1", json!({"description": "mine"}))
        .await;
    assert_eq!(built_in_set.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.delete("/profile-sets/1").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(app.delete(&path).await.status, StatusCode::OK);
    assert_eq!(
        app.delete(&format!("/profile-expressions/{own}"))
            .await
            .status,
        StatusCode::OK
    );
}
