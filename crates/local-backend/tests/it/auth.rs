//! Firebase Auth REST: sign up, sign in, refresh, lookup, update, delete, and the errors.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{Harness, ADMIN, PASSWORD};

#[tokio::test]
async fn sign_up_answers_firebase_shapes_and_creates_the_profile_with_the_grant() {
    let h = Harness::start().await;
    let (status, body) = h
        .auth(
            "signUp",
            json!({ "email": "Ada@Example.com", "password": PASSWORD, "returnSecureToken": true }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["kind"], "identitytoolkit#SignupNewUserResponse");
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(body["expiresIn"], "3600");
    let uid = body["localId"].as_str().unwrap();
    assert_eq!(uid.len(), 28);
    assert!(uid.chars().all(|c| c.is_ascii_alphanumeric()));
    let token = body["idToken"].as_str().unwrap();
    assert_ne!(token, body["refreshToken"].as_str().unwrap());

    let (status, profile) = h.get_doc(token, &format!("users/{uid}")).await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    let fields = &profile["fields"];
    assert_eq!(fields["email"]["stringValue"], "ada@example.com");
    assert_eq!(fields["displayName"], json!({ "nullValue": null }));
    assert_eq!(fields["creditBalance"]["integerValue"], "2000");
    assert_eq!(fields["analyticsOptIn"]["booleanValue"], false);
    assert!(fields["createdAt"]["timestampValue"]
        .as_str()
        .unwrap()
        .ends_with('Z'));

    let ledger = h.list(token, &format!("users/{uid}"), "creditLedger").await;
    assert_eq!(ledger.len(), 1);
    let entry = &ledger[0]["fields"];
    assert_eq!(entry["reason"]["stringValue"], "signup_grant");
    assert_eq!(entry["amount"]["integerValue"], "2000");
    assert_eq!(entry["balanceAfter"]["integerValue"], "2000");
    h.shutdown().await;
}

#[tokio::test]
async fn sign_up_rejects_taken_emails_weak_passwords_and_bad_addresses() {
    let h = Harness::start().await;
    h.sign_up("taken@example.com").await;
    let cases = [
        (
            json!({ "email": "TAKEN@example.com", "password": PASSWORD }),
            "EMAIL_EXISTS",
        ),
        (
            json!({ "email": "new@example.com", "password": "12345" }),
            "WEAK_PASSWORD : Password should be at least 6 characters",
        ),
        (
            json!({ "email": "not-an-email", "password": PASSWORD }),
            "INVALID_EMAIL",
        ),
        (json!({ "email": "new@example.com" }), "MISSING_PASSWORD"),
        (json!({ "password": PASSWORD }), "MISSING_EMAIL"),
    ];
    for (request, message) in cases {
        let (status, body) = h.auth("signUp", request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["code"], 400);
        assert_eq!(body["error"]["message"], message);
        assert_eq!(body["error"]["errors"][0]["message"], message);
    }
    h.shutdown().await;
}

#[tokio::test]
async fn sign_in_accepts_the_password_and_answers_invalid_login_credentials_otherwise() {
    let h = Harness::start().await;
    let account = h.sign_up("grace@example.com").await;
    let (status, body) = h
        .auth(
            "signInWithPassword",
            json!({ "email": "grace@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["localId"], account.uid.as_str());
    assert_eq!(body["registered"], true);
    assert_eq!(body["displayName"], "");
    assert_eq!(body["expiresIn"], "3600");

    for (email, password) in [
        ("grace@example.com", "wrong password"),
        ("nobody@example.com", PASSWORD),
    ] {
        let (status, body) = h
            .auth(
                "signInWithPassword",
                json!({ "email": email, "password": password }),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["message"], "INVALID_LOGIN_CREDENTIALS");
    }
    let (status, body) = h
        .auth(
            "signInWithPassword",
            json!({ "email": "grace@", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["message"], "INVALID_EMAIL");
    h.shutdown().await;
}

#[tokio::test]
async fn refresh_gives_a_new_id_token_and_keeps_the_refresh_token() {
    let h = Harness::start().await;
    let account = h.sign_up("refresh@example.com").await;
    let response = h
        .http
        .post(format!(
            "{}/securetoken.googleapis.com/v1/token?key=fake",
            h.base
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=refresh_token&refresh_token={}",
            account.refresh_token
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], "3600");
    assert_eq!(body["user_id"], account.uid.as_str());
    assert_eq!(body["refresh_token"], account.refresh_token.as_str());
    let fresh = body["id_token"].as_str().unwrap();
    assert_eq!(body["access_token"], fresh);
    assert_ne!(fresh, account.id_token);

    let (status, lookup) = h.auth("lookup", json!({ "idToken": fresh })).await;
    assert_eq!(status, StatusCode::OK, "{lookup}");
    assert_eq!(lookup["users"][0]["localId"], account.uid.as_str());

    let response = h
        .http
        .post(format!("{}/securetoken.googleapis.com/v1/token", h.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=refresh_token&refresh_token=not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["message"], "INVALID_REFRESH_TOKEN");
    h.shutdown().await;
}

#[tokio::test]
async fn lookup_describes_the_user_and_rejects_unknown_tokens() {
    let h = Harness::start().await;
    let account = h.sign_up("lookup@example.com").await;
    let (status, body) = h
        .auth("lookup", json!({ "idToken": account.id_token }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let user = &body["users"][0];
    assert_eq!(user["localId"], account.uid.as_str());
    assert_eq!(user["email"], "lookup@example.com");
    assert_eq!(user["emailVerified"], false);
    assert!(user["createdAt"].as_str().unwrap().parse::<i64>().is_ok());
    assert!(user["lastLoginAt"].as_str().unwrap().parse::<i64>().is_ok());

    let (status, body) = h.auth("lookup", json!({ "idToken": "forged" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["message"], "INVALID_ID_TOKEN");
    h.shutdown().await;
}

#[tokio::test]
async fn update_changes_the_profile_and_a_new_password_signs_other_sessions_out() {
    let h = Harness::start().await;
    let account = h.sign_up("update@example.com").await;
    let (status, body) = h
        .auth(
            "update",
            json!({ "idToken": account.id_token, "displayName": "Ada", "returnSecureToken": true }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["displayName"], "Ada");
    let (_, profile) = h
        .get_doc(&account.id_token, &format!("users/{}", account.uid))
        .await;
    assert_eq!(profile["fields"]["displayName"]["stringValue"], "Ada");

    let (status, body) = h
        .auth("update", json!({ "idToken": account.id_token, "password": "a brand new one", "returnSecureToken": true }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new_token = body["idToken"]
        .as_str()
        .expect("new tokens after a password change");
    let (status, _) = h.auth("lookup", json!({ "idToken": new_token })).await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = h
        .auth("lookup", json!({ "idToken": account.id_token }))
        .await;
    assert_eq!(body["error"]["message"], "INVALID_ID_TOKEN");

    let (_, body) = h
        .auth(
            "signInWithPassword",
            json!({ "email": "update@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(body["error"]["message"], "INVALID_LOGIN_CREDENTIALS");
    let (status, _) = h
        .auth(
            "signInWithPassword",
            json!({ "email": "update@example.com", "password": "a brand new one" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (_, body) = h
        .auth(
            "update",
            json!({ "idToken": new_token, "password": "short" }),
        )
        .await;
    assert_eq!(
        body["error"]["message"],
        "WEAK_PASSWORD : Password should be at least 6 characters"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn send_oob_code_and_delete() {
    let h = Harness::start().await;
    let account = h.sign_up("forgetful@example.com").await;
    let (status, body) = h
        .auth(
            "sendOobCode",
            json!({ "requestType": "PASSWORD_RESET", "email": "forgetful@example.com" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["email"], "forgetful@example.com");

    let (status, body) = h
        .auth("delete", json!({ "idToken": account.id_token }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = h
        .auth("lookup", json!({ "idToken": account.id_token }))
        .await;
    assert_eq!(body["error"]["message"], "INVALID_ID_TOKEN");
    let (_, body) = h
        .auth(
            "signInWithPassword",
            json!({ "email": "forgetful@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(body["error"]["message"], "INVALID_LOGIN_CREDENTIALS");
    h.shutdown().await;
}

/// The pending codes of `email` in the admin listing, as `(requestType, oobCode, oobLink)`.
async fn codes_for(h: &Harness, email: &str) -> Vec<(String, String, String)> {
    let (status, body) = h
        .call(
            Method::GET,
            "/emulator/v1/projects/demo-cleom/oobCodes",
            Some(ADMIN),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["oobCodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["email"] == email)
        .map(|c| {
            let text = |k: &str| c[k].as_str().unwrap().to_string();
            (text("requestType"), text("oobCode"), text("oobLink"))
        })
        .collect()
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_once_and_ends_every_session() {
    let h = Harness::start().await;
    let account = h.sign_up("reset@example.com").await;
    let (status, body) = h
        .auth(
            "sendOobCode",
            json!({ "requestType": "PASSWORD_RESET", "email": "Reset@Example.com" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["email"], "reset@example.com");
    // An unknown address answers alike and gets no code.
    let (status, _) = h
        .auth(
            "sendOobCode",
            json!({ "requestType": "PASSWORD_RESET", "email": "nobody@example.com" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(codes_for(&h, "nobody@example.com").await.is_empty());

    let codes = codes_for(&h, "reset@example.com").await;
    let [(request_type, code, link)] = &codes[..] else {
        panic!("one code: {codes:?}")
    };
    assert_eq!(request_type, "PASSWORD_RESET");
    // The app's own link, as Firebase's action URL setting makes them.
    assert_eq!(
        link,
        &format!("cleom://auth/action?mode=resetPassword&oobCode={code}&lang=en")
    );

    // Checking the code, or a password too short, uses nothing up.
    let (status, body) = h.auth("resetPassword", json!({ "oobCode": code })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["email"], "reset@example.com");
    assert_eq!(body["requestType"], "PASSWORD_RESET");
    let (_, body) = h
        .auth(
            "resetPassword",
            json!({ "oobCode": code, "newPassword": "123" }),
        )
        .await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("WEAK_PASSWORD"));

    let (status, body) = h
        .auth(
            "resetPassword",
            json!({ "oobCode": code, "newPassword": "a new horse" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["email"], "reset@example.com");
    assert!(body.get("idToken").is_none(), "no tokens: {body}");
    let (_, body) = h
        .auth(
            "resetPassword",
            json!({ "oobCode": code, "newPassword": "another horse" }),
        )
        .await;
    assert_eq!(
        body["error"]["message"], "INVALID_OOB_CODE",
        "a code works once"
    );
    assert!(codes_for(&h, "reset@example.com").await.is_empty());

    let sign_in = |password: &'static str| {
        h.auth(
            "signInWithPassword",
            json!({ "email": "reset@example.com", "password": password, "returnSecureToken": true }),
        )
    };
    let (_, body) = sign_in(PASSWORD).await;
    assert_eq!(body["error"]["message"], "INVALID_LOGIN_CREDENTIALS");
    let (status, body) = sign_in("a new horse").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["localId"], account.uid);
    let (_, body) = h
        .auth("lookup", json!({ "idToken": account.id_token }))
        .await;
    assert_eq!(
        body["error"]["message"], "INVALID_ID_TOKEN",
        "old sessions end"
    );

    // Codes of one kind do nothing for the other; made-up codes nothing at all.
    let (_, body) = h
        .auth(
            "resetPassword",
            json!({ "oobCode": "made-up", "newPassword": "a new horse" }),
        )
        .await;
    assert_eq!(body["error"]["message"], "INVALID_OOB_CODE");
    let (_, body) = h
        .auth("resetPassword", json!({ "newPassword": "x123456" }))
        .await;
    assert_eq!(body["error"]["message"], "MISSING_OOB_CODE");
    h.shutdown().await;
}

#[tokio::test]
async fn malformed_bodies_and_unknown_actions_are_errors_not_crashes() {
    let h = Harness::start().await;
    let (status, body) = h
        .raw_post(
            "/identitytoolkit.googleapis.com/v1/accounts:signUp",
            None,
            "{oops",
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], 400);
    let (status, _) = h
        .raw_post(
            "/identitytoolkit.googleapis.com/v1/accounts:signUp",
            None,
            "[1,2]",
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = h
        .auth("signUp", json!({ "email": 42, "password": PASSWORD }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = h.auth("frobnicate", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = h
        .call(
            Method::GET,
            "/identitytoolkit.googleapis.com/v1/accounts:lookup",
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    // Still serving.
    h.sign_up("after-garbage@example.com").await;
    h.shutdown().await;
}

#[tokio::test]
async fn the_eleventh_wrong_password_in_a_minute_is_too_many_attempts_even_if_right() {
    let h = Harness::start().await;
    let account = h.sign_up("throttled@example.com").await;
    let sign_in = |password: &'static str| {
        h.auth(
            "signInWithPassword",
            json!({ "email": account.email, "password": password, "returnSecureToken": true }),
        )
    };
    for _ in 0..10 {
        let (status, body) = sign_in("wrong").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["message"], "INVALID_LOGIN_CREDENTIALS");
    }
    for password in ["wrong", PASSWORD] {
        let (status, body) = sign_in(password).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let message = body["error"]["message"].as_str().expect("message");
        assert!(
            message.starts_with("TOO_MANY_ATTEMPTS_TRY_LATER"),
            "{message}"
        );
    }
    // Another account is not locked by this one's failures.
    let other = h.sign_up("other@example.com").await;
    let (status, _) = h
        .auth(
            "signInWithPassword",
            json!({ "email": other.email, "password": PASSWORD, "returnSecureToken": true }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}
