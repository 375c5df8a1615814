//! Settings → Provisioning (issue 20): an admin makes a provisioning key in the app, copies
//! it from the one place it is ever shown, an identity provider provisions with it over
//! SCIM 2.0, and suspending it in the app stops the provider's very next request.

use anyhow::{Result, ensure};
use gatehouse_e2e::{App, Ctx, OWNER_EMAIL, OWNER_PASSWORD, e2e};
use serde_json::{Value, json};

const MEMBER: &str = "member@acme.test";

/// `GET {base}/Users?filter=userName eq "…"` with a bearer key: its status and body.
async fn look_up(http: &reqwest::Client, base: &str, key: &str, user_name: &str) -> Result<(u16, Value)> {
    let res = http.get(format!("{base}/Users")).query(&[("filter", format!("userName eq \"{user_name}\""))]).bearer_auth(key).send().await?;
    let status = res.status().as_u16();
    Ok((status, res.json().await.unwrap_or(Value::Null)))
}

async fn settings(app: &App, server_url: &str) -> Result<()> {
    app.wait_signed_out().await?;
    app.submit_signin(server_url, OWNER_EMAIL, OWNER_PASSWORD).await?;
    app.wait_visible("users-page").await?;
    app.click("nav-settings").await?;
    app.wait_visible("settings-provisioning").await?;
    Ok(())
}

#[test]
fn a_provisioning_key_made_in_settings_provisions_over_scim_until_it_is_suspended() {
    e2e(50, |Ctx { app, server_url, .. }| async move {
        settings(&app, &server_url).await?;
        // The address to give the identity provider.
        let base = app.wait_text("scim-base-url", "the SCIM base URL", |t| t.ends_with("/scim/v2")).await?;
        ensure!(base == format!("{server_url}/scim/v2"), "the app shows {base} for the server {server_url}");

        // Create: named after the provider; the secret is shown once.
        app.wait_visible("api-keys-empty").await?;
        app.fill("api-key-name", "Entra ID").await?;
        app.click("api-key-create").await?;
        // Making a credential asks for the password again (step-up).
        app.wait_visible("step-up-dialog").await?;
        app.fill("step-up-password", OWNER_PASSWORD).await?;
        app.click("step-up-confirm").await?;
        let key = app.wait_text("api-key-secret-value", "the new key's secret", |t| t.starts_with(gatehouse_api::API_KEY_PREFIX)).await?;
        app.wait_text("api-key-name-label", "the new key in the list", |t| t == "Entra ID").await?;

        // The provider looks a person up and creates one, with that key.
        let http = reqwest::Client::new();
        let (status, found) = look_up(&http, &base, &key, MEMBER).await?;
        ensure!(status == 200 && found["totalResults"] == 1, "looking up {MEMBER}: {status} {found}");
        let new = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "provisioned@acme.test",
            "name": {"givenName": "Pat", "familyName": "Provisioned"},
            "emails": [{"value": "provisioned@acme.test", "type": "work", "primary": true}],
            "active": true,
        });
        let res = http.post(format!("{base}/Users")).bearer_auth(&key).json(&new).send().await?;
        ensure!(res.status() == 201, "creating a user over SCIM answered {}", res.status());

        // Done forgets the secret: it is nowhere on the page any more.
        app.click("api-key-secret-done").await?;
        app.poll("the secret to be gone", || async { Ok(app.probe("api-key-secret-value").await?.is_none().then_some(())) }).await?;
        let page = app.call("page source", app.client.source()).await?;
        ensure!(!page.contains(&key), "the secret is still in the page after Done");

        // Suspend it in the app: the provider's next request is refused.
        app.click("api-key-suspend").await?;
        app.click("confirm-api-key-suspend-ok").await?;
        app.wait_text("api-key-status", "the key suspended", |t| t == "Suspended").await?;
        let (status, _) = look_up(&http, &base, &key, MEMBER).await?;
        ensure!(status == 401, "a suspended provisioning key got {status}, not 401");
        // And restored, it works again.
        app.click("api-key-restore").await?;
        app.wait_text("api-key-status", "the key active again", |t| t == "Active").await?;
        let (status, found) = look_up(&http, &base, &key, "provisioned@acme.test").await?;
        ensure!(status == 200 && found["totalResults"] == 1, "after restoring: {status} {found}");
        let person = &found["Resources"][0];
        ensure!(person["name"]["givenName"] == "Pat", "{person}");
        Ok(())
    });
}
