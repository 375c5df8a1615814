//! The signed-in person's password confirmation (step-up), lifting a sign-in lock, and
//! sending one queued change at once so that its refusal can be answered on the spot.
//!
//! The server asks for a fresh step-up before a sensitive change to one's own account (a
//! new e-mail, an MFA reset, an API key): it answers `step_up_required`, the UI asks for
//! the password, calls `step_up`, and tries the action once more.

use crate::commands::{AppState, active_connection};
use crate::error::{IpcError, IpcErrorCode};
use gatehouse_client::Error;
use gatehouse_client::api::{OutboxEntry, OutboxState, Resolution, Secret, SignInUnlocked, SteppedUp, codes};

/// Confirms the password (and TOTP code) of the signed-in account for a few minutes.
pub async fn step_up(state: &AppState, password: Secret, totp: Option<String>) -> Result<SteppedUp, IpcError> {
    if password.expose().is_empty() {
        return Err(IpcError::field("password", "Enter your password."));
    }
    let totp = totp.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    let (client, _, _) = active_connection(state).await?;
    match client.step_up(password, totp).await {
        Ok(until) => {
            tracing::info!("password confirmed (step-up)");
            Ok(until)
        }
        // Sign-in's mapping says "Invalid email or password"; here only the password was typed.
        Err(Error::Api(p)) if p.code == codes::INVALID_CREDENTIALS => Err(IpcError::field("password", p.detail)),
        Err(e) => Err(e.into()),
    }
}

/// Lifts the sign-in lock of a user's address.
pub async fn unlock_sign_in(state: &AppState, user_id: String) -> Result<SignInUnlocked, IpcError> {
    let (client, _, _) = active_connection(state).await?;
    Ok(client.unlock_sign_in(&user_id).await?)
}

/// Sends queued change `seq` now, ahead of the queue; a refused one is put back first (the
/// drawer's Retry). `None` once the server confirmed it; the entry while it still waits
/// (offline, busy) or is in conflict. A refusal rejects with the server's code
/// (`step_up_required`, `forbidden`, …) and the change stays in Changes, refused, so it
/// is not lost whatever the UI does next.
pub async fn send_change(state: &AppState, seq: u32) -> Result<Option<OutboxEntry>, IpcError> {
    let (client, cache, shared) = active_connection(state).await?;
    let seq = i64::from(seq);
    match cache.entry(seq).await?.state {
        OutboxState::Failed => cache.settle(seq, &Resolution::ReapplyMine).await?,
        OutboxState::Conflict => {
            return Err(IpcError::new(IpcErrorCode::Invalid, "This change is in conflict: keep theirs, reapply yours or edit it first."));
        }
        OutboxState::Pending => {}
    }
    let mut outcome = client.send_entry(&cache, seq).await;
    // A stale version that nobody else touched is rebased, not sent: one more try sends it.
    if let Ok(out) = &outcome
        && out.confirmed + out.failed + out.conflicts == 0
        && out.retry_at.is_none()
    {
        outcome = client.send_entry(&cache, seq).await;
    }
    shared.touched();
    shared.wake();
    if let Some(problem) = outcome?.refusal {
        return Err(Error::Api(problem).into());
    }
    match cache.entry(seq).await {
        Ok(entry) => Ok(Some(entry)),
        Err(Error::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
