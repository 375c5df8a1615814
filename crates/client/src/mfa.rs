//! Password resets and TOTP MFA (SPEC U10, U11, C2). Online only: a reset link or a new
//! secret made offline would be no use to anyone.

use crate::auth::Client;
use crate::error::Result;
use crate::sessions::encoded;
use gatehouse_api::{MailMessage, PasswordResetSent, TotpConfirm, TotpEnrollment, User};
use reqwest::Method;

impl Client {
    /// `POST /v1/users/{id}/reset-password`: e-mails the user a single-use link.
    /// `idempotency_key` makes a retry send no second e-mail; `suspend_api_keys` suspends
    /// the user's working API keys too (a leaked password may have leaked them).
    pub async fn reset_password(&self, user_id: &str, idempotency_key: &str, suspend_api_keys: bool) -> Result<PasswordResetSent> {
        let headers = [("idempotency-key", idempotency_key)];
        let path = format!("v1/users/{}/reset-password{}", encoded(user_id), if suspend_api_keys { "?suspend_api_keys=true" } else { "" });
        Ok(self.send_authed_with(Method::POST, &path, None::<&()>, &headers).await?.0)
    }

    /// `POST /v1/users/{id}/reset-mfa`: the user's authenticator and trusted devices stop
    /// working. Returns the user as it is now.
    pub async fn reset_mfa(&self, user_id: &str, idempotency_key: &str) -> Result<User> {
        let headers = [("idempotency-key", idempotency_key)];
        Ok(self.send_authed_with(Method::POST, &format!("v1/users/{}/reset-mfa", encoded(user_id)), None::<&()>, &headers).await?.0)
    }

    /// `POST /v1/me/mfa/totp`: a new secret for the signed-in account's authenticator app.
    pub async fn start_totp(&self) -> Result<TotpEnrollment> {
        Ok(self.send_authed_with(Method::POST, "v1/me/mfa/totp", None::<&()>, &[]).await?.0)
    }

    /// `POST /v1/me/mfa/totp/confirm`: turns MFA on with a current code.
    pub async fn confirm_totp(&self, code: &str) -> Result<User> {
        let body = TotpConfirm { code: code.trim().to_owned() };
        Ok(self.send_authed_with(Method::POST, "v1/me/mfa/totp/confirm", Some(&body), &[]).await?.0)
    }

    /// `GET /v1/dev/mailbox`: a demo server's outgoing mail, newest first.
    pub async fn mailbox(&self) -> Result<Vec<MailMessage>> {
        self.get("v1/dev/mailbox").await
    }
}
