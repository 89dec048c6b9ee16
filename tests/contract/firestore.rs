//! Firestore REST and `firestore.rules`: typed values, owner-only reads, server-only fields,
//! preconditions, atomic commits, queries with cursors, lists with page tokens.

use std::collections::BTreeMap;
use std::sync::Arc;

use cleom_core::remote::auth::AuthSession;
use cleom_core::remote::firestore::{
    Direction, FieldOp, Precondition, StructuredQuery, Value, Write,
};

use crate::auth::password;
use crate::support::{check, check_eq, expect_code, unique_email, Outcome};
use crate::targets::Target;

type Fields = BTreeMap<String, Value>;

fn fields<const N: usize>(pairs: [(&str, Value); N]) -> Fields {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// A signed-up user whose profile the admin has (re)written, as the server keeps it.
async fn user_with_profile(
    t: &Target,
    tag: &str,
) -> Result<AuthSession, Box<dyn std::error::Error + Send + Sync>> {
    let email = unique_email(tag);
    let session = t.remote.auth.sign_up(&email, &password()).await?;
    let profile = fields([
        ("email", Value::String(email)),
        ("displayName", Value::Null),
        ("creditBalance", Value::Integer(2000)),
        ("analyticsOptIn", Value::Boolean(false)),
        ("createdAt", Value::Timestamp("2024-01-01T00:00:00Z".into())),
        ("updatedAt", Value::Timestamp("2024-01-01T00:00:00Z".into())),
    ]);
    t.remote
        .firestore
        .patch(
            &format!("users/{}", session.uid),
            &profile,
            None,
            None,
            &t.admin,
        )
        .await?;
    Ok(session)
}

pub async fn typed_values_round_trip(t: Arc<Target>) -> Outcome {
    let fs = &t.remote.firestore;
    let me = user_with_profile(&t, "types").await?;
    let reference = fs.document_name(&format!("users/{}", me.uid));
    let every_type = fields([
        ("string", Value::String("ünïcode ✓ \"quoted\"".into())),
        ("integer", Value::Integer(i64::MAX)),
        ("negative", Value::Integer(-42)),
        ("double", Value::Double(-1.25e10)),
        ("half", Value::Double(0.5)),
        ("yes", Value::Boolean(true)),
        ("nothing", Value::Null),
        (
            "when",
            Value::Timestamp("2024-05-01T10:00:00.123456Z".into()),
        ),
        ("bytes", Value::Bytes(vec![0, 1, 2, 254, 255])),
        ("reference", Value::Reference(reference)),
        (
            "list",
            Value::Array(vec![
                Value::Integer(1),
                Value::String("two".into()),
                Value::Null,
            ]),
        ),
        ("empty_list", Value::Array(Vec::new())),
        (
            "map",
            Value::Map(fields([
                (
                    "nested",
                    Value::Map(fields([("deep", Value::Boolean(false))])),
                ),
                ("n", Value::Integer(7)),
            ])),
        ),
        ("empty_map", Value::Map(Fields::new())),
    ]);
    let path = format!("users/{}/generations/typed", me.uid);
    let written = fs.patch(&path, &every_type, None, None, &t.admin).await?;
    check_eq!(written.fields, every_type, "the write's answer");
    let read = fs.get(&path, &me.id_token).await?.ok_or("the document")?;
    check_eq!(read.fields, every_type, "read back by its owner");
    check!(
        read.update_time.is_some() && read.create_time.is_some(),
        "server times"
    );
    check_eq!(
        fs.get(&format!("users/{}/generations/none", me.uid), &me.id_token)
            .await?,
        None
    );
    Ok(())
}

pub async fn users_read_only_their_own_tree(t: Arc<Target>) -> Outcome {
    let fs = &t.remote.firestore;
    let me = user_with_profile(&t, "me").await?;
    let you = user_with_profile(&t, "you").await?;
    let generation = fields([("prompt", Value::String("yours".into()))]);
    fs.patch(
        &format!("users/{}/generations/g1", you.uid),
        &generation,
        None,
        None,
        &t.admin,
    )
    .await?;

    check!(
        fs.get(&format!("users/{}", me.uid), &me.id_token)
            .await?
            .is_some(),
        "my profile"
    );
    expect_code(
        fs.get(&format!("users/{}", you.uid), &me.id_token).await,
        "permission.denied",
    )?;
    expect_code(
        fs.get(&format!("users/{}/generations/g1", you.uid), &me.id_token)
            .await,
        "permission.denied",
    )?;
    let query = StructuredQuery::from("generations");
    expect_code(
        fs.run_query(&format!("users/{}", you.uid), &query, &me.id_token)
            .await,
        "permission.denied",
    )?;
    check!(
        fs.run_query(&format!("users/{}", me.uid), &query, &me.id_token)
            .await?
            .is_empty(),
        "my (empty) generations"
    );
    expect_code(
        fs.run_query("", &StructuredQuery::from("users"), &me.id_token)
            .await,
        "permission.denied",
    )?;
    expect_code(
        fs.list("users", 10, None, &me.id_token).await,
        "permission.denied",
    )?;
    // Another user's path is denied for writes too, before anything about it is revealed.
    let rename = fields([("displayName", Value::String("pwned".into()))]);
    expect_code(
        fs.patch(
            &format!("users/{}", you.uid),
            &rename,
            Some(&["displayName"]),
            None,
            &me.id_token,
        )
        .await,
        "permission.denied",
    )?;
    check!(
        fs.get(&format!("users/{}", you.uid), &t.admin)
            .await?
            .is_some(),
        "the admin reads anything"
    );
    Ok(())
}

pub async fn clients_cannot_write_server_fields(t: Arc<Target>) -> Outcome {
    let fs = &t.remote.firestore;
    let me = user_with_profile(&t, "greedy").await?;
    let profile = format!("users/{}", me.uid);
    let denied = |write: Write| {
        let fs = fs.clone();
        let token = &me.id_token;
        async move { expect_code(fs.commit(vec![write], token).await, "permission.denied") }
    };
    denied(
        Write::update(
            profile.clone(),
            fields([("creditBalance", Value::Integer(1_000_000))]),
        )
        .mask(["creditBalance"]),
    )
    .await
    .map_err(|e| format!("credits: {e}"))?;
    denied(
        Write::update(
            profile.clone(),
            fields([("email", Value::String("x@y.zz".into()))]),
        )
        .mask(["email"]),
    )
    .await
    .map_err(|e| format!("email: {e}"))?;
    denied(
        Write::update(
            profile.clone(),
            fields([("updatedAt", Value::Timestamp("2020-01-01T00:00:00Z".into()))]),
        )
        .mask(["updatedAt"]),
    )
    .await
    .map_err(|e| format!("a back-dated updatedAt: {e}"))?;
    denied(
        Write::update(
            profile.clone(),
            fields([("displayName", Value::Integer(5))]),
        )
        .mask(["displayName"]),
    )
    .await
    .map_err(|e| format!("a display name of the wrong type: {e}"))?;
    for collection in ["generations", "creditLedger", "purchases"] {
        let path = format!("{profile}/{collection}/mine");
        denied(Write::update(
            path.clone(),
            fields([("status", Value::String("succeeded".into()))]),
        ))
        .await
        .map_err(|e| format!("{collection}: {e}"))?;
    }
    denied(Write::delete(profile.clone()))
        .await
        .map_err(|e| format!("deleting the profile: {e}"))?;
    let stranger = t
        .remote
        .auth
        .sign_up(&unique_email("no-profile"), &password())
        .await?;
    let own = format!("users/{}", stranger.uid);
    // (The local backend creates the profile at sign-up; the Auth emulator does not.)
    fs.delete(&own, &t.admin).await?;
    expect_code(
        fs.commit(
            vec![Write::update(own, fields([("displayName", Value::Null)]))
                .precondition(Precondition::Exists(false))],
            &stranger.id_token,
        )
        .await,
        "permission.denied",
    )
    .map_err(|e| format!("creating one's own profile: {e}"))?;
    let after = fs.get(&profile, &me.id_token).await?.ok_or("the profile")?;
    check_eq!(
        after.fields.get("creditBalance"),
        Some(&Value::Integer(2000)),
        "nothing changed"
    );
    Ok(())
}

pub async fn clients_edit_their_profile_with_the_request_time(t: Arc<Target>) -> Outcome {
    let fs = &t.remote.firestore;
    let me = user_with_profile(&t, "editor").await?;
    let profile = format!("users/{}", me.uid);
    let before = fs.get(&profile, &me.id_token).await?.ok_or("the profile")?;
    let edit = Write::update(
        profile.clone(),
        fields([
            ("displayName", Value::String("Ada".into())),
            ("analyticsOptIn", Value::Boolean(true)),
        ]),
    )
    .mask(["displayName", "analyticsOptIn"])
    .server_time("updatedAt");
    let result = fs.commit(vec![edit], &me.id_token).await?;
    let Some(Value::Timestamp(stamped)) = result.transform_results.first().and_then(|r| r.first())
    else {
        return Err(format!(
            "a REQUEST_TIME transform result, got {:?}",
            result.transform_results
        )
        .into());
    };
    let after = fs.get(&profile, &me.id_token).await?.ok_or("the profile")?;
    check_eq!(after.fields["displayName"], Value::String("Ada".into()));
    check_eq!(after.fields["analyticsOptIn"], Value::Boolean(true));
    check_eq!(after.fields["updatedAt"], Value::Timestamp(stamped.clone()));
    check_eq!(
        after.fields["creditBalance"],
        before.fields["creditBalance"]
    );
    check!(after.update_time != before.update_time, "a new version");
    // Back to no name: null is allowed.
    fs.patch(
        &profile,
        &fields([("displayName", Value::Null)]),
        Some(&["displayName"]),
        None,
        &me.id_token,
    )
    .await?;
    Ok(())
}

pub async fn preconditions_and_atomic_commits(t: Arc<Target>) -> Outcome {
    let fs = &t.remote.firestore;
    let me = user_with_profile(&t, "precise").await?;
    let root = format!("users/{}/purchases", me.uid);
    let one = fields([("credits", Value::Integer(100))]);
    let created = fs
        .patch(
            &format!("{root}/p1"),
            &one,
            None,
            Some(Precondition::Exists(false)),
            &t.admin,
        )
        .await?;
    expect_code(
        fs.patch(
            &format!("{root}/p1"),
            &one,
            None,
            Some(Precondition::Exists(false)),
            &t.admin,
        )
        .await,
        "conflict",
    )
    .map_err(|e| format!("exists: false on an existing document: {e}"))?;
    expect_code(
        fs.patch(
            &format!("{root}/missing"),
            &one,
            None,
            Some(Precondition::Exists(true)),
            &t.admin,
        )
        .await,
        "not_found",
    )
    .map_err(|e| format!("exists: true on a missing document: {e}"))?;

    let version = created.update_time.clone().ok_or("an update time")?;
    let changed = fs
        .commit(
            vec![Write::update(
                format!("{root}/p1"),
                fields([("credits", Value::Integer(200))]),
            )
            .precondition(Precondition::UpdateTime(version.clone()))],
            &t.admin,
        )
        .await?;
    check_eq!(changed.update_times.len(), 1);
    // The same condition again is stale now, and fails the whole commit.
    let stale = fs
        .commit(
            vec![
                Write::update(format!("{root}/p2"), one.clone()),
                Write::update(
                    format!("{root}/p1"),
                    fields([("credits", Value::Integer(300))]),
                )
                .precondition(Precondition::UpdateTime(version)),
            ],
            &t.admin,
        )
        .await;
    expect_code(stale, "conflict").map_err(|e| format!("a stale updateTime: {e}"))?;
    check_eq!(
        fs.get(&format!("{root}/p2"), &me.id_token).await?,
        None,
        "nothing of a failed commit is applied"
    );
    let p1 = fs
        .get(&format!("{root}/p1"), &me.id_token)
        .await?
        .ok_or("p1")?;
    check_eq!(p1.fields["credits"], Value::Integer(200));

    // A delete with a precondition, and deleting what is gone.
    fs.commit(
        vec![Write::delete(format!("{root}/p1")).precondition(Precondition::Exists(true))],
        &t.admin,
    )
    .await?;
    fs.delete(&format!("{root}/p1"), &t.admin).await?;
    check_eq!(fs.get(&format!("{root}/p1"), &t.admin).await?, None);
    Ok(())
}

pub async fn queries_filter_order_and_page_with_cursors(t: Arc<Target>) -> Outcome {
    let fs = &t.remote.firestore;
    let me = user_with_profile(&t, "pager").await?;
    let parent = format!("users/{}", me.uid);
    let mut writes = Vec::new();
    // Seven documents; two share each timestamp, so paging needs the name as tie-breaker.
    for i in 0..7i64 {
        let at = format!("2024-03-0{}T12:00:00Z", 1 + i / 2);
        writes.push(Write::update(
            format!("{parent}/generations/g{i}"),
            fields([
                ("n", Value::Integer(i)),
                ("updatedAt", Value::Timestamp(at)),
            ]),
        ));
    }
    writes.push(Write::update(
        format!("{parent}/generations/untimed"),
        fields([("n", Value::Integer(99))]),
    ));
    fs.commit(writes, &t.admin).await?;

    let cursor = "2024-03-02T12:00:00Z".to_string();
    let page_query = |after: Option<(String, String)>| {
        let mut q = StructuredQuery::from("generations")
            .filter(
                "updatedAt",
                FieldOp::GreaterThanOrEqual,
                Value::Timestamp(cursor.clone()),
            )
            .order_by("updatedAt", Direction::Ascending)
            .order_by("__name__", Direction::Ascending)
            .limit(2);
        if let Some((at, name)) = after {
            q = q.start_at(vec![Value::Timestamp(at), Value::Reference(name)], false);
        }
        q
    };
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = fs
            .run_query(&parent, &page_query(after.clone()), &me.id_token)
            .await?;
        check!(page.len() <= 2, "the limit holds");
        let Some(last) = page.last() else { break };
        let Some(Value::Timestamp(at)) = last.fields.get("updatedAt") else {
            return Err("updatedAt".into());
        };
        after = Some((at.clone(), last.name.clone()));
        seen.extend(page.iter().map(|d| d.id().to_string()));
    }
    check_eq!(
        seen,
        ["g2", "g3", "g4", "g5", "g6"],
        "every match once, in order; no untimed document"
    );

    let big = fs
        .run_query(
            &parent,
            &StructuredQuery::from("generations")
                .filter("n", FieldOp::GreaterThan, Value::Integer(3))
                .filter("n", FieldOp::LessThanOrEqual, Value::Integer(99))
                .order_by("n", Direction::Descending)
                .limit(3),
            &me.id_token,
        )
        .await?;
    let ids: Vec<&str> = big.iter().map(|d| d.id()).collect();
    check_eq!(ids, ["untimed", "g6", "g5"]);
    let exact = fs
        .run_query(
            &parent,
            &StructuredQuery::from("generations").filter("n", FieldOp::Equal, Value::Integer(4)),
            &me.id_token,
        )
        .await?;
    check_eq!(exact.iter().map(|d| d.id()).collect::<Vec<_>>(), ["g4"]);
    Ok(())
}

pub async fn lists_page_with_tokens(t: Arc<Target>) -> Outcome {
    let fs = &t.remote.firestore;
    let me = user_with_profile(&t, "lister").await?;
    let collection = format!("users/{}/creditLedger", me.uid);
    // Whatever the target keeps already (the local backend's sign-up grant) is listed too.
    let before = fs
        .list(&collection, 100, None, &me.id_token)
        .await?
        .documents
        .len();
    let writes = (0..5)
        .map(|i| {
            Write::update(
                format!("{collection}/e{i}"),
                fields([("amount", Value::Integer(i))]),
            )
        })
        .collect();
    fs.commit(writes, &t.admin).await?;
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = fs
            .list(&collection, 2, token.as_deref(), &me.id_token)
            .await?;
        check!(page.documents.len() <= 2, "the page size holds");
        names.extend(page.documents.iter().map(|d| d.name.clone()));
        pages += 1;
        check!(pages < 20, "the pages end");
        match page.next_page_token {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    check_eq!(names.len(), before + 5, "every document once: {names:?}");
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    check_eq!(sorted, names, "in name order, no repeats");
    Ok(())
}
